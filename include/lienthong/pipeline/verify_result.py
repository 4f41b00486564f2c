"""Verification of a signed result PDF before it may be attached (pyHanko).

A result is accepted only when it is a PDF, within the size limit, not encrypted, carries
at least one embedded signature, every signature is intact and valid, every signer chains
to a configured trust root with a certificate that was neither expired nor (when a CRL is
configured) revoked, nothing was changed in a later revision, the last signature covers
the entire file (bytes appended after ``%%EOF`` would otherwise pass unnoticed), and the
person the routing names as the unit's signer is among the signers.

Each refusal has its own reason code, so an official reads what is wrong with the file and
an operator knows whom to call (the sender re-issues; the trust roots or the routing
change). Pure: the caller supplies the trust roots, the CRLs and the expected signer.

Who signed: a certificate's subject UID (OID 0.9.2342.19200300.100.1.1) must equal the
routed signer's account. A certificate without a UID is matched on its common name against
the routed signer's name (case-insensitive, Unicode-normalised); anything else is
``wrong_signer``. Other trusted signatures (an issuing clerk's, an organisation seal) may sit
beside the signer's own.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from asn1crypto.crl import CertificateList
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

# Seconds a file's verification may take. A genuine result (a few signatures, at most the size
# limit) takes well under 5 s even when 8 share two cores; pyHanko has no time cap of its own.
VERIFY_TIME_LIMIT = 60.0
# pyHanko's trust problem indications (AdES sub-indications), by what they mean to us.
REVOKED_INDICATIONS = frozenset({"REVOKED", "REVOKED_NO_POE", "REVOKED_CA_NO_POE"})
EXPIRED_INDICATIONS = frozenset({"EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED"})
# The revocation status cannot be told yet: the CA's CRL is past its nextUpdate (published late).
# Not the signer's fault and not the trust roots': a fresh CRL settles it, so it is re-checked on a
# timer, unlike an untrusted root, which only a person can settle.
REVOCATION_UNAVAILABLE_INDICATIONS = frozenset({"TRY_LATER"})
# What a later revision may do without voiding the signature before it: add signatures, DSS data.
HARMLESS_LATER_CHANGES = frozenset(
    {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    sha256: str
    size: int
    reason_code: str | None = None
    message_vi: str | None = None
    detail: str = ""
    signer: str | None = None


@dataclass(frozen=True)
class ExpectedSigner:
    """The person the routing names as the unit's signer."""

    account: str
    name: str


def oversized_vi(size: int, max_bytes: int) -> str:
    """The officials' message for a result file over the size limit (here, and where a package's
    file is refused on its base64 text before it is decoded)."""
    return f"Tệp kết quả quá lớn ({size:,} byte, tối đa {max_bytes:,} byte)"


def _refuse(content: bytes, code: str, message_vi: str, detail: str) -> Verdict:
    return Verdict(
        False, hashlib.sha256(content).hexdigest(), len(content), code, message_vi, detail
    )


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _values(subject: dict[str, Any], key: str) -> list[str]:
    value = subject.get(key)
    return (
        []
        if value is None
        else [str(v) for v in value]
        if isinstance(value, list)
        else [str(value)]
    )


def signed_by(subject: dict[str, Any], expected: ExpectedSigner) -> bool:
    """Whether a certificate subject (asn1crypto ``Name.native``) is the expected signer (module
    doc)."""
    uids = _values(subject, "user_id")
    if uids:
        return bool(expected.account) and any(_norm(u) == _norm(expected.account) for u in uids)
    return bool(expected.name) and any(
        _norm(cn) == _norm(expected.name) for cn in _values(subject, "common_name")
    )


def _trust_refusal(content: bytes, index: int, indication: Any) -> Verdict:
    name = getattr(indication, "name", str(indication))
    if name in REVOKED_INDICATIONS:
        return _refuse(
            content,
            "revoked_certificate",
            "Chứng thư số của người ký đã bị thu hồi",
            f"signature {index}: signer certificate revoked ({name})",
        )
    if name in EXPIRED_INDICATIONS:
        return _refuse(
            content,
            "expired_certificate",
            "Chứng thư số của người ký đã hết hạn",
            f"signature {index}: signer certificate outside its validity period ({name})",
        )
    if name in REVOCATION_UNAVAILABLE_INDICATIONS:
        return _refuse(
            content,
            "revocation_unavailable",
            "Chưa kiểm tra được chứng thư số của người ký có bị thu hồi hay không: danh sách "
            "chứng thư thu hồi (CRL) của tổ chức chứng thực đã quá hạn cập nhật; hệ thống sẽ tự "
            "kiểm tra lại",
            f"signature {index}: revocation status unknown, the CRL is not fresh ({name})",
        )
    return _refuse(
        content,
        "untrusted",
        "Chữ ký số không do tổ chức chứng thực tin cậy cấp",
        f"signature {index}: signer not trusted ({indication})",
    )


def _modified(content: bytes, index: int, detail: str) -> Verdict:
    return _refuse(
        content,
        "modified_after_signing",
        "Tệp kết quả đã bị chỉnh sửa sau khi ký số",
        f"signature {index}: {detail}",
    )


def _within(seconds: float, check: Callable[[], Verdict]) -> Verdict:
    """``check()`` in a daemon thread, waited for at most ``seconds`` (``TimeoutError`` then).

    Python cannot stop a thread: a check past its deadline is abandoned and runs to its end in the
    background (bounded, as the file is: it was checked against the size limit), holding no lock
    and writing nothing. A daemon thread, not a pool's: an abandoned check never holds up another
    file's or the worker's exit."""
    future: Future[Verdict] = Future()

    def run() -> None:
        try:
            future.set_result(check())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, who re-raises
            future.set_exception(exc)

    threading.Thread(target=run, name="verify-signed-pdf", daemon=True).start()
    return future.result(timeout=seconds)


def verify_signed_pdf(
    content: bytes,
    trust_roots_pem: str,
    max_bytes: int,
    *,
    crls: Sequence[bytes] = (),
    expected_signer: ExpectedSigner | None = None,
    time_limit: float = VERIFY_TIME_LIMIT,
) -> Verdict:
    """Check a result file (:func:`_verify`) within ``time_limit`` seconds: a file whose check
    takes longer is refused as ``verify_timeout``, re-checked on the timer (the slowness may be a
    busy worker's; a hostile file costs at most the limit each time)."""
    try:
        return _within(
            time_limit,
            lambda: _verify(
                content, trust_roots_pem, max_bytes, crls=crls, expected_signer=expected_signer
            ),
        )
    except TimeoutError:
        return _refuse(
            content,
            "verify_timeout",
            f"Kiểm tra chữ ký số vượt quá thời gian cho phép ({time_limit:g} giây); "
            "hệ thống sẽ tự kiểm tra lại",
            f"signature validation unfinished after {time_limit:g} s; abandoned",
        )


def _verify(
    content: bytes,
    trust_roots_pem: str,
    max_bytes: int,
    *,
    crls: Sequence[bytes] = (),
    expected_signer: ExpectedSigner | None = None,
) -> Verdict:
    """Check a result file; the verdict names a specific reason when it is refused.

    ``crls``: DER CRLs of the signers' CA; when given, a certificate that declares revocation
    information must be covered by them (hard-fail) and a revoked one is refused; a CRL past its
    ``nextUpdate`` settles nothing (``revocation_unavailable``, re-checked later).
    ``expected_signer``: None skips the signer check (no route to compare with).
    """
    if len(content) > max_bytes:
        return _refuse(
            content,
            "oversized",
            oversized_vi(len(content), max_bytes),
            f"{len(content)} bytes > limit {max_bytes}",
        )
    if not content.startswith(b"%PDF-"):
        return _refuse(content, "not_pdf", "Tệp kết quả không phải tệp PDF", "no %PDF- header")
    if not trust_roots_pem.strip():
        return _refuse(
            content,
            "no_trust_roots",
            "Chưa cấu hình chứng thư gốc tin cậy để kiểm tra chữ ký số",
            "no trust roots configured",
        )
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        if reader.encrypted:  # before signatures: nothing else can be read, or archived, as it is
            return _refuse(
                content,
                "encrypted",
                "Tệp kết quả bị mã hóa (đặt mật khẩu), không thể kiểm tra và lưu trữ",
                "encrypted PDF (/Encrypt in trailer)",
            )
        signatures = reader.embedded_signatures
        revisions = reader.xrefs.total_revisions
    except (PdfReadError, ValueError, KeyError) as exc:
        return _refuse(
            content, "not_pdf", "Tệp PDF bị hỏng, không đọc được", f"unreadable PDF: {exc}"
        )
    if not signatures:
        return _refuse(content, "unsigned", "Tệp kết quả chưa được ký số", "no embedded signatures")
    roots = list(load_certs_from_pemder_data(trust_roots_pem.encode()))
    crl_objects = [CertificateList.load(der) for der in crls]
    signers: list[dict[str, Any]] = []
    signer_names: list[str] = []
    last_coverage, last_later = None, False
    for index, sig in enumerate(signatures):
        validation = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,
            crls=crl_objects,
            revocation_mode="hard-fail" if crl_objects else "soft-fail",
        )
        try:
            status = validate_pdf_signature(sig, validation)
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many types for broken CMS data
            return _refuse(
                content, "invalid_signature", "Chữ ký số không hợp lệ", f"signature {index}: {exc}"
            )
        if not status.intact or not status.valid:
            return _refuse(
                content,
                "tampered",
                "Chữ ký số không hợp lệ: tệp đã bị thay đổi sau khi ký",
                f"signature {index}: intact={status.intact} valid={status.valid}",
            )
        if not status.trusted:
            return _trust_refusal(content, index, status.trust_problem_indic)
        later = sig.signed_revision < revisions - 1
        if later and (
            status.modification_level not in HARMLESS_LATER_CHANGES or not status.docmdp_ok
        ):
            return _modified(
                content, index, f"later revision changes the document ({status.modification_level})"
            )
        if not status.bottom_line:
            return _refuse(
                content,
                "invalid_signature",
                "Chữ ký số không hợp lệ",
                f"signature {index}: {status}",
            )
        signers.append(status.signing_cert.subject.native)
        signer_names.append(status.signing_cert.subject.human_friendly)
        last_coverage = status.coverage
        last_later = later
    if last_coverage != SignatureCoverageLevel.ENTIRE_FILE:
        if last_later:
            return _modified(
                content,
                len(signatures) - 1,
                f"a later revision is not signed (coverage {last_coverage})",
            )
        return _refuse(
            content,
            "not_entire_file",
            "Chữ ký số không bao phủ toàn bộ tệp (có dữ liệu thêm vào sau khi ký)",
            f"coverage {last_coverage}",
        )
    signer = signer_names[-1]
    if expected_signer is not None:
        matching = [
            n for s, n in zip(signers, signer_names, strict=True) if signed_by(s, expected_signer)
        ]
        if not matching:
            return _refuse(
                content,
                "wrong_signer",
                "Người ký số văn bản không phải người có thẩm quyền ký theo cấu hình liên thông",
                f"none of the {len(signers)} signer(s) is the routed signer account "
                f"{expected_signer.account!r}",
            )
        signer = matching[0]
    return Verdict(True, hashlib.sha256(content).hexdigest(), len(content), signer=signer)
