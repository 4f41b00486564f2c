"""The ``malformed`` content fault: dossiers as a careless upstream might send them."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

BROKEN_DATE = "2022-13-45T25:61:00+0700"
UNKNOWN_PROCEDURE = "9.999999"


def _pick(key: str, n: int) -> int:
    return hashlib.sha256(key.encode()).digest()[0] % n


def malform(doc: dict[str, Any], variant: str) -> dict[str, Any]:
    """A damaged copy of ``doc``; the same dossier is always damaged the same way."""
    out = copy.deepcopy(doc)
    key = str(doc.get("id", ""))
    if variant == "missing_field":
        out.pop("code" if _pick(key, 2) == 0 else "procedure", None)
    elif variant == "invalid_field":
        if _pick(key, 2) == 0:
            out["applicant"]["data"]["identityNumber"] = "12AB"
        else:
            out["dossierStatus"] = {"id": 99, "name": [{"languageId": 228, "name": "Không xác định"}]}
    elif variant == "broken_date":
        out["acceptedDate"] = BROKEN_DATE
        out["dueDate"] = BROKEN_DATE
    elif variant == "unknown_procedure":
        out["procedure"]["code"] = UNKNOWN_PROCEDURE
        out["procedure"]["translate"] = [{"languageId": 228, "name": "Thủ tục không có trong danh mục"}]
    else:
        raise ValueError(f"unknown malformed variant {variant!r}")
    return out
