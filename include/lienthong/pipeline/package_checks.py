"""Checks of a result package's envelope, before its file is verified or anything is recorded.

A package may be broken around a perfectly signed file: an outcome code nobody defined, a
dossier code that contradicts the correlation it echoes, a body that is not base64, no
file or two files for one decision, a file name that carries a path or is not a PDF's, an
empty file. Each one is refused with its own reason code (the same names as the stand-in's
fault variants), a message for officials in Vietnamese and a detail for operators in
English; none of them ever reaches the portal. Pure: no I/O, no vendor field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lienthong.clients.ioffice import Package
from lienthong.clients.ioffice_shapes import OVERSIZED_PACKAGE, TOO_DEEP
from lienthong.domain.problem import Problem
from lienthong.domain.vocabulary import PackageOutcome
from lienthong.pipeline.verify_result import oversized_vi

KNOWN_OUTCOMES = frozenset(o.value for o in PackageOutcome)
# Path separators, a drive or stream colon, control characters: a name that is not just a name.
_UNSAFE_NAME = re.compile(r"[/\\:\x00-\x1f\x7f]")
# A package the adapter could not read at all, by why.
UNREADABLE_VI = {
    OVERSIZED_PACKAGE: "Gói tin kết quả quá lớn, vượt giới hạn dung lượng cho phép; không tải về",
    TOO_DEEP: "Gói tin kết quả có cấu trúc dữ liệu lồng nhau quá sâu, không đọc được",
}


PackageProblem = Problem  # what a package check returns; the name says where it was found


@dataclass(frozen=True)
class LinkIdentity:
    """What the store knows of the dossier the package was matched to."""

    dossier_code: str
    dossier_id: str
    doc_id: str | None


def check_package(pkg: Package, link: LinkIdentity) -> PackageProblem | None:
    """The first problem with the package's envelope, or None. File checks apply to issued
    packages. A package that could not be read at all is refused first: nothing else is known."""
    return (
        unreadable_problem(pkg)
        or _envelope_problem(pkg, link)
        or (_file_problem(pkg) if pkg.outcome == PackageOutcome.ISSUED else None)
    )


def unreadable_problem(pkg: Package) -> PackageProblem | None:
    """Why the package could not be read at all (too large, too deep), if it could not."""
    if not pkg.unreadable:
        return None
    message = UNREADABLE_VI.get(pkg.unreadable, "Gói tin kết quả không đọc được")
    return PackageProblem(pkg.unreadable, message, pkg.unreadable_detail)


def _envelope_problem(pkg: Package, link: LinkIdentity) -> PackageProblem | None:
    if pkg.outcome not in KNOWN_OUTCOMES:
        return PackageProblem(
            "unknown_outcome",
            "Gói tin có mã loại kết quả không xác định",
            f"outcome code {pkg.outcome[:10]!r} is not one of {sorted(KNOWN_OUTCOMES)}",
        )
    contradictions = []
    if pkg.dossier_code and pkg.dossier_code != link.dossier_code:
        contradictions.append(f"names dossier {pkg.dossier_code[:80]!r}")
    for label, value in (
        ("correlation", pkg.dossier_id),
        ("declared dossier id", pkg.declared_dossier_id),
    ):
        if value and value != link.dossier_id:
            contradictions.append(f"{label} is another dossier's")
    if link.doc_id and link.doc_id != pkg.doc_id:
        contradictions.append(f"the dossier's document is {link.doc_id!r}")
    if contradictions:
        return PackageProblem(
            "code_mismatch",
            "Mã hồ sơ trong gói tin không khớp với hồ sơ liên thông",
            f"package {pkg.doc_id!r} for dossier {link.dossier_code!r}: "
            + "; ".join(contradictions),
        )
    return None


def _file_problem(pkg: Package) -> PackageProblem | None:
    if not pkg.files:
        return PackageProblem(
            "no_file",
            "Gói tin văn bản đã ban hành không kèm tệp kết quả",
            "issued package carries no file",
        )
    if len(pkg.files) > 1:
        return PackageProblem(
            "many_files",
            "Gói tin có nhiều tệp kết quả cho một văn bản, không xác định được tệp cần đính kèm",
            f"{len(pkg.files)} files for one issued decision",
        )
    file = pkg.files[0]
    if file.too_large:  # judged on its base64 text's length: never decoded
        size, limit = file.too_large
        return PackageProblem(
            "oversized",
            oversized_vi(size, limit),
            f"base64 text encodes {size} bytes > limit {limit} (not decoded)",
        )
    if not file.decoded:
        return PackageProblem(
            "invalid_base64",
            "Nội dung tệp kết quả không giải mã được (dữ liệu base64 bị lỗi)",
            "file body is not valid base64",
        )
    name = file.name.strip()
    if _UNSAFE_NAME.search(name) or name in ("", ".", ".."):
        return PackageProblem(
            "unsafe_file_name",
            "Tên tệp kết quả không hợp lệ (chứa đường dẫn hoặc ký tự không cho phép)",
            f"file name {_shown(name)} is not a plain name",
        )
    if not name.casefold().endswith(".pdf"):
        return PackageProblem(
            "wrong_extension",
            "Tệp kết quả không phải tệp PDF (sai phần mở rộng)",
            f"file name {_shown(name)} does not end in .pdf",
        )
    if not file.content:
        return PackageProblem("empty_file", "Tệp kết quả rỗng (0 byte)", "file is empty (0 bytes)")
    return None


def _shown(name: str) -> str:
    """The name for an operator: quoted, control characters escaped, cut short."""
    return repr(name[:120])
