"""The DVCQG adapter's shapes (``clients.national_shapes``): the wire bodies of a record and a
step, the step digest, what a settled record keeps, and the reason of each refusal; no server."""

from __future__ import annotations

from dataclasses import replace

from lienthong.clients import national_shapes as shapes
from lienthong.domain.national_record import Outcome, ResultPaper
from tests.domain.test_national_record import record


def test_record_body_is_all_strings_in_national_dates():
    body = shapes.record_body(
        record(results=(ResultPaper("Giấy khai sinh", "12/GKS", "f1", "https://p/fi/file/f1"),))
    )
    assert body["NgayTiepNhan"] == "20221201080000" and body["NgayHenTra"] == "20221205170000"
    assert (
        body["NgayKetThucXuLy"] == ""
        and body["TrangThaiHoSo"] == "2"
        and body["KenhThucHien"] == "2"
    )
    assert body["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"] == "https://p/fi/file/f1"
    scalars = [v for v in body.values() if not isinstance(v, list)]
    assert all(isinstance(v, str) for v in scalars)


def test_step_body_keeps_long_names_for_the_national_side_to_judge():
    long = replace(record().steps[0], person="N" * 60)
    assert len(shapes.step_body(long)["NguoiXuLy"]) == 60


def test_step_digest_ignores_extra_keys():
    body = shapes.step_body(record().steps[0])
    assert shapes.step_digest(body) == shapes.step_digest(
        {**body, "NhanLuc": "20221201090000", "id": 7}
    )
    assert shapes.step_digest(body) != shapes.step_digest({**body, "NoiDungXuLy": "khác"})


def test_settled_record_body_has_no_personal_data():
    body = shapes.without_personal_data(shapes.record_body(record()))
    assert (
        "Nguyễn Văn An" not in str(body)
        and "012345678901" not in str(body)
        and "0912345678" not in str(body)
    )
    assert body["MaHoSo"] == record().code


def test_refusals_map_to_their_own_reasons():
    assert shapes.refusal(7, "NguoiXuLy vượt quá 50 ký tự").reason_code == "national_too_long"
    assert shapes.refusal(6, "x").reason_code == "national_status_backwards"
    assert shapes.refusal(3, "Thiếu trường bắt buộc: NgayHenTra").message.endswith("NgayHenTra")
    assert (
        shapes.refusal(42, "").outcome == Outcome.REFUSED
        and shapes.refusal(42, "").reason_code == "national_refused"
    )
