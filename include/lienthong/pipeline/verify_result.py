"""Verification of a signed result PDF before it may be attached (pyHanko).

A result is accepted only when it is a PDF, within the size limit, carries at
least one embedded signature, every signature is intact and valid, the signer
chains to a configured trust root, and the signature covers the entire file
(bytes appended after ``%%EOF`` would otherwise pass unnoticed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import BytesIO

from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext


@dataclass(frozen=True)
class Verdict:
    ok: bool
    sha256: str
    size: int
    reason_code: str | None = None
    message_vi: str | None = None
    detail: str = ""
    signer: str | None = None


def _refuse(content: bytes, code: str, message_vi: str, detail: str) -> Verdict:
    return Verdict(False, hashlib.sha256(content).hexdigest(), len(content), code, message_vi, detail)


def verify_signed_pdf(content: bytes, trust_roots_pem: str, max_bytes: int) -> Verdict:
    """Check a result file; the verdict names a specific reason when it is refused."""
    if len(content) > max_bytes:
        return _refuse(content, "oversized", f"Tệp kết quả quá lớn ({len(content):,} byte, tối đa {max_bytes:,} byte)",
                       f"{len(content)} bytes > limit {max_bytes}")
    if not content.startswith(b"%PDF-"):
        return _refuse(content, "not_pdf", "Tệp kết quả không phải tệp PDF", "no %PDF- header")
    if not trust_roots_pem.strip():
        return _refuse(content, "no_trust_roots", "Chưa cấu hình chứng thư gốc tin cậy để kiểm tra chữ ký số",
                       "no trust roots configured")
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as exc:
        return _refuse(content, "not_pdf", "Tệp PDF bị hỏng, không đọc được", f"unreadable PDF: {exc}")
    if not signatures:
        return _refuse(content, "unsigned", "Tệp kết quả chưa được ký số", "no embedded signatures")
    roots = list(load_certs_from_pemder_data(trust_roots_pem.encode()))
    signer = None
    for index, sig in enumerate(signatures):
        validation = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, validation)
        except Exception as exc:  # pyHanko raises several types for broken CMS data
            return _refuse(content, "invalid_signature", "Chữ ký số không hợp lệ", f"signature {index}: {exc}")
        if not status.intact or not status.valid:
            return _refuse(content, "tampered", "Chữ ký số không hợp lệ: tệp đã bị thay đổi sau khi ký",
                           f"signature {index}: intact={status.intact} valid={status.valid}")
        if not status.trusted:
            return _refuse(content, "untrusted",
                           "Chữ ký số không do tổ chức chứng thực tin cậy cấp",
                           f"signature {index}: signer not trusted ({status.trust_problem_indic})")
        if not status.bottom_line:
            return _refuse(content, "invalid_signature", "Chữ ký số không hợp lệ", f"signature {index}: {status}")
        signer = status.signing_cert.subject.human_friendly
        last_coverage = status.coverage
    if last_coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return _refuse(content, "not_entire_file",
                       "Chữ ký số không bao phủ toàn bộ tệp (có dữ liệu thêm vào sau khi ký)",
                       f"coverage {last_coverage}")
    return Verdict(True, hashlib.sha256(content).hexdigest(), len(content), signer=signer)
