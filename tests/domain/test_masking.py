"""Identities masked in every error text kept or logged: e-mails, digit runs, and the names a
caller knows in any spelling (as written, upper case, ASCII-folded into a file name)."""

from __future__ import annotations

import logging

from lienthong.clients.errors import RequestRejected
from lienthong.domain.masking import EMAIL_MASK, NAME_MASK, error_text, get_logger, mask_text

NAME = "Nguyễn Văn An"


def test_known_names_are_masked_in_every_spelling():
    text = (
        "chủ hồ sơ NGUYỄN VĂN AN (nguyễn văn an), tệp CCCD_Nguyen_Van_An.pdf, "
        "Nguyen-Van-An, NGUYEN.VAN.AN; người khác: Nguyễn Văn Bình"
    )
    masked = mask_text(text, [NAME])
    assert masked.count(NAME_MASK) == 5
    assert "Nguyễn Văn Bình" in masked  # only the names the caller knows
    assert "An" not in masked.replace("Nguyễn Văn Bình", "")


def test_emails_and_digit_runs_are_masked_without_names():
    masked = mask_text("gửi annv12@example.com, CCCD 020185123456, ĐT 0912345678, mã 2.000815")
    assert EMAIL_MASK in masked and "annv12" not in masked
    assert "020185123456" not in masked and "0912345678" not in masked
    assert "2.000815" in masked  # a procedure code is not an identity


def test_error_text_keeps_kind_status_and_a_short_masked_excerpt():
    body = f"Chủ hồ sơ {NAME.upper()} (CCCD 020185123456) chưa xác thực. " + "x" * 400
    url = "https://ioffice.example/api/GuiHoSo"
    exc = RequestRejected(f"HTTP 422 from {url}: {body}", url=url, status=422)
    kept = error_text(exc, [NAME])
    assert kept.startswith(f"RequestRejected (status 422) from /api/GuiHoSo: Chủ hồ sơ {NAME_MASK}")
    assert len(kept) < 200 and NAME.upper() not in kept and "020185123456" not in kept


def test_the_log_filter_masks_exceptions_passed_as_arguments(caplog):
    log = get_logger("lienthong.test_masking")
    caplog.set_level(logging.INFO)
    log.warning("push failed: %s", RequestRejected("echo an.nv@example.com 020185123456"))
    assert "an.nv@example.com" not in caplog.text and "020185123456" not in caplog.text
