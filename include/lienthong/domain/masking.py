"""Masking of citizens' personal data (names, ID numbers, phones) for logs and screens."""

from __future__ import annotations

import logging
import re

_ID_OR_PHONE = re.compile(r"(?<!\d)(\+?84|0)?\d{8,11}(?!\d)")


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


def mask_text(text: str) -> str:
    """Mask any ID-number- or phone-like digit run in free text."""
    return _ID_OR_PHONE.sub(lambda m: mask_digits(m.group(0)), text)


class PersonalDataFilter(logging.Filter):
    """Defence in depth: lienthong never logs personal data, and this masks any that slips in."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, dict):
            record.args = {
                k: mask_text(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        elif record.args:
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        return True


def get_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(f, PersonalDataFilter) for f in logger.filters):
        logger.addFilter(PersonalDataFilter())
    return logger
