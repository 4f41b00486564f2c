"""Broken envelopes of an issued result package, for the ``bad_package`` fault.

The file inside may be fine; what is wrong is the package around it, as a buggy or
half-migrated sender would produce: an outcome code outside 01–04, a dossier code that
contradicts the correlation it echoes back, base64 that does not decode, no file or two
files for one decision, a file name carrying a path or the wrong extension, an empty
file. Each variant changes exactly one thing, so the reason lienthong gives can be
compared with the variant served. Choices inside a variant are keyed (by MaVanBan), so
the same document is damaged the same way on every download.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

UNKNOWN_OUTCOMES = ("05", "00", "99")


def _choose(options: tuple[str, ...], key: str) -> str:
    return options[hashlib.sha256(key.encode()).digest()[0] % len(options)]


def damage(
    data: dict[str, Any], variant: str, *, key: str, other_dossier_code: str
) -> dict[str, Any]:
    """A copy of the ``LayGoiTinVanBan`` data of an issued package, broken as ``variant`` says.

    ``other_dossier_code``: the MaHoSo of another document pushed by the link (``code_mismatch``).
    """
    out = copy.deepcopy(data)
    files: list[dict[str, Any]] = out["VanBanDi"]["DinhKem"]
    name = files[0]["Ten"] if files else "ketqua.pdf"
    stem = name.removesuffix(".pdf")
    if variant == "unknown_outcome":
        out["LoaiKetQua"] = _choose(UNKNOWN_OUTCOMES, key)
    elif variant == "code_mismatch":
        out["MaHoSo"] = other_dossier_code  # IDHoSo and ThamSoAn still name this document's dossier
    elif variant == "invalid_base64":
        # A transcoding bug: '+' HTML-escaped, which is valid in neither base64 alphabet.
        b64 = files[0]["Base64"]
        files[0]["Base64"] = b64.replace("+", "&#43;") if "+" in b64 else "&#43;" + b64
    elif variant == "no_file":
        files.clear()
    elif variant == "many_files":
        files.append({"Ten": f"{stem}-ban-sao.pdf", "Base64": files[0]["Base64"]})
    elif variant == "unsafe_file_name":
        files[0]["Ten"] = _choose((f"../../{name}", f"ketqua/{name}", f"C:\\ketqua\\{name}"), key)
    elif variant == "wrong_extension":
        files[0]["Ten"] = _choose((f"{stem}.exe", f"{name}.html"), key)
    elif variant == "empty_file":
        files[0]["Base64"] = ""
    else:
        raise ValueError(f"unknown bad_package variant {variant!r}")
    return out


def other_code(code: str, others: list[str]) -> str:
    """Another linked dossier's code for ``code_mismatch``: the nearest in push order, or (alone) a
    code that differs in its last digit."""
    if others:
        return others[0]
    return code[:-1] + ("1" if code[-1:] != "1" else "2")
