"""The iOffice stand-in's test certificate authorities.

Issued decisions must carry a real PAdES signature so the pipeline's verification is
exercised for real. A trusted CA issues one certificate per signer account (subject CN =
the signer's name, UID = the account), as a provincial CA issues each official's own;
the decision of a dossier is signed with the certificate of the signer its push named.
The same CA also issues the certificates the ``bad_result`` faults need: an expired
one, a revoked one (listed on the CRL it publishes) and a clerk's (the wrong signer).
A second CA, which nobody trusts, exists only for the ``untrusted`` fault.

Everything, the trusted CA's key included, is kept under ``data_dir/ca/`` so a restart
keeps the same trust root, the same certificates and the same revocation list.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

# Wide validity: the simulated clock may sit in 2022 while validation runs at real time.
_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
_NOT_AFTER = datetime(2045, 12, 31, tzinfo=UTC)
# The ``expired_certificate`` fault: validity ended before any simulated or real signing.
_EXPIRED_AFTER = datetime(2021, 6, 30, tzinfo=UTC)
# The ``revoked_certificate`` fault: revoked (key compromise) before any signing.
_REVOKED_AT = datetime(2021, 7, 1, tzinfo=UTC)
# Declared in every certificate the trusted CA issues, so validators know revocation is by CRL.
# Never fetched from here: lienthong fetches the CRL from its configured ``crl_url`` (the
# stand-in serves it at ``/ca/crl.der``), as a deployment points at its CA's published CRL.
CRL_DISTRIBUTION_POINT = "http://ca.lienthong-standin.invalid/ca/crl.der"
CRL_PATH = "/ca/crl.der"

CertKind = Literal["valid", "expired", "revoked"]


@dataclass(frozen=True)
class SigningIdentity:
    """A signer certificate with its key and the chain up to (and including) its CA."""

    ca_cert_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def _name(cn: str, org: str, uid: str = "") -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Lạng Sơn"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _upper_bound(org)),
        x509.NameAttribute(NameOID.COMMON_NAME, _upper_bound(cn)),
    ]
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))  # 0.9.2342.19200300.100.1.1
    return x509.Name(attrs)


def _upper_bound(text: str, limit: int = 64) -> str:
    """``text`` cut to X.520's upper bound, which ``cryptography`` counts in UTF-8 bytes."""
    return text.encode()[:limit].decode(errors="ignore").strip()


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    if private:
        tmp.chmod(0o600)
    tmp.replace(path)


def _make_ca(ca_cn: str, org: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(ca_cn, org)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, ca_key


def _issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    *,
    not_after: datetime = _NOT_AFTER,
    crl_dp: bool = True,
) -> tuple[x509.Certificate, bytes]:
    """An EC P-256 signing certificate under ``ca_cert`` (fast to sign with and to validate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    if crl_dp:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(CRL_DISTRIBUTION_POINT)], None, None, None
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), _pem_key(key)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


TRUSTED_CN = "Lạng Sơn Test Root CA (lienthong stand-in)"
TRUSTED_ORG = "UBND huyện Hữu Lũng"
DEFAULT_SIGNER = "Chủ tịch UBND huyện Hữu Lũng"


class TrustedCA:
    """The trusted test CA, with its key: issues (and remembers) the signers' certificates and
    publishes the CRL of the revoked ones."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._identities: dict[str, SigningIdentity] = {}
        if not (folder / "ca.key").exists():
            if (folder / "ca.pem").exists():
                # A data dir from before the CA kept its key: it cannot issue, so start a new CA.
                log.warning(
                    "trusted test CA in %s has no key; creating a new CA (new trust root)", folder
                )
            shutil.rmtree(folder, ignore_errors=True)
            cert, key = _make_ca(TRUSTED_CN, TRUSTED_ORG)
            _write(folder / "ca.key", _pem_key(key), private=True)
            _write(folder / "ca.pem", _pem(cert))
        self.ca_cert_pem = (folder / "ca.pem").read_bytes()
        self._ca_cert = x509.load_pem_x509_certificate(self.ca_cert_pem)
        key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._ca_key = key
        self.default = self._identity("signer", _name(DEFAULT_SIGNER, TRUSTED_ORG), "valid")

    def signer(self, account: str, name: str, kind: CertKind = "valid") -> SigningIdentity:
        """The certificate of the official with this account (CN = name, UID = account); one per
        account and kind. No account: a certificate without UID, for the name.

        The first request for an account issues all its kinds at once, so its revoked certificate is
        on the CRL from then on: the store asks at reception (push), long before any fault can sign
        with it, and a CRL fetched after that lists it.
        """
        key = hashlib.sha256(f"{account}\x00{name if not account else ''}".encode()).hexdigest()[
            :20
        ]
        subject = _name(name or DEFAULT_SIGNER, TRUSTED_ORG, account)
        kit = {
            k: self._identity(f"signers/{key}-{k}", subject, k)
            for k in ("revoked", "expired", "valid")
        }
        return kit[kind]

    def clerk(self, unit_code: str, unit_name: str) -> SigningIdentity:
        """The issuing clerk's own certificate for a unit (account ``vanthu.<unit>``): trusted,
        valid, but not the person the routing names as signer."""
        return self.signer(f"vanthu.{unit_code.lower()}", f"Văn thư - {unit_name}")

    def _identity(self, stem: str, subject: x509.Name, kind: CertKind) -> SigningIdentity:
        with self._lock:
            if stem in self._identities:
                return self._identities[stem]
            cert_path, key_path = self.folder / f"{stem}.pem", self.folder / f"{stem}.key"
            if not (cert_path.exists() and key_path.exists()):
                cert, key_pem = _issue(
                    self._ca_cert,
                    self._ca_key,
                    subject,
                    not_after=_EXPIRED_AFTER if kind == "expired" else _NOT_AFTER,
                )
                if kind == "revoked":
                    self._revoke(cert.serial_number)
                _write(key_path, key_pem, private=True)
                _write(cert_path, _pem(cert))
            ident = SigningIdentity(self.ca_cert_pem, cert_path.read_bytes(), key_path.read_bytes())
            self._identities[stem] = ident
            return ident

    def _revoked(self) -> dict[str, str]:
        path = self.folder / "revoked.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _revoke(self, serial: int) -> None:
        revoked = self._revoked() | {str(serial): _REVOKED_AT.isoformat()}
        _write(self.folder / "revoked.json", json.dumps(revoked, indent=1).encode())

    def crl_der(self, now: datetime | None = None, *, stale: bool = False) -> bytes:
        """A fresh CRL (DER) listing every revoked certificate; valid for a day from ``now`` (real
        time, which is what signature validation runs at). ``stale``: the CRL a CA that publishes
        late still serves, its ``nextUpdate`` a day past."""
        now = now or datetime.now(UTC)
        if stale:
            now -= timedelta(days=2)
        with self._lock:
            revoked = self._revoked()
        ca_ski = self._ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._ca_cert.subject)
            .last_update(now - timedelta(hours=1))
            .next_update(now + timedelta(days=1))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        )
        for serial, at in sorted(revoked.items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(datetime.fromisoformat(at))
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(self._ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class TestCAs:
    trusted_ca: TrustedCA
    untrusted: SigningIdentity

    @property
    def trusted(self) -> SigningIdentity:
        """The trusted CA's default signer (documents pushed without a signer account)."""
        return self.trusted_ca.default


_UNTRUSTED_FILES = ("ca.pem", "signer.pem", "signer.key")


def _untrusted(folder: Path) -> SigningIdentity:
    """The CA nobody trusts and its one signer (same name as the district's chairman)."""
    if all((folder / f).exists() for f in _UNTRUSTED_FILES):
        return SigningIdentity(*((folder / f).read_bytes() for f in _UNTRUSTED_FILES))
    org = "Tổ chức không được tin cậy"
    ca_cert, ca_key = _make_ca("Untrusted Test CA (lienthong stand-in)", org)
    cert, key_pem = _issue(ca_cert, ca_key, _name(DEFAULT_SIGNER, org), crl_dp=False)
    ident = SigningIdentity(_pem(ca_cert), _pem(cert), key_pem)
    for name, data in zip(
        _UNTRUSTED_FILES, (ident.ca_cert_pem, ident.cert_pem, ident.key_pem), strict=True
    ):
        _write(folder / name, data, private=name.endswith(".key"))
    return ident


def load_or_create_cas(ca_dir: Path) -> TestCAs:
    """Load the test CAs from ``ca_dir`` (``trusted/``, ``untrusted/``), creating missing ones."""
    cas = TestCAs(
        trusted_ca=TrustedCA(ca_dir / "trusted"), untrusted=_untrusted(ca_dir / "untrusted")
    )
    # The one file an operator points the pipeline at (also served at /_admin/trust-root).
    root = ca_dir / "trust-root.pem"
    if not root.exists() or root.read_bytes() != cas.trusted_ca.ca_cert_pem:
        root.write_bytes(cas.trusted_ca.ca_cert_pem)
    return cas
