"""The iOffice stand-in's test certificate authorities.

Issued decisions must carry a real PAdES signature so the pipeline's verification is
exercised for real. A trusted CA signs them; a second CA, which nobody trusts, exists
only so the ``untrusted`` fault can produce a signature that is valid but not ours.
Both are kept under ``data_dir/ca/`` so a restart keeps the same trust root.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Wide validity: the simulated clock may sit in 2022 while validation runs at real time.
_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=timezone.utc)
_NOT_AFTER = datetime(2045, 12, 31, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SigningIdentity:
    """A signer certificate with its key and the chain up to (and including) its CA."""

    ca_cert_pem: bytes
    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class TestCAs:
    trusted: SigningIdentity
    untrusted: SigningIdentity


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Lạng Sơn"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _make_identity(ca_cn: str, signer_cn: str, org: str) -> SigningIdentity:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(ca_cn, org)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_cn, org)).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return SigningIdentity(
        ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=_pem_key(key),
    )


_FILES = ("ca.pem", "signer.pem", "signer.key")


def _load(folder: Path) -> SigningIdentity | None:
    if not all((folder / f).exists() for f in _FILES):
        return None
    ca, cert, key = ((folder / f).read_bytes() for f in _FILES)
    return SigningIdentity(ca_cert_pem=ca, cert_pem=cert, key_pem=key)


def _save(folder: Path, ident: SigningIdentity) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in zip(_FILES, (ident.ca_cert_pem, ident.cert_pem, ident.key_pem)):
        tmp = folder / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(folder / name)
    (folder / "signer.key").chmod(0o600)


def load_or_create_cas(ca_dir: Path) -> TestCAs:
    """Load the test CAs from ``ca_dir`` (``trusted/``, ``untrusted/``), creating missing ones."""
    specs = {
        "trusted": ("Lạng Sơn Test Root CA (lienthong stand-in)", "Chủ tịch UBND huyện Hữu Lũng",
                    "UBND huyện Hữu Lũng"),
        "untrusted": ("Untrusted Test CA (lienthong stand-in)", "Chủ tịch UBND huyện Hữu Lũng",
                      "Tổ chức không được tin cậy"),
    }
    out: dict[str, SigningIdentity] = {}
    for label, (ca_cn, signer_cn, org) in specs.items():
        folder = ca_dir / label
        ident = _load(folder)
        if ident is None:
            ident = _make_identity(ca_cn, signer_cn, org)
            _save(folder, ident)
        out[label] = ident
    # The one file an operator points the pipeline at (also served at /_admin/trust-root).
    root = ca_dir / "trust-root.pem"
    if not root.exists() or root.read_bytes() != out["trusted"].ca_cert_pem:
        root.write_bytes(out["trusted"].ca_cert_pem)
    return TestCAs(**out)
