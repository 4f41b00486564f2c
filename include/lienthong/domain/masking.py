"""Masking of citizens' personal data (names, ID numbers, phones, e-mail addresses) for logs,
screens and every error text the link keeps.

Free text from another system (an error body, a decision's subject, a file name) may name the
applicant in any spelling: as entered (``Nguyễn Văn An``), in upper case (``NGUYỄN VĂN AN``) or
ASCII-folded into a file name (``CCCD_Nguyen_Van_An.pdf``). Digit runs and e-mail addresses are
recognised by shape; a name only where the caller knows it (the dossier in hand), so callers pass
the names they know. Error texts are kept as their kind, status and a short masked excerpt
(:func:`error_text`), never as the remote body.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

_ID_OR_PHONE = re.compile(r"(?<!\d)(\+?84|0)?\d{8,11}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NAME_SEPARATORS = r"[\s_.\-]+"
NAME_MASK = "[họ tên]"
EMAIL_MASK = "[email]"
ERROR_EXCERPT_CHARS = 120


def mask_digits(value: str | None, keep: int = 3) -> str:
    """`012345678901` -> `*********901`: enough to tell records apart, not to identify."""
    if not value:
        return ""
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def mask_name(name: str | None) -> str:
    """`Nguyễn Văn An` -> `N. V. A.`: initials only."""
    if not name:
        return ""
    return " ".join(part[0] + "." for part in name.split() if part)


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics (``Nguyễn`` -> ``Nguyen``, ``Đ`` -> ``D``): how names
    appear in file names, accounts and e-mail addresses."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for every known name, as written and ASCII-folded, its words
    joined by any run of spaces, underscores, dots or hyphens (``Nguyen_Van_An``)."""
    forms: set[str] = set()
    for name in names:
        words = name.split() if isinstance(name, str) else []
        if not words or len("".join(words)) < 3:  # a lone initial is not a name to hunt for
            continue
        for variant in (words, ascii_fold(" ".join(words)).split()):
            forms.add(_NAME_SEPARATORS.join(re.escape(w) for w in variant))
    if not forms:
        return None
    return re.compile("|".join(sorted(forms, key=len, reverse=True)), re.IGNORECASE)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask e-mail addresses, ID-number- or phone-like digit runs, and the given ``names`` in any
    case or ASCII-folded spelling, in free text."""
    if not text:
        return text
    pattern = _name_pattern(names)
    if pattern is not None:
        text = pattern.sub(NAME_MASK, text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _ID_OR_PHONE.sub(lambda m: mask_digits(m.group(0)), text)


def error_text(
    exc: BaseException, names: Iterable[str] = (), limit: int = ERROR_EXCERPT_CHARS
) -> str:
    """What the link keeps of a failure: its kind, the remote status or error code when one came,
    and a short masked excerpt of its message. A remote system's error body may echo what was sent
    (the applicant's name, identity number…), so it is never kept whole."""
    status, url, message = getattr(exc, "status", None), getattr(exc, "url", ""), str(exc)
    head = type(exc).__name__ + (f" (status {status})" if status is not None else "")
    if url and url in message:  # "HTTP 422 from <url>: <body>": the kind and status say the rest
        message = message.split(url, 1)[1].lstrip(": ")
        head += f" from {urlsplit(url).path}"
    excerpt = " ".join(mask_text(message, names).split())
    if len(excerpt) > limit:
        excerpt = excerpt[: limit - 1] + "…"
    return f"{head}: {excerpt}" if excerpt else head


def _masked_arg(value: object) -> object:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, BaseException):  # logged as %s: its text may carry a remote body
        return mask_text(str(value))
    return value


class PersonalDataFilter(logging.Filter):
    """Defence in depth: lienthong never logs personal data, and this masks any that slips in (the
    same masking as every kept error text, without names: a log line knows none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_masked_arg(a) for a in record.args)
        return True


def get_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(f, PersonalDataFilter) for f in logger.filters):
        logger.addFilter(PersonalDataFilter())
    return logger
