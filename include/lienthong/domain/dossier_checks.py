"""Plausibility checks of a dossier that parsed: what a careless upstream sends that a schema lets
through.

Pure functions, vendor-neutral: text the dashboard, iOffice and the national portal would show
(control characters, markup, absurd lengths) and facts that cannot be true (a dossier received in
the future, due before it was received, a code outside the national format, an agency outside the
district). Each problem is an :class:`InvalidDossier` with its own reason code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from lienthong.domain.dossier import Dossier, InvalidDossier

# ``<agency id>-<yyMMdd>-<sequence>`` (interfaces.md §2), e.g. 000.00.19.H36-221201-0001.
NATIONAL_CODE_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4,6}$"
CLOCK_TOLERANCE = timedelta(hours=1)  # the portal's clock and ours may disagree a little
DEFAULT_MAX_CHARS = 2000
MAX_CHARS = {
    "id": 64,
    "code": 64,
    "fullname": 200,
    "identityNumber": 32,
    "phoneNumber": 32,
    "email": 254,
    "summary": 4000,
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")
_MARKUP = re.compile(
    r"<\s*/?\s*[a-zA-Z!][^<>]{0,200}>|javascript\s*:|\bon[a-z]+\s*=\s*['\"]", re.IGNORECASE
)


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value with its dotted path (list indexes included)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}")


def _leaf(path: str) -> str:
    return next((p for p in reversed(path.split(".")) if not p.isdigit()), path)


def text_problem(raw: dict[str, Any], key: str, code: str | None) -> InvalidDossier | None:
    """The first string of the raw dossier that must not reach officials' screens or iOffice.

    The detail names the field and the offending characters (code points, or the tag), never the
    text around them: it may be an applicant's name.
    """
    for path, text in _strings(raw):
        bad = _CONTROL.search(text)
        if bad:
            point = f"U+{ord(bad.group()):04X}"
            name = unicodedata.name(bad.group(), "control or unpaired surrogate")
            return InvalidDossier(
                "control_characters",
                f"Trường {path} chứa ký tự điều khiển hoặc mã Unicode không hợp lệ",
                f"{path}: {point} ({name}) at offset {bad.start()}",
                key,
                code,
            )
        limit = MAX_CHARS.get(_leaf(path), DEFAULT_MAX_CHARS)
        if len(text) > limit:
            return InvalidDossier(
                "too_long",
                f"Trường {path} dài bất thường ({len(text):,} ký tự, tối đa {limit:,})",
                f"{path}: {len(text)} characters > {limit}",
                key,
                code,
            )
        tag = _MARKUP.search(text)
        if tag:
            return InvalidDossier(
                "markup_in_text",
                f"Trường {path} chứa mã HTML/script: {tag.group()[:60]}",
                f"{path}: markup {tag.group()[:60]!r}",
                key,
                code,
            )
    return None


def fact_problem(
    dossier: Dossier,
    now: datetime,
    code_pattern: str = NATIONAL_CODE_PATTERN,
    agencies: Iterable[str] = (),
) -> InvalidDossier | None:
    """A fact about the dossier that cannot be true; ``agencies`` empty = no district check."""
    key, code = dossier.id, dossier.code

    def bad(reason: str, vi: str, detail: str) -> InvalidDossier:
        return InvalidDossier(reason, vi, detail, key, code)

    if not re.match(code_pattern, dossier.code):
        return bad(
            "bad_dossier_code",
            f"Mã hồ sơ {dossier.code[:64]} không đúng định dạng mã hồ sơ quốc gia",
            f"code {dossier.code[:64]!r} does not match {code_pattern}",
        )
    horizon = now + CLOCK_TOLERANCE
    for label_vi, name, value in (
        ("ngày tiếp nhận", "received_at", dossier.received_at),
        ("ngày cập nhật", "updated_at", dossier.updated_at),
        ("ngày hoàn thành", "finished_at", dossier.finished_at),
    ):
        if value is not None and value > horizon:
            return bad(
                "future_date",
                f"Hồ sơ có {label_vi} ở tương lai ({value:%d/%m/%Y %H:%M})",
                f"{name} {value.isoformat()} is after the portal's now {now.isoformat()}",
            )
    if dossier.due_at is not None and dossier.due_at < dossier.received_at:
        return bad(
            "due_before_received",
            "Ngày hẹn trả trước ngày tiếp nhận hồ sơ",
            f"due {dossier.due_at.isoformat()} < received {dossier.received_at.isoformat()}",
        )
    known = frozenset(agencies)
    if known and dossier.agency_code not in known:
        return bad(
            "unknown_agency",
            f"Đơn vị {dossier.agency_code[:64]} không thuộc địa bàn được cấu hình liên thông",
            f"agency {dossier.agency_code[:64]!r} is not in the routing's agencies",
        )
    return None
