"""The iOffice stand-in over real HTTP: contract, office simulation, signed results, faults."""

from __future__ import annotations

import base64
import io
import re
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import requests
from asn1crypto.crl import CertificateList
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from lienthong.clients.http import RetryPolicy, is_transient
from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings, RevocationUnavailable
from lienthong.clients.ioffice_shapes import to_package
from lienthong_standins.clock import VN_TZ, SimClock
from lienthong_standins.faults import BAD_PACKAGE_VARIANTS, BAD_RESULT_VARIANTS, FaultInjector
from lienthong_standins.ioffice import build
from lienthong_standins.ioffice.pdf import load_cert
from lienthong_standins.serve import ServerThread

TOKEN = "test-token"
START = datetime(2022, 12, 1, 8, 0, tzinfo=VN_TZ)  # a Thursday morning
API = "/api/lienthong"
GET_PKG = f"{API}/LayGoiTinVanBan"
LIST = f"{API}/LayDanhSachGoiTinVanBan"
UNITS = [
    ("000.30.20.H36", "Ủy ban nhân dân huyện Hữu Lũng"),
    ("000.31.20.H36", "Ủy ban nhân dân xã Minh Sơn"),
]


class IOffice:
    """A running stand-in and a requests client for it."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = SimClock(START, speed=0, state_file=data_dir / "clock.json")
        self.injector = FaultInjector()
        self.app, self.store = build(data_dir, self.clock, self.injector, seed=7, token=TOKEN)
        self.server = ServerThread([(self.app, 0)]).start()
        self.port = self.server.ports[0]
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {TOKEN}"

    def stop(self) -> None:
        self.http.close()
        self.server.stop()
        self.store.close()

    def call(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.base + path, **kw)

    def ok(self, method: str, path: str, **kw):
        r = self.call(method, path, **kw)
        assert r.status_code == 200, r.text[:500]
        body = r.json()
        assert body["error"]["code"] == 200
        return body["data"]

    def advance(self, hours: float) -> dict:
        r = self.http.post(
            self.base + "/_admin/advance", json={"seconds": hours * 3600}, timeout=60
        )
        assert r.status_code == 200
        return r.json()

    def faults(self, *rules: dict) -> None:
        r = self.http.post(
            self.base + "/_admin/faults", json={"seed": 1, "rules": list(rules)}, timeout=10
        )
        assert r.status_code == 200

    def push(self, code: str, unit: int = 0, doc_type: str = "QĐ") -> requests.Response:
        return self.call("POST", f"{API}/GuiHoSo", json=push_payload(code, unit, doc_type))

    def listing(self, **params) -> list[dict]:
        return self.ok("GET", LIST, params={"top": 1000, **params})

    def package(self, ma_van_ban: str) -> dict:
        return self.ok("GET", GET_PKG, params={"MaVanBan": ma_van_ban})

    def ack(self, ma_van_ban: str, status: str = "03") -> dict:
        return self.ok(
            "POST",
            f"{API}/CapNhatTrangThaiVanBan",
            json={"MaVanBan": ma_van_ban, "TrangThai": status},
        )


def push_payload(code: str, unit: int = 0, doc_type: str = "QĐ") -> dict:
    unit_code, unit_name = UNITS[unit]
    return {
        "IDHoSo": f"65a1{abs(hash(code)) % 10**20:020x}"[:24],
        "MaHoSo": code,
        "ChuHoSo": "Nguyễn Thị Hương",
        "NguoiNop": "Nguyễn Thị Hương",
        "NguoiKy": {"Ten": "Đoàn Văn Thường", "TaiKhoan": "thuongdv", "ChucVu": "Chủ tịch"},
        "NguoiTrinhKy": "Lê Thị Ngọc Ánh",
        "DonVi": {"Ten": unit_name, "MaDinhDanh": unit_code},
        "VanBanDuThao": {
            "TrichYeu": "Về việc cấp giấy phép xây dựng nhà ở riêng lẻ",
            "LoaiVanBan": doc_type,
            "NgayTao": "01/12/2022",
            "DinhKem": [{"Ten": "du-thao.docx", "Base64": "UEsDBA=="}],
        },
        "ThanhPhanHoSo": [{"Ten": "Đơn đề nghị", "Link": "http://portal/fi/file/1"}],
        "TenHoSo": "Hồ sơ cấp giấy phép xây dựng",
        "ThuTuc": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "ThamSoAn": f"dossier={code}",
        "HccLinkAPI": "http://pipeline/callback",
        "LoaiHSLienthong": "1",
        "HanXuLyVanBan": "08/12/2022",
    }


@pytest.fixture
def ioffice(tmp_path: Path):
    svc = IOffice(tmp_path / "standins")
    yield svc
    svc.stop()


def validate(pdf: bytes, trust_root_pem: bytes, crl: bytes | None = None):
    """(accepted, status) with the pipeline's rule: bottom line and entire-file coverage."""
    vc = ValidationContext(
        trust_roots=[load_cert(trust_root_pem)],
        allow_fetching=False,
        crls=[CertificateList.load(crl)] if crl else [],
        revocation_mode="hard-fail" if crl else "soft-fail",
    )
    sigs = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    if not sigs:
        return False, None
    status = validate_pdf_signature(sigs[0], vc)
    return status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE, status


def pdf_text(pdf: bytes) -> str:
    """Text of the first page, decoded through each font's ToUnicode map (no pypdf here)."""
    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    maps: dict[str, dict[int, str]] = {}
    for name, font in page["/Resources"]["/Font"].items():
        font = font.get_object()
        if "/ToUnicode" not in font:
            continue
        cmap = font["/ToUnicode"].get_object().data.decode("latin-1")
        maps[name.lstrip("/")] = {
            int(a, 16): chr(int(b, 16))
            for a, b in re.findall(r"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]{4})>", cmap)
        }
    content = page["/Contents"].get_object().data.decode("latin-1")
    out, current = [], {}
    for m in re.finditer(r"/(\S+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
        if m.group(1):
            current = maps.get(m.group(1), {})
            continue
        raw = re.sub(
            r"\\([0-7]{1,3}|.)",
            lambda e: (
                chr(int(e.group(1), 8))
                if e.group(1).isdigit()
                else {"n": "\n", "r": "\r", "t": "\t"}.get(e.group(1), e.group(1))
            ),
            m.group(2),
        )
        out.append("".join(current.get(ord(c), c) for c in raw))
    return "\n".join(out)


def issued_document(svc: IOffice, prefix: str, count: int = 6) -> str:
    """Push a few dossiers, let the office work; the MaVanBan of one issued package."""
    for i in range(count):
        assert svc.push(f"{prefix}-{i:04d}").status_code == 200
    svc.advance(24 * 14)
    issued = [p["MaVanBan"] for p in svc.listing() if p["LoaiKetQua"] == "01"]
    assert issued, "no issued package after two weeks"
    return issued[0]


def attachment(pkg: dict) -> bytes:
    (att,) = pkg["VanBanDi"]["DinhKem"]
    assert att["Ten"].endswith(".pdf")
    return base64.b64decode(att["Base64"])


# --- contract ------------------------------------------------------------------------


def test_auth_required(ioffice: IOffice) -> None:
    url = ioffice.base + LIST
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Token {TOKEN}"}):
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == 401 and r.json()["data"] is None
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code
        == 200
    )


def test_push_then_repeated_push_names_existing_document(ioffice: IOffice) -> None:
    r = ioffice.push("000.30.20.H36-221201-0001")
    assert r.status_code == 200
    first = r.json()["data"]
    assert first["MaHoSo"] == "000.30.20.H36-221201-0001" and first["MaVanBan"]

    again = ioffice.push("000.30.20.H36-221201-0001")
    assert again.status_code == 409
    body = again.json()
    assert body["error"]["code"] == 409
    assert body["error"]["internalMessage"] == "HOSO_DA_TON_TAI"
    assert body["data"]["MaVanBan"] == first["MaVanBan"]
    assert (
        first["MaVanBan"] in body["error"]["userMessage"]
        and "Hồ sơ" in body["error"]["userMessage"]
    )

    bad = push_payload("000.30.20.H36-221201-0002")
    del bad["NguoiKy"], bad["VanBanDuThao"]["LoaiVanBan"]
    r = ioffice.call("POST", f"{API}/GuiHoSo", json=bad)
    assert r.status_code == 400
    err = r.json()["error"]
    assert (
        err["code"] == 400
        and "NguoiKy" in err["userMessage"]
        and "LoaiVanBan" in err["userMessage"]
    )
    assert (
        ioffice.ok("GET", f"{API}/TraCuuHoSo", params={"MaHoSo": "000.30.20.H36-221201-0002"})
        is None
    )


def test_packages_appear_with_time_and_stay_until_acknowledged(ioffice: IOffice) -> None:
    code = "000.30.20.H36-221201-0010"
    mvb = ioffice.push(code).json()["data"]["MaVanBan"]
    assert ioffice.listing() == []
    assert (
        ioffice.ok("GET", f"{API}/TraCuuHoSo", params={"MaHoSo": code})["TrangThai"] == "received"
    )
    ioffice.advance(24 * 14)
    listed = ioffice.listing()
    assert [p["MaVanBan"] for p in listed] == [mvb] and listed[0]["MaHoSo"] == code
    pkg = ioffice.package(mvb)
    assert pkg["ThamSoAn"] == f"dossier={code}" and pkg["LoaiKetQua"] == listed[0]["LoaiKetQua"]
    assert ioffice.listing() == listed, "a fetched but unacknowledged package must stay listed"
    ioffice.ack(mvb)
    assert ioffice.listing() == []
    assert ioffice.ack(mvb)["DaXacNhanTruocDo"] is True  # acknowledging again is harmless
    r = ioffice.call(
        "POST", f"{API}/CapNhatTrangThaiVanBan", json={"MaVanBan": "VB-none", "TrangThai": "03"}
    )
    assert r.status_code == 404
    steps = [s["BuocXuLy"] for s in pkg["QuaTrinhXuLy"]]
    assert steps[:3] == ["received", "drafted", "submitted"]


def test_batch_outcomes_numbers_and_later_outcome(ioffice: IOffice) -> None:
    codes = [f"000.30.20.H36-221201-{i:04d}" for i in range(80)]
    for i, code in enumerate(codes):
        assert (
            ioffice.push(code, unit=i % 2, doc_type=("QĐ", "GCN", "GP")[i % 3]).status_code == 200
        )
    ioffice.advance(48)  # Thu 08:00 -> Sat 08:00: two working days
    first = {p["MaVanBan"]: p["LoaiKetQua"] for p in ioffice.listing()}
    kinds = Counter(first.values())
    assert kinds["01"] > 40 and kinds["02"] >= 1 and kinds["03"] >= 1, kinds
    rejected = next(m for m, k in first.items() if k == "03")
    pkg = ioffice.package(rejected)
    assert pkg["LyDo"] and pkg["VanBanDi"]["DinhKem"] == [] and pkg["VanBanDi"]["SoKyHieu"] == ""
    late = [m for m, k in first.items() if k == "02"]
    pkg = ioffice.package(late[0])
    assert (
        pkg["VanBanDi"]["NgayKy"]
        and pkg["VanBanDi"]["SoKyHieu"] == ""
        and pkg["VanBanDi"]["DinhKem"] == []
    )
    for m in first:
        ioffice.ack(m)
    assert ioffice.listing() == []

    ioffice.advance(24 * 14)
    later = {p["MaVanBan"]: p["LoaiKetQua"] for p in ioffice.listing()}
    assert set(late) <= set(later) and all(later[m] == "01" for m in late), (
        "a later outcome must reappear"
    )

    # Numbers: sequential per unit and year, notation <n>/<type>-UBND, in issue order.
    issued = ioffice.ok(
        "GET", f"{API}/DanhSachVanBan", params={"tuNgay": "01/12/2022", "denNgay": "31/12/2022"}
    )
    assert len(issued) >= 70
    for unit_code, _ in UNITS:
        notations = [d["SoKyHieu"] for d in issued if d["DonVi"]["MaDinhDanh"] == unit_code]
        numbers = sorted(int(n.split("/")[0]) for n in notations)
        assert numbers == list(range(1, len(numbers) + 1))
        assert all(re.fullmatch(r"\d+/(QĐ|GCN|GP)-UBND", n) for n in notations)
    unit_filtered = ioffice.listing(maDonViCha="000.31.20.H36")
    assert unit_filtered == [
        p for p in ioffice.listing() if p["MaVanBan"] in {x["MaVanBan"] for x in unit_filtered}
    ]
    stats = ioffice.http.get(ioffice.base + "/_admin/stats", timeout=10).json()
    assert stats["documents"]["total"] == 80 and stats["packages"]["pending"] == len(later)


def test_bypass_documents_listed_without_dossier(ioffice: IOffice) -> None:
    mvb = ioffice.store.add_bypass_document(
        agency_code="000.30.20.H36",
        agency_name="Ủy ban nhân dân huyện Hữu Lũng",
        subject="Về việc giao chỉ tiêu thu ngân sách năm 2023",
        document_type="QĐ",
        created_at=datetime(2022, 12, 1, 9, 0, tzinfo=VN_TZ),
    )
    ioffice.advance(24 * 7)
    docs = ioffice.ok(
        "GET", f"{API}/DanhSachVanBan", params={"tuNgay": "01/12/2022", "denNgay": "08/12/2022"}
    )
    (doc,) = [d for d in docs if d["MaVanBan"] == mvb]
    assert (
        doc["MaHoSo"] == ""
        and doc["TrangThai"] == "issued"
        and doc["SoKyHieu"].endswith("/QĐ-UBND")
    )
    assert ioffice.listing() == [], "a document the link never pushed yields no package"
    assert (
        ioffice.ok(
            "GET", f"{API}/DanhSachVanBan", params={"tuNgay": "09/12/2022", "denNgay": "31/12/2022"}
        )
        == []
    )
    r = ioffice.call(
        "GET", f"{API}/DanhSachVanBan", params={"tuNgay": "2022-12-01", "denNgay": "08/12/2022"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 400


# --- the signed result ---------------------------------------------------------------


def test_issued_pdf_validates_and_reads_vietnamese(ioffice: IOffice) -> None:
    mvb = issued_document(ioffice, "000.30.20.H36-221202")
    pkg = ioffice.package(mvb)
    pdf = attachment(pkg)
    assert pdf == attachment(ioffice.package(mvb)), "downloads must be stable"
    root = requests.get(ioffice.base + "/_admin/trust-root", timeout=10).content
    assert root.startswith(b"-----BEGIN CERTIFICATE-----")

    t0 = time.perf_counter()
    accepted, status = validate(pdf, root)
    elapsed = time.perf_counter() - t0
    assert accepted, status.summary() if status else "no signature"
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    print(f"validate: {elapsed * 1000:.1f} ms")

    i = pdf.find(b"/Producer")
    assert 0 < i
    changed = bytearray(pdf)
    changed[i + 12] ^= 0x01
    assert not validate(bytes(changed), root)[0]
    appended = pdf + b"\n% appended after EOF\n"
    assert not validate(appended, root)[0], "coverage must be the entire file"

    text = pdf_text(pdf)
    van_ban = pkg["VanBanDi"]
    for phrase in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "QUYẾT ĐỊNH",
        "ỦY BAN NHÂN DÂN",
        "HUYỆN HỮU LŨNG",
        f"Số: {van_ban['SoKyHieu']}",
        "Hữu Lũng, ngày",
        pkg["MaHoSo"],
        "Nguyễn Thị Hương",
        "Đoàn Văn Thường",
    ):
        assert phrase in text, phrase
    d, m, y = van_ban["NgayBanHanh"].split("/")
    assert f"ngày {d} tháng {m} năm {y}" in text
    assert b"DejaVuSans" in pdf and b"/FontFile2" in pdf


def subject(status) -> dict:
    return dict(status.signing_cert.subject.native)


def test_every_bad_result_variant(ioffice: IOffice) -> None:
    mvb = issued_document(ioffice, "000.30.20.H36-221203")
    root = requests.get(ioffice.base + "/_admin/trust-root", timeout=10).content
    crl = requests.get(ioffice.base + "/ca/crl.der", timeout=10).content  # published: no auth
    good = attachment(ioffice.package(mvb))
    accepted, status = validate(good, root, crl)
    assert accepted and subject(status)["user_id"] == "thuongdv", (
        "signed with the intended signer's own cert"
    )
    assert subject(status)["common_name"] == "Đoàn Văn Thường"
    served = set()
    for variant in BAD_RESULT_VARIANTS:
        ioffice.faults({"endpoint": GET_PKG, "kind": "bad_result", "variant": variant})
        bad = attachment(ioffice.package(mvb))
        assert bad == attachment(ioffice.package(mvb)), "keyed by MaVanBan: stays the same bad file"
        docs = ioffice.http.get(ioffice.base + "/_admin/documents", timeout=10).json()["documents"]
        served.add(next(d["bad_result_served"] for d in docs if d["MaVanBan"] == mvb))
        if variant == "unsigned":
            assert (
                bad.startswith(b"%PDF") and PdfFileReader(io.BytesIO(bad)).embedded_signatures == []
            )
        elif variant == "tampered":
            assert (
                len(bad) == len(good) and sum(a != b for a, b in zip(bad, good, strict=True)) == 1
            )
            accepted, status = validate(bad, root)
            assert not accepted and not status.intact
        elif variant == "untrusted":
            accepted, status = validate(bad, root)
            assert not accepted and status.intact and not status.trusted
        elif variant == "not_pdf":
            assert bad.lstrip().startswith(b"<!DOCTYPE html>")
            with pytest.raises(PdfReadError):
                _ = PdfFileReader(io.BytesIO(bad)).embedded_signatures
        elif variant == "oversized":
            assert len(bad) > 12 * 1024 * 1024 and not validate(bad, root)[0]
        elif variant == "expired_certificate":
            accepted, status = validate(bad, root, crl)
            assert (
                not accepted
                and status.intact
                and status.trust_problem_indic.name == "OUT_OF_BOUNDS_NO_POE"
            )
            assert (
                subject(status)["user_id"] == "thuongdv"
            )  # the right person, an expired certificate
        elif variant == "revoked_certificate":
            accepted, status = validate(bad, root, crl)
            assert (
                not accepted
                and status.intact
                and status.trust_problem_indic.name == "REVOKED_NO_POE"
            )
            assert subject(status)["user_id"] == "thuongdv"
            assert validate(bad, root)[0], "only the CRL tells: without it the signature looks fine"
        elif variant == "modified_after_signing":
            reader = PdfFileReader(io.BytesIO(bad))
            (sig,) = reader.embedded_signatures
            assert bad.startswith(good) and sig.signed_revision < reader.xrefs.total_revisions - 1
            accepted, status = validate(bad, root, crl)
            assert not accepted and status.intact and status.trusted and not status.docmdp_ok
        elif variant == "encrypted":
            assert PdfFileReader(io.BytesIO(bad)).encrypted
        elif variant == "wrong_signer":
            accepted, status = validate(bad, root, crl)
            assert accepted, "valid and trusted: only the routing knows it is the wrong person"
            assert subject(status)["user_id"] == "vanthu.000.30.20.h36"
        else:
            pytest.fail(f"variant {variant} not checked here")
    assert served == set(BAD_RESULT_VARIANTS)
    ioffice.faults()
    assert attachment(ioffice.package(mvb)) == good


def test_every_bad_package_variant(ioffice: IOffice) -> None:
    mvb = issued_document(ioffice, "000.30.20.H36-221206")
    genuine = ioffice.package(mvb)
    pdf = attachment(genuine)
    for variant in BAD_PACKAGE_VARIANTS:
        ioffice.faults({"endpoint": GET_PKG, "kind": "bad_package", "variant": variant})
        pkg = ioffice.package(mvb)
        assert pkg == ioffice.package(mvb), "keyed by MaVanBan: the same broken envelope every time"
        changed = {k for k in pkg if pkg[k] != genuine[k]}
        files = pkg["VanBanDi"]["DinhKem"]
        if variant == "unknown_outcome":
            assert changed == {"LoaiKetQua"} and pkg["LoaiKetQua"] not in ("01", "02", "03", "04")
        elif variant == "code_mismatch":
            assert changed == {"MaHoSo"} and pkg["MaHoSo"] != genuine["MaHoSo"]
            assert pkg["IDHoSo"] == genuine["IDHoSo"] and pkg["ThamSoAn"] == genuine["ThamSoAn"]
            assert ioffice.ok("GET", f"{API}/TraCuuHoSo", params={"MaHoSo": pkg["MaHoSo"]}), (
                "another real dossier"
            )
        else:
            assert changed == {"VanBanDi"}
        if variant == "invalid_base64":
            with pytest.raises(ValueError):
                base64.b64decode(files[0]["Base64"], validate=True)
            assert to_package(mvb, pkg).files[0].decoded is False
        elif variant == "no_file":
            assert files == []
        elif variant == "many_files":
            assert len(files) == 2 and all(base64.b64decode(f["Base64"]) == pdf for f in files)
        elif variant == "unsafe_file_name":
            assert any(c in files[0]["Ten"] for c in "/\\") and files[0]["Ten"].endswith(".pdf")
        elif variant == "wrong_extension":
            assert (
                not files[0]["Ten"].endswith(".pdf") and base64.b64decode(files[0]["Base64"]) == pdf
            )
        elif variant == "empty_file":
            assert files[0]["Base64"] == "" and files[0]["Ten"].endswith(".pdf")
    docs = ioffice.http.get(ioffice.base + "/_admin/documents", timeout=10).json()["documents"]
    assert (
        next(d for d in docs if d["MaVanBan"] == mvb)["bad_package_served"]
        == BAD_PACKAGE_VARIANTS[-1]
    )
    ioffice.faults()
    assert ioffice.package(mvb) == genuine


def test_crl_published_and_fetched_by_the_client(ioffice: IOffice) -> None:
    ioffice.push("000.30.20.H36-221207-0001")  # the signer's certificates, the revoked one included
    r = requests.get(ioffice.base + "/ca/crl.der", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-crl"
    revoked = CertificateList.load(r.content)["tbs_cert_list"]["revoked_certificates"]
    assert len(revoked) >= 1
    settings = IOfficeSettings(
        base_url=ioffice.base + API,
        token=TOKEN,
        crl_url=ioffice.base + "/ca/crl.der",
        retry=RetryPolicy(attempts=2, backoff=0.01, backoff_max=0.02),
    )
    client = IOfficeClient(settings)
    try:
        first = client.crls()
        ioffice.faults({"endpoint": "/ca", "kind": "5xx", "rate": 1.0})
        assert client.crls() == first, "cached per client"
        assert "authorization" not in {k.lower() for k in client._crl_session.headers}, (
            "no token to the CA"
        )
    finally:
        client.close()
    fresh = IOfficeClient(settings)
    try:
        with pytest.raises(RevocationUnavailable) as err:
            fresh.crls()  # configured but unavailable: loud, and retried later (transient)
        assert is_transient(err.value)
    finally:
        fresh.close()
    ioffice.faults()
    assert IOfficeClient(replace(settings, crl_url="")).crls() == []


# --- faults --------------------------------------------------------------------------


def test_duplicate_deliveries(ioffice: IOffice) -> None:
    for i in range(4):
        ioffice.push(f"000.30.20.H36-221204-{i:04d}")
    ioffice.advance(24 * 14)
    clean = [p["MaVanBan"] for p in ioffice.listing()]
    assert len(clean) == 4 and len(set(clean)) == 4
    acked = clean[0]
    ioffice.ack(acked)
    ioffice.faults({"endpoint": LIST, "kind": "duplicate"})
    listed = Counter(p["MaVanBan"] for p in ioffice.listing())
    assert listed[acked] == 1, "an acknowledged package is re-listed once"
    assert all(listed[m] == 2 for m in clean[1:]), listed
    again = Counter(p["MaVanBan"] for p in ioffice.listing())
    assert acked not in again and all(again[m] == 2 for m in clean[1:])
    ioffice.faults()
    assert [p["MaVanBan"] for p in ioffice.listing()] == clean[1:]


def test_transport_faults_seen_by_requests(ioffice: IOffice) -> None:
    ioffice.faults({"endpoint": LIST, "kind": "5xx", "status": 502})
    assert ioffice.call("GET", LIST).status_code == 502
    ioffice.faults({"endpoint": LIST, "kind": "timeout", "hold_seconds": 1.0})
    with pytest.raises(requests.Timeout):
        ioffice.call("GET", LIST, timeout=0.3)
    ioffice.faults({"endpoint": LIST, "kind": "reset"})
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        ioffice.call("GET", LIST).json()
    ioffice.faults({"endpoint": API, "kind": "expired_token"})
    r = ioffice.call("GET", LIST)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    ioffice.faults()
    time.sleep(1.0)  # let the held request finish before the server stops
    assert ioffice.listing() == []
    stats = requests.get(ioffice.base + "/_admin/stats", timeout=10).json()
    assert {"5xx", "timeout", "reset", "expired_token"} <= set(stats["faults_fired"])


@pytest.mark.slow
def test_restart_keeps_documents_and_packages(tmp_path: Path) -> None:
    data_dir = tmp_path / "standins"
    svc = IOffice(data_dir)
    try:
        mvbs = [
            svc.push(f"000.30.20.H36-221205-{i:04d}").json()["data"]["MaVanBan"] for i in range(3)
        ]
        svc.advance(24 * 14)
        before = svc.listing()
        root = requests.get(svc.base + "/_admin/trust-root", timeout=10).content
        pdfs = {p["MaVanBan"]: svc.package(p["MaVanBan"]) for p in before}
        svc.ack(before[0]["MaVanBan"])
    finally:
        svc.stop()
    svc = IOffice(data_dir)
    try:
        assert svc.clock.now() > START
        assert requests.get(svc.base + "/_admin/trust-root", timeout=10).content == root
        assert svc.listing() == before[1:]
        for m, pkg in pdfs.items():
            assert svc.package(m) == pkg
        r = svc.push("000.30.20.H36-221205-0000")
        assert r.status_code == 409 and r.json()["data"]["MaVanBan"] == mvbs[0]
        new = svc.push("000.30.20.H36-221205-0099").json()["data"]["MaVanBan"]
        assert new not in mvbs
    finally:
        svc.stop()
