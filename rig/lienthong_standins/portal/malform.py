"""The ``malformed`` content fault: dossiers as a careless upstream might send them.

Each variant is named for the reason code lienthong must quarantine the dossier with; the same
dossier is always damaged the same way (the choice inside a variant is keyed by the dossier id).
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from typing import Any

BROKEN_DATE = "2022-13-45T25:61:00+0700"
UNKNOWN_PROCEDURE = "9.999999"
FOREIGN_AGENCY = {
    "id": "64f0c0ffee0000000000dead",
    "code": "000.99.99.H99",
    "name": [{"languageId": 228, "name": "UBND xã ngoài địa bàn huyện"}],
}
# Required fields a dossier may arrive without (``id`` excepted: the damage is recorded by id).
REQUIRED_FIELDS = ("code", "procedure", "agency", "dossierStatus", "applicant", "acceptedDate")
MARKUP = ("<script>alert('lienthong')</script>", '<img src=x onerror="alert(1)">')
CONTROL = (
    "\x00\x1b[31m",
    "\ud800",
)  # a NUL and an escape sequence; an unpaired surrogate (invalid Unicode)


def _pick(key: str, n: int) -> int:
    return hashlib.sha256(key.encode()).digest()[0] % n


def _shift(value: str, delta: timedelta) -> str:
    """An iGate date moved by ``delta``, in the same ``...SSS+0700`` format."""
    dt = datetime.fromisoformat(value) + delta
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}{dt:%z}"


def _vi_name(value: Any) -> Any:
    return value if isinstance(value, list) and value else [{"languageId": 228, "name": ""}]


def malform(doc: dict[str, Any], variant: str) -> dict[str, Any]:
    """A damaged copy of ``doc``."""
    out = copy.deepcopy(doc)
    key = str(doc.get("id", ""))
    pick = _pick(key, 1 << 8)
    if variant == "missing_field":
        out.pop(REQUIRED_FIELDS[pick % len(REQUIRED_FIELDS)], None)
    elif variant == "invalid_field":
        if pick % 2 == 0:
            out["applicant"]["data"]["identityNumber"] = "12AB"
        else:
            out["applicant"]["data"]["phoneNumber"] = "09x-không-rõ"
    elif variant == "wrong_type":
        choice = pick % 3
        if choice == 0:
            out["dossierStatus"] = {**out["dossierStatus"], "id": "bốn"}
        elif choice == 1:
            out["agency"] = out["agency"]["code"]
        else:
            out["attachment"] = "không có"
    elif variant == "unknown_status":
        out["dossierStatus"] = {
            "id": 99 if pick % 2 else 0,
            "name": [{"languageId": 228, "name": "Không xác định"}],
        }
    elif variant == "broken_date":
        out["acceptedDate"] = BROKEN_DATE
        out["dueDate"] = BROKEN_DATE
    elif variant == "future_date":
        out["acceptedDate"] = _shift(out["updatedDate"], timedelta(days=400))
        for name in ("appointmentDate", "dueDate"):
            if out.get(name):
                out[name] = _shift(out["updatedDate"], timedelta(days=410))
    elif variant == "due_before_received":
        early = _shift(out["acceptedDate"], timedelta(days=-3))
        out["appointmentDate"] = out["dueDate"] = early
    elif variant == "bad_dossier_code":
        out["code"] = (
            out["code"].replace("-", "/") if pick % 2 else "HS" + out["code"].replace(".", "")[-10:]
        )
    elif variant == "unknown_agency":
        out["agency"] = dict(FOREIGN_AGENCY)
    elif variant == "unknown_procedure":
        out["procedure"]["code"] = UNKNOWN_PROCEDURE
        out["procedure"]["translate"] = [
            {"languageId": 228, "name": "Thủ tục không có trong danh mục"}
        ]
    elif variant == "too_long":
        out["summary"] = ("Đề nghị giải quyết hồ sơ " * 4000)[:100_000]
    elif variant == "control_characters":
        out["summary"] = f"{out.get('summary') or ''}{CONTROL[pick % len(CONTROL)]}"
    elif variant == "markup_in_text":
        if pick % 2:
            out["summary"] = f"{MARKUP[0]} {out.get('summary') or ''}"
        else:
            names = copy.deepcopy(_vi_name(out["procedure"].get("translate")))
            names[0]["name"] = f"{names[0]['name']} {MARKUP[1]}"
            out["procedure"]["translate"] = names
    elif variant == "code_changed":
        # Same dossier id, another well-formed code: a portal re-numbering, or two records merged.
        out["code"] = out["code"][:-4] + f"{9000 + pick:04d}"
    else:
        raise ValueError(f"unknown malformed variant {variant!r}")
    return out
