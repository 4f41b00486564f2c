"""HTTP face of the iOffice stand-in, under ``/api/lienthong`` (docs/standins.md).

Field names follow the public one-stop ↔ document-management link (interfaces.md §3);
every answer is ``{data, error{code, internalMessage, userMessage}}`` with Vietnamese
user messages, as the real system's would be.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lienthong_standins import hostile
from lienthong_standins.admin import make_admin_router
from lienthong_standins.clock import SimClock, SimDateMiddleware
from lienthong_standins.district import ascii_fold
from lienthong_standins.faults import (
    BAD_PACKAGE_NAMED_ONLY,
    BAD_PACKAGE_VARIANTS,
    BAD_RESULT_VARIANTS,
    FaultInjector,
    FaultMiddleware,
    FaultRule,
)
from lienthong_standins.ioffice import packages, results
from lienthong_standins.ioffice.ca import CRL_PATH, load_or_create_cas
from lienthong_standins.ioffice.pdf import render_decision_pdf, sign_pdf
from lienthong_standins.ioffice.store import (
    ISSUED,
    REJECTED,
    REVOKED,
    STATE_NAMES,
    Document,
    IOfficeStore,
    PackageView,
    unit_matches,
)


class Correction(BaseModel):
    ma_van_ban: str
    reason: str = Field(min_length=1, max_length=500)
    # A bad input: the replacement names this document as the one it replaces (default: the real).
    names: str | None = None


BASE = "/api/lienthong"


# --- request models -------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class NguoiKy(_Model):
    Ten: str = Field(min_length=1)
    TaiKhoan: str = ""
    ChucVu: str | None = None  # [own] optional; "Chủ tịch" when absent


class DonVi(_Model):
    Ten: str = Field(min_length=1)
    MaDinhDanh: str = Field(min_length=1)


class TepDinhKem(_Model):
    Ten: str
    Base64: str | None = None
    Link: str | None = None


class VanBanDuThao(_Model):
    TrichYeu: str = Field(min_length=1, max_length=500)
    LoaiVanBan: str = Field(min_length=1, max_length=20, description="QĐ, GCN, GP…")
    NgayTao: str
    DinhKem: list[TepDinhKem] = []


class GuiHoSoRequest(_Model):
    IDHoSo: str = Field(min_length=1)
    MaHoSo: str = Field(min_length=1)
    ChuHoSo: str = ""
    NguoiNop: str = ""
    NguoiKy: NguoiKy
    NguoiTrinhKy: str = Field(min_length=1)
    DonVi: DonVi
    VanBanDuThao: VanBanDuThao
    ThanhPhanHoSo: list[Any] = []
    TenHoSo: str = ""
    ThuTuc: str | dict[str, Any] = Field(description="procedure name, or {Ma, Ten}")
    ThamSoAn: str
    HccLinkAPI: str | None = None
    LoaiHSLienthong: str | None = None
    SoKyHieuVanBan: str | None = None
    NguoiKyVanBan: str | None = None
    HanXuLyVanBan: str | None = None


class CapNhatTrangThai(BaseModel):
    MaVanBan: str = Field(min_length=1)
    TrangThai: Literal["03", "04"]


# --- answers --------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, internal: str, user: str, data: Any = None):
        self.status, self.internal, self.user, self.data = status, internal, user, data


def envelope(
    data: Any, status: int = 200, internal: str = "OK", user: str = "Thành công"
) -> JSONResponse:
    return JSONResponse(
        {"data": data, "error": {"code": status, "internalMessage": internal, "userMessage": user}},
        status_code=status,
    )


def dmy(d: date | datetime | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def dmy_hms(d: datetime | None) -> str:
    return d.strftime("%d/%m/%Y %H:%M:%S") if d else ""


def parse_dmy(value: str, name: str) -> date:
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise ApiError(
            400, "NGAY_KHONG_HOP_LE", f"Tham số {name} phải có dạng dd/MM/yyyy."
        ) from None


_STEP_TEXT = {
    "received": ("Tiếp nhận hồ sơ từ hệ thống một cửa", "Văn thư"),
    "drafted": ("Soạn thảo dự thảo văn bản", "Chuyên viên"),
    "submitted": ("Trình lãnh đạo ký", "Chuyên viên"),
    "signed": ("Ký số văn bản", "Lãnh đạo"),
    "rejected": ("Trả lại dự thảo", "Lãnh đạo"),
    "issued": ("Cấp số và ban hành văn bản", "Văn thư"),
}


def history(doc: Document) -> list[dict[str, str]]:
    """[own] the office steps done so far, with the national step field names."""
    out = []
    for step, t in doc.history():
        text, role = _STEP_TEXT[step]
        who = (
            doc.drafter
            if role == "Chuyên viên"
            else doc.signer_name
            if role == "Lãnh đạo"
            else "Văn thư"
        )
        title = doc.signer_title if role == "Lãnh đạo" else role
        out.append(
            {
                "BuocXuLy": step,
                "NguoiXuLy": who,
                "ChucDanh": title,
                "PhongBanXuLy": doc.unit_name,
                "NoiDungXuLy": text,
                "ThoiDiemXuLy": dmy_hms(t),
            }
        )
    return out


def pdf_name(doc: Document, echo: bool = False) -> str:
    stem = doc.code_notation.replace("/", "_")
    if echo and doc.applicant:  # ``echo_identities``: named after the applicant, as offices do
        return f"{stem}_{ascii_fold(doc.applicant).replace(' ', '_')}.pdf"
    return f"{stem}.pdf"


# --- the app --------------------------------------------------------------------------


def build(
    data_dir: Path,
    clock: SimClock,
    injector: FaultInjector,
    seed: int,
    token: str,
    auth_scheme: str = "Bearer",
) -> tuple[FastAPI, IOfficeStore]:
    """The iOffice stand-in app (fault middleware included) and its store."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    cas = load_or_create_cas(data_dir / "ca")
    store = IOfficeStore(data_dir / "ioffice.sqlite", seed=seed, ca=cas.trusted_ca)
    bad_cache: dict[tuple[str, str], bytes] = {}
    bad_lock = threading.Lock()
    expected_auth = f"{auth_scheme} {token}"

    def authorize(request: Request) -> None:
        if request.headers.get("authorization") != expected_auth:
            raise ApiError(
                401,
                "UNAUTHORIZED",
                "Phiên làm việc không hợp lệ hoặc đã hết hạn, vui lòng kiểm tra mã xác thực.",
            )

    def catch_up() -> None:
        store.materialize(clock.now())

    app = FastAPI(
        title="VNPT-iOffice stand-in (lienthong)",
        version="1",
        description="Local stand-in of the document-management link. See docs/standins.md.",
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.data, exc.status, exc.internal, exc.user)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith(BASE):
            return await request_validation_exception_handler(request, exc)
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "body" for e in exc.errors()})
        return envelope(
            {"errors": jsonable(exc.errors())},
            400,
            "DU_LIEU_KHONG_HOP_LE",
            "Dữ liệu gửi lên không hợp lệ hoặc thiếu thông tin bắt buộc: "
            + ", ".join(fields)
            + ".",
        )

    api = APIRouter(
        prefix=BASE, tags=["liên thông"], dependencies=[Depends(authorize), Depends(catch_up)]
    )

    @api.post("/GuiHoSo")
    def gui_ho_so(req: GuiHoSoRequest) -> JSONResponse:
        push = req.model_dump(mode="json")
        if store.refuse_first_push(push):
            raise ApiError(
                422,
                "CHU_HO_SO_CHUA_XAC_THUC",
                f"Hồ sơ {req.MaHoSo}: chủ hồ sơ {req.ChuHoSo.upper()} "
                f"({ascii_fold(req.ChuHoSo).replace(' ', '_')}) chưa được xác thực; gửi lại sau.",
            )
        doc, created = store.receive(push, clock.now())
        data = {
            "MaVanBan": doc.ma_van_ban,
            "MaHoSo": doc.ma_ho_so,
            "TrangThai": doc.state,
            "TenTrangThai": STATE_NAMES[doc.state],
        }
        if not created:
            raise ApiError(
                409,
                "HOSO_DA_TON_TAI",
                f"Hồ sơ {doc.ma_ho_so} đã được gửi sang trước đó, văn bản {doc.ma_van_ban} "
                f"({STATE_NAMES[doc.state].lower()}); không tạo văn bản mới.",
                data,
            )
        return envelope(data, user=f"Đã tiếp nhận hồ sơ {doc.ma_ho_so}, văn bản {doc.ma_van_ban}.")

    @api.get("/LayDanhSachGoiTinVanBan")
    def lay_danh_sach(
        request: Request, maDonViCha: str | None = None, top: int = Query(100, ge=1, le=1000)
    ) -> JSONResponse:
        path = request.url.path
        views = store.pending_packages(maDonViCha, top)
        listed: list[PackageView] = []
        for v in views:
            listed.append(v)
            if injector.pick(path, "duplicate", key=f"package:{v.package.id}"):
                listed.append(v)
        if any(r.kind == "duplicate" and r.matches(path) for r in injector.config.rules):
            relist = [
                v
                for v in store.relistable_packages(maDonViCha)
                if injector.pick(path, "duplicate", key=f"relist:{v.document.ma_van_ban}")
            ]
            store.mark_relisted([v.package.id for v in relist])
            listed = sorted(listed + relist, key=lambda v: (v.package.created_at, v.package.id))
        store.note_listed([v.package.id for v in views])
        return envelope(
            [
                {
                    "MaVanBan": v.document.ma_van_ban,
                    "LoaiKetQua": v.package.loai_ket_qua,
                    "MaHoSo": v.document.ma_ho_so or "",
                }
                for v in listed
            ]
        )

    def cached(variant: str, doc: Document, make: Callable[[], bytes]) -> bytes:
        """A bad file built once per document and variant: signatures are not reproducible byte for
        byte, and a keyed fault must serve the same bad file on every download."""
        with bad_lock:
            if (variant, doc.ma_van_ban) not in bad_cache:
                bad_cache[(variant, doc.ma_van_ban)] = make()
            return bad_cache[(variant, doc.ma_van_ban)]

    def result_file(request: Request, view: PackageView) -> bytes:
        doc = view.document
        signed = doc.pdf_signed
        assert signed is not None and doc.pdf_unsigned is not None
        unsigned = doc.pdf_unsigned
        rule = injector.pick(request.url.path, "bad_result", key=doc.ma_van_ban)
        if rule is None:
            return signed
        variant = injector.variant(rule, BAD_RESULT_VARIANTS, doc.ma_van_ban)
        ca = cas.trusted_ca
        makers: dict[str, Callable[[], bytes]] = {
            "unsigned": lambda: unsigned,
            "tampered": lambda: results.tamper(signed),
            "untrusted": lambda: sign_pdf(unsigned, cas.untrusted),
            "not_pdf": lambda: results.NOT_PDF,
            "oversized": lambda: results.oversized(signed),
            # The intended signer's own certificate, expired / revoked (listed on /ca/crl.der).
            "expired_certificate": lambda: sign_pdf(
                unsigned, ca.signer(doc.signer_account, doc.signer_name, "expired")
            ),
            "revoked_certificate": lambda: sign_pdf(
                unsigned, ca.signer(doc.signer_account, doc.signer_name, "revoked")
            ),
            "modified_after_signing": lambda: results.modify_after_signing(signed),
            "encrypted": lambda: sign_pdf(
                render_decision_pdf(store.decision_of(doc), encrypted=True),
                ca.signer(doc.signer_account, doc.signer_name),
            ),
            # Trusted and valid, but the unit's clerk, not the signer the routing names.
            "wrong_signer": lambda: sign_pdf(unsigned, ca.clerk(doc.unit_code, doc.unit_name)),
        }
        if variant not in makers:
            raise ValueError(f"unknown bad_result variant {variant!r}")
        return cached(variant, doc, makers[variant])

    def broken_envelope(doc: Document, rule: FaultRule, data: dict[str, Any]) -> dict[str, Any]:
        """The ``bad_package`` fault: the envelope broken one way, keyed by MaVanBan."""
        variant = injector.variant(rule, BAD_PACKAGE_VARIANTS, doc.ma_van_ban)
        other = packages.other_code(doc.ma_ho_so or "", store.other_dossier_codes(doc.ma_van_ban))
        return packages.damage(data, variant, key=doc.ma_van_ban, other_dossier_code=other)

    def hostile_package(doc: Document, rule: FaultRule, data: dict[str, Any]) -> Response:
        """The named-only ``bad_package`` variants: the genuine package made ``size_mb`` MB by its
        file's base64 text (streamed: never held here), or nested 50,000 deep."""
        variant = injector.variant(rule, BAD_PACKAGE_NAMED_ONLY, doc.ma_van_ban)
        if variant == "oversized_package":
            files = [{"Ten": pdf_name(doc), "Base64": hostile.MARKER}]
            rendered = envelope(data | {"VanBanDi": data["VanBanDi"] | {"DinhKem": files}}).body
            chunks = hostile.huge_string(rendered, rule.size_mb * hostile.MB)
            return StreamingResponse(chunks, media_type="application/json")
        rendered = envelope(data | {"QuaTrinhXuLy": hostile.MARKER}).body
        return Response(hostile.deep(rendered), media_type="application/json")

    def replaced_info(doc: Document) -> dict[str, Any]:
        """What a replacing document says of the one it replaces (after edXML ReplacementInfo)."""
        old = store.get_document(doc.replaces or "")
        return {
            "MaVanBan": doc.replaces,
            "SoKyHieu": old.code_notation if old else "",
            "LyDo": doc.change_reason,
        }

    def revocation(doc: Document, view: Any) -> dict[str, Any]:
        """A revocation message for an issued document: who, what, why; no file."""
        return {
            "MaVanBan": doc.ma_van_ban,
            "MaHoSo": doc.ma_ho_so or "",
            "IDHoSo": doc.id_ho_so,
            "DonVi": {"Ten": doc.unit_name, "MaDinhDanh": doc.unit_code},
            "ThamSoAn": doc.tham_so_an,
            "LoaiKetQua": REVOKED,
            "ThoiDiemKetQua": dmy_hms(view.package.created_at),
            "LyDo": doc.change_reason,
            "VanBanDi": {
                "TrichYeu": doc.subject,
                "LoaiVanBan": doc.document_type,
                "SoKyHieu": doc.code_notation,
                "NgayBanHanh": dmy(doc.promulgation_date),
                "NguoiKy": doc.signer_name,
                "ChucVu": doc.signer_title,
                "ThuHoi": {"LyDo": doc.change_reason, "NgayThuHoi": dmy(doc.revoked_at)},
                "DinhKem": [],
            },
        }

    @api.get("/LayGoiTinVanBan")
    def lay_goi_tin(request: Request, MaVanBan: str = Query(min_length=1)) -> JSONResponse:
        view = store.current_package(MaVanBan)
        if view is None:
            doc = store.get_document(MaVanBan)
            if doc is None:
                raise ApiError(404, "VANBAN_KHONG_TON_TAI", f"Không tìm thấy văn bản {MaVanBan}.")
            raise ApiError(
                404,
                "VANBAN_CHUA_CO_KET_QUA",
                f"Văn bản {MaVanBan} chưa có kết quả xử lý ({STATE_NAMES[doc.state].lower()}).",
            )
        doc, loai = view.document, view.package.loai_ket_qua
        if loai == REVOKED:
            return envelope(revocation(doc, view))
        signed = loai != REJECTED
        attachments = []
        # Issued packages only; a broken envelope carries the genuine file (never two faults at
        # once).
        bad_envelope = (
            injector.pick(request.url.path, "bad_package", key=doc.ma_van_ban)
            if loai == ISSUED
            else None
        )
        echo = store.behaviour.echo_identities
        if loai == ISSUED:
            content = doc.pdf_signed if bad_envelope else result_file(request, view)
            assert content is not None
            attachments.append(
                {"Ten": pdf_name(doc, echo), "Base64": base64.b64encode(content).decode()}
            )
        data = {
            "MaVanBan": doc.ma_van_ban,
            "MaHoSo": doc.ma_ho_so or "",
            "IDHoSo": doc.id_ho_so,
            "DonVi": {"Ten": doc.unit_name, "MaDinhDanh": doc.unit_code},
            "ThamSoAn": doc.tham_so_an,
            "LoaiKetQua": loai,
            "ThoiDiemKetQua": dmy_hms(view.package.created_at),
            "LyDo": doc.reject_reason if loai == REJECTED else "",
            "QuaTrinhXuLy": history(doc),
            "VanBanDi": {
                "TrichYeu": doc.subject,
                "LoaiVanBan": doc.document_type,
                "NgayBanHanh": dmy(doc.promulgation_date) if loai == ISSUED else "",
                "NgayKy": dmy(doc.decided_at) if signed else "",
                "NguoiKy": doc.signer_name if signed else "",
                "ChucVu": doc.signer_title if signed else "",
                "NguoiSoan": doc.drafter,
                "SoKyHieu": doc.code_notation if loai == ISSUED else "",
                "DinhKem": attachments,
            },
        }
        if doc.replaces and loai == ISSUED:
            data["VanBanDi"]["ThayTheVanBan"] = replaced_info(doc)
        if bad_envelope and bad_envelope.variant in BAD_PACKAGE_NAMED_ONLY:
            return hostile_package(doc, bad_envelope, data)
        return envelope(broken_envelope(doc, bad_envelope, data) if bad_envelope else data)

    @api.post("/CapNhatTrangThaiVanBan")
    def cap_nhat(req: CapNhatTrangThai) -> JSONResponse:
        outcome = store.acknowledge(req.MaVanBan, req.TrangThai, clock.now())
        if outcome == "unknown":
            raise ApiError(404, "VANBAN_KHONG_TON_TAI", f"Không tìm thấy văn bản {req.MaVanBan}.")
        data = {
            "MaVanBan": req.MaVanBan,
            "TrangThai": req.TrangThai,
            "DaXacNhanTruocDo": outcome == "already",
        }
        return envelope(
            data,
            user="Đã cập nhật trạng thái gói tin."
            if outcome == "acked"
            else "Gói tin đã được xác nhận trước đó.",
        )

    @api.get("/TraCuuHoSo")
    def tra_cuu(MaHoSo: str = Query(min_length=1)) -> JSONResponse:
        doc = store.find_by_dossier(MaHoSo)
        if doc is None:
            return envelope(None, user=f"Không có văn bản nào cho hồ sơ {MaHoSo}.")
        return envelope(document_json(doc) | {"QuaTrinhXuLy": history(doc)})

    @api.get("/DanhSachVanBan")
    def danh_sach(tuNgay: str, denNgay: str, maDonViCha: str | None = None) -> JSONResponse:
        start, end = parse_dmy(tuNgay, "tuNgay"), parse_dmy(denNgay, "denNgay")
        docs = [
            d for d in store.issued_between(start, end) if unit_matches(maDonViCha, d.unit_code)
        ]
        return envelope([document_json(d) for d in docs])

    app.include_router(api)

    def stats() -> dict[str, Any]:
        store.materialize(clock.now())
        return store.stats()

    app.include_router(
        make_admin_router(
            clock,
            injector,
            stats,
            lambda: store.materialize(clock.now()),
            behaviour=store.behaviour,
        )
    )

    @app.post("/_admin/replace", tags=["stand-in control (not part of the real system)"])
    def replace_document(req: Correction) -> dict[str, Any]:
        """The office issues a corrected decision replacing ``ma_van_ban``."""
        try:
            new = store.replace(req.ma_van_ban, req.reason, clock.now(), names=req.names)
            return {"MaVanBan": new}
        except LookupError:
            raise ApiError(404, "VANBAN_KHONG_TON_TAI", "Không có văn bản đã ban hành") from None

    @app.post("/_admin/revoke", tags=["stand-in control (not part of the real system)"])
    def revoke_document(req: Correction) -> dict[str, Any]:
        """The office revokes the issued decision ``ma_van_ban``."""
        try:
            store.revoke(req.ma_van_ban, req.reason, clock.now())
        except LookupError:
            raise ApiError(404, "VANBAN_KHONG_TON_TAI", "Không có văn bản đã ban hành") from None
        return {"MaVanBan": req.ma_van_ban}

    @app.get("/_admin/documents", tags=["stand-in control (not part of the real system)"])
    def documents() -> dict[str, Any]:
        """Documents pushed from the portal, their packages (with real-time stamps) and the bad
        result files served for them: for checks that only reach the stand-in over HTTP."""
        store.materialize(clock.now())
        bad = dict(injector.served.get("bad_result", {}))
        broken = dict(injector.served.get("bad_package", {}))
        return {
            "documents": [
                d
                | {
                    "bad_result_served": bad.get(d["MaVanBan"]),
                    "bad_package_served": broken.get(d["MaVanBan"]),
                }
                for d in store.documents_view()
            ]
        }

    @app.get("/_admin/huge", tags=["stand-in control (not part of the real system)"])
    def huge(megabytes: int = Query(ge=1)) -> StreamingResponse:
        """``megabytes`` MB of text, streamed (never held here): an answer no client may read
        whole, e.g. as a CRL or for the async client."""
        return StreamingResponse(
            hostile.padding(megabytes * hostile.MB), media_type="application/octet-stream"
        )

    @app.get("/_admin/trust-root", tags=["stand-in control (not part of the real system)"])
    def trust_root() -> Response:
        return Response(cas.trusted_ca.ca_cert_pem, media_type="application/x-pem-file")

    @app.get(CRL_PATH, tags=["the test CA (public, as a CA publishes its CRL)"])
    def crl() -> Response:
        """The trusted test CA's certificate revocation list (DER), fresh for a day: no auth, as a
        CA's published CRL; lists the certificates the ``revoked_certificate`` fault signs with.
        Behaviour ``stale_crl``: the CRL of a CA that publishes late (``nextUpdate`` past)."""
        return Response(
            cas.trusted_ca.crl_der(stale=store.behaviour.stale_crl),
            media_type="application/pkix-crl",
            headers={"cache-control": "max-age=300"},
        )

    app.add_middleware(SimDateMiddleware, clock=clock)
    app.add_middleware(FaultMiddleware, injector=injector)
    return app, store


def document_json(doc: Document) -> dict[str, Any]:
    return {
        "MaVanBan": doc.ma_van_ban,
        "MaHoSo": doc.ma_ho_so or "",
        "TrangThai": doc.state,
        "TenTrangThai": STATE_NAMES[doc.state],
        "SoKyHieu": doc.code_notation,
        "LoaiVanBan": doc.document_type,
        "TrichYeu": doc.subject,
        "NgayBanHanh": dmy(doc.promulgation_date),
        "NguoiKy": doc.signer_name,
        "ChucVu": doc.signer_title,
        "DonVi": {"Ten": doc.unit_name, "MaDinhDanh": doc.unit_code},
    }


def jsonable(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
