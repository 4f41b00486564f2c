"""What the link stores of another system's data is an allowlist of what it reads: a quarantined
portal dossier and a settled national record keep no identity, and still show which field was
there."""

from __future__ import annotations

import json

from lienthong.clients import national_shapes
from lienthong.clients.portal_shapes import REMOVED_VI, without_personal_data

RAW = {
    "id": "63882533442e3d437204e52d",
    "code": "000.30.35.H36-221201-0001",
    "dossierStatus": {"id": 2, "name": [{"languageId": 228, "name": "Đã tiếp nhận"}]},
    "applicant": {
        "data": {
            "fullname": "Trần Minh Trang",
            "identityNumber": "12AB",
            "phoneNumber": "0912345678",
            "email": "trangtm@example.com",
            "address": "Thôn Đồng Tâm, xã Hòa Lạc",
            "birthYear": 1985,
            "birthday": "12/03/1985",
            "FULLNAME_UPPER": "TRẦN MINH TRANG",
        }
    },
    "summary": "TRẦN MINH TRANG, sinh ngày 12/03/1985 - Đăng ký khai sinh",
    "procedure": {"id": "p1", "code": "2.000815", "translate": [{"languageId": 228, "name": "X"}]},
    "agency": {"id": "a1", "code": "000.30.35.H36", "name": "UBND xã Hòa Lạc"},
    "acceptedDate": "2022-12-01T08:33:23.046+0700",
    "updatedDate": "2022-12-01T08:33:23.046+0700",
    "task": [{"id": "t1", "NguoiXuLy": "Lê Văn Tư", "NoiDungXuLy": "Trả cho Trần Minh Trang"}],
    "dossierFormFile": [
        {
            "procedureForm": {"name": "Tờ khai đăng ký khai sinh"},
            "file": [{"id": "f1", "filename": "CCCD_Tran_Minh_Trang.pdf"}],
        }
    ],
    "attachment": [{"id": "r1", "filename": "KQ_Tran_Minh_Trang.pdf"}],
    "notes": "gọi TRẦN MINH TRANG",
}


def test_a_quarantined_portal_dossier_keeps_an_allowlist():
    kept = without_personal_data(RAW)
    text = json.dumps(kept, ensure_ascii=False)
    for value in (
        "Trần Minh Trang",
        "TRẦN MINH TRANG",
        "Tran_Minh_Trang",
        "12/03/1985",
        "1985",
        "0912345678",
        "trangtm",
        "Đồng Tâm",
        "12AB",
        "notes",
    ):
        assert value not in text, value
    data = kept["applicant"]["data"]
    assert set(data) == {"fullname", "identityNumber", "phoneNumber", "email"}
    assert set(data.values()) == {REMOVED_VI}  # present, not shown: the bad field still visible
    assert kept["code"] == RAW["code"] and kept["acceptedDate"] == RAW["acceptedDate"]
    assert kept["dossierFormFile"] == [{"procedureForm": {"name": "Tờ khai đăng ký khai sinh"}}]
    assert kept["attachment"] == [{"id": "r1", "filename": REMOVED_VI}]
    assert kept["task"] == [{"id": "t1", "NguoiXuLy": REMOVED_VI, "NoiDungXuLy": REMOVED_VI}]


def test_a_malformed_value_is_shown_by_its_type():
    kept = without_personal_data({**RAW, "agency": "UBND xã", "dossierStatus": {"id": "bốn"}})
    assert kept["agency"] == REMOVED_VI and kept["dossierStatus"] == {"id": "bốn"}


def test_a_settled_national_record_keeps_no_names_of_files():
    body = {
        "MaHoSo": "000.30.35.H36-221201-0001",
        "ChuHoSo": "Trần Minh Trang",
        "MaDoiTuong": "020185123456",
        "TrangThaiHoSo": "2",
        "TaiLieuNop": [{"TenTepDinhKem": "CCCD_Tran_Minh_Trang.pdf"}],
        "DanhSachGiayToKetQua": [
            {
                "TenGiayTo": "KQ_Tran_Minh_Trang.pdf",
                "MaGiayToKetQua": "12/QĐ-UBND",
                "GiayToId": "r1",
            }
        ],
    }
    settled = national_shapes.without_personal_data(body)
    assert "Tran_Minh_Trang" not in str(settled) and "Trần Minh Trang" not in str(settled)
    assert settled["TaiLieuNop"] == [{"TenTepDinhKem": national_shapes.REMOVED_VI}]
    assert settled["DanhSachGiayToKetQua"] == [{"MaGiayToKetQua": "12/QĐ-UBND", "GiayToId": "r1"}]
    assert settled["MaHoSo"] == body["MaHoSo"] and settled["TrangThaiHoSo"] == "2"
    assert national_shapes.without_personal_data(settled) == settled
    assert national_shapes.applicant_names(body) == ("Trần Minh Trang",)
