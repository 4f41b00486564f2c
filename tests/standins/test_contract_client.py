"""A client written from interfaces.md alone (plain requests, none of lienthong's adapters) works
against the stand-ins started by their command: token -> paged search -> push -> advance the
clock -> package -> validate the signed PDF -> acknowledge."""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

import pytest
import requests
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .test_cli import TOKEN_PATH, Standins, write_settings


@pytest.mark.slow
def test_a_client_following_the_interfaces_document(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    write_settings(settings)
    s = Standins(tmp_path / "data", settings)
    try:
        portal, ioffice = s.portal, f"http://127.0.0.1:{s.ioffice_port}"
        # §1 OIDC client credentials with HTTP Basic client auth.
        token = requests.post(
            portal + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=("cli-client", "cli-secret"),
            timeout=10,
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        requests.post(
            portal + "/_admin/advance", json={"seconds": 10 * 3600}, timeout=30
        ).raise_for_status()
        # §1 Spring-style paging over the search.
        seen, page = [], 0
        while True:
            body = requests.get(
                portal + "/pa/dossier/search",
                headers=bearer,
                timeout=10,
                params={"page": page, "size": 50, "sort": "updatedDate,asc"},
            ).json()
            seen += body["content"]
            if body["last"]:
                break
            page += 1
        assert len(seen) == len({d["id"] for d in seen}) == 300
        dossier = next(
            d for d in seen if d["currentTask"] and d["currentTask"][0].get("mustAttachResultsFile")
        )
        # §3 GuiHoSo with the fields the public link code sends.
        auth = {"Authorization": "Token cli-token"}
        push = {
            "IDHoSo": dossier["id"],
            "MaHoSo": dossier["code"],
            "ChuHoSo": dossier["applicant"]["data"]["fullname"],
            "NguoiNop": dossier["applicant"]["data"]["fullname"],
            "NguoiKy": {"Ten": "Nguyễn Văn Lãnh Đạo", "TaiKhoan": "ldao"},
            "NguoiTrinhKy": "Trần Thị Chuyên Viên",
            "DonVi": {
                "Ten": dossier["agency"]["name"][0]["name"],
                "MaDinhDanh": dossier["agency"]["code"],
            },
            "VanBanDuThao": {
                "TrichYeu": "Dự thảo quyết định",
                "LoaiVanBan": "QĐ",
                "NgayTao": "01/12/2022",
                "DinhKem": [],
            },
            "ThuTuc": dossier["procedure"]["code"],
            "ThamSoAn": "contract-test",
        }
        answer = requests.post(
            ioffice + "/api/lienthong/GuiHoSo", json=push, headers=auth, timeout=10
        ).json()
        assert answer["error"]["code"] == 200
        doc_id = answer["data"]["MaVanBan"]
        again = requests.post(
            ioffice + "/api/lienthong/GuiHoSo", json=push, headers=auth, timeout=10
        )
        assert again.json()["error"]["code"] != 200 and again.json()["data"]["MaVanBan"] == doc_id
        # Time passes in the office until the document is issued (01).
        package = None
        for _ in range(10):
            requests.post(
                ioffice + "/_admin/advance", json={"seconds": 12 * 3600}, timeout=60
            ).raise_for_status()
            listed = requests.get(
                ioffice + "/api/lienthong/LayDanhSachGoiTinVanBan",
                headers=auth,
                timeout=10,
                params={"maDonViCha": "", "top": 100},
            ).json()["data"]
            if any(p["MaVanBan"] == doc_id for p in listed):
                package = requests.get(
                    ioffice + "/api/lienthong/LayGoiTinVanBan",
                    headers=auth,
                    timeout=30,
                    params={"MaVanBan": doc_id},
                ).json()["data"]
                if package["LoaiKetQua"] == "01":
                    break
                requests.post(
                    ioffice + "/api/lienthong/CapNhatTrangThaiVanBan",
                    headers=auth,
                    timeout=10,
                    json={"MaVanBan": doc_id, "TrangThai": "03"},
                )
        assert (
            package is not None and package["LoaiKetQua"] == "01"
        )  # seeded: this document is issued
        assert package["MaHoSo"] == dossier["code"] and package["ThamSoAn"] == "contract-test"
        pdf = base64.b64decode(package["VanBanDi"]["DinhKem"][0]["Base64"])
        # §5 PAdES validated against the served trust root, covering the entire file.
        pem = requests.get(ioffice + "/_admin/trust-root", timeout=10).content
        ctx = ValidationContext(
            trust_roots=list(load_certs_from_pemder_data(pem)),
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        sig = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
        status = validate_pdf_signature(sig, ctx)
        assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        ack = requests.post(
            ioffice + "/api/lienthong/CapNhatTrangThaiVanBan",
            headers=auth,
            timeout=10,
            json={"MaVanBan": doc_id, "TrangThai": "03"},
        ).json()
        assert ack["error"]["code"] == 200
    finally:
        assert s.stop() == 0
