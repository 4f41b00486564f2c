"""HTTP surface of the portal stand-in (VNPT iGate style; see docs/standins.md)."""

from __future__ import annotations

import base64
import csv
import json
import math
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lienthong_standins import hostile
from lienthong_standins.admin import make_admin_router
from lienthong_standins.clock import VN_TZ, SimClock, SimDateMiddleware
from lienthong_standins.faults import (
    BAD_PAGE_NAMED_ONLY,
    BAD_PAGE_VARIANTS,
    MALFORMED_VARIANTS,
    FaultInjector,
    FaultMiddleware,
)
from lienthong_standins.portal.dossiers import to_ms
from lienthong_standins.portal.malform import malform
from lienthong_standins.portal.store import Conflict, NotFound, PortalStore, SearchFilters

TOKEN_PATH = "/auth/realms/digo/protocol/openid-connect/token"
MAX_PAGE_SIZE = 500
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


HTML_ERROR_PAGE = (
    '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>Hệ thống đang bảo '
    "trì</title></head>"
    "<body><h1>Hệ thống đang bảo trì</h1><p>Vui lòng quay lại sau.</p></body></html>\n"
).encode()


class TolerantJSONResponse(JSONResponse):
    """UTF-8 JSON as the real portal sends it; ``\\uXXXX`` escapes only when a (malformed) string
    holds an unpaired surrogate, which UTF-8 cannot carry but JSON text can."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def bad_page(variant: str, body: dict[str, Any], size_mb: int = 300) -> Response:
    """A search page as a broken proxy or replica serves it (the ``bad_page`` fault); the
    named-only variants: nested 50,000 deep, or ``size_mb`` MB (streamed, never held here)."""
    if variant in BAD_PAGE_NAMED_ONLY:
        rendered = TolerantJSONResponse(body | {"extension": hostile.MARKER}).body
        if variant == "too_deep":
            return Response(hostile.deep(rendered), 200, media_type="application/json")
        chunks = hostile.huge_string(rendered, size_mb * hostile.MB)
        return StreamingResponse(chunks, 200, media_type="application/json")
    if variant == "html_200":
        return Response(HTML_ERROR_PAGE, 200, media_type="text/html")
    if variant == "truncated_json":
        raw = TolerantJSONResponse(body).body
        return Response(raw[: max(1, len(raw) // 2)], 200, media_type="application/json")
    content = list(body["content"])
    if variant == "skip" and content:
        del content[len(content) // 2]  # totalElements still counts it
    elif variant == "repeat" and content:
        content.insert(len(content) // 2, content[len(content) // 2])
    return TolerantJSONResponse(body | {"content": content, "numberOfElements": len(content)})


class ApiError(Exception):
    def __init__(
        self, status: int, error: str, message: str, headers: dict[str, str] | None = None
    ):
        self.status, self.error, self.message, self.headers = status, error, message, headers


def parse_when(value: str | None, name: str) -> int | None:
    """ISO-8601 (``+0700``, ``+07:00``, ``Z`` or none = Asia/Ho_Chi_Minh; a date alone = midnight) →
    ms."""
    if value is None or value == "":
        return None
    text = value.strip()
    text = re.sub(r"\s(\d{2}):?(\d{2})$", r"+\1:\2", text)  # a '+' decoded as a space
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text).replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400, "BAD_REQUEST", f"Giá trị ngày không hợp lệ cho {name}: {value}"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VN_TZ)
    return to_ms(dt)


class ExtendRequest(BaseModel):
    code: str
    due_date: date
    reason: str = Field(min_length=1, max_length=500)


class StepIn(BaseModel):
    """A processing step in the national step vocabulary (CapNhatTienDoHoSoMC)."""

    model_config = ConfigDict(extra="allow")
    NguoiXuLy: str = Field(..., max_length=50)
    ChucDanh: str = ""
    ThoiDiemXuLy: str = ""
    PhongBanXuLy: str = ""
    NoiDungXuLy: str = Field(..., min_length=1)
    TrangThai: str = ""
    NgayBatDau: str = ""
    NgayKetThucTheoQuyDinh: str = ""


class StatusIn(BaseModel):
    statusId: int = Field(..., ge=1, le=10)
    step: StepIn | None = None


class ResultDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    codeNotation: str
    documentType: str
    subject: str
    signer: str
    promulgationDate: str


class ResultIn(BaseModel):
    fileId: str
    filename: str | None = None
    document: ResultDocument


def create_app(
    store: PortalStore,
    clock: SimClock,
    injector: FaultInjector,
    clients: dict[str, str],
    data_dir: Path,
    token_ttl: int = 300,
) -> FastAPI:
    app = FastAPI(
        title="Cổng dịch vụ công một cửa (stand-in, VNPT iGate style)",
        version="1.0",
        default_response_class=TolerantJSONResponse,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "message": exc.message}, exc.status, headers=exc.headers
        )

    # ---------------------------------------------------------------- auth
    @app.post(TOKEN_PATH, tags=["auth"])
    def token(
        request: Request,
        grant_type: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:  # noqa: BLE001 - any undecodable header is a bad client
                client_id = client_secret = None
        if not client_id or clients.get(client_id) != client_secret:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Invalid client credentials"}, 401
            )
        if grant_type != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Only client_credentials is supported",
                },
                400,
            )
        return {
            "access_token": store.issue_token(client_id, token_ttl),
            "token_type": "Bearer",
            "expires_in": token_ttl,
            "refresh_expires_in": 0,
            "scope": "profile email",
        }

    def bearer(request: Request) -> None:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not store.token_valid(auth[7:].strip()):
            raise ApiError(
                401,
                "invalid_token",
                "Token is missing, invalid or expired",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    api = APIRouter(dependencies=[Depends(bearer)])

    def maybe_malformed(path: str, doc: dict[str, Any]) -> dict[str, Any]:
        rule = injector.pick(path, "malformed", key=doc["id"])
        if rule is None:
            return doc
        return malform(doc, injector.variant(rule, MALFORMED_VARIANTS, doc["id"]))

    # ---------------------------------------------------------------- dossiers
    @api.get("/pa/dossier/search", tags=["dossier"])
    def search(
        request: Request,
        page: Annotated[int, Query(ge=0)] = 0,
        size: Annotated[int, Query(ge=1)] = 20,
        sort: str = "updatedDate,desc",
        code: str | None = None,
        dossier_status: Annotated[str | None, Query(alias="dossier-status")] = None,
        procedure_id: Annotated[str | None, Query(alias="procedure-id")] = None,
        procedure_code: Annotated[str | None, Query(alias="procedure-code")] = None,
        agency_id: Annotated[str | None, Query(alias="agency-id")] = None,
        agency_code: Annotated[
            str | None, Query(alias="agency-code", description="[own] agency code")
        ] = None,
        ancestor_agency_id: Annotated[str | None, Query(alias="ancestor-agency-id")] = None,
        accepted_from: Annotated[str | None, Query(alias="accepted-from")] = None,
        accepted_to: Annotated[str | None, Query(alias="accepted-to")] = None,
        updated_from: Annotated[str | None, Query(alias="updated-from")] = None,
        updated_to: Annotated[str | None, Query(alias="updated-to")] = None,
    ) -> Response:
        field, _, direction = sort.partition(",")
        if field != "updatedDate" or direction.lower() not in ("", "asc", "desc"):
            raise ApiError(400, "BAD_REQUEST", "sort phải là updatedDate,asc hoặc updatedDate,desc")
        try:
            statuses = (
                tuple(int(s) for s in dossier_status.split(",") if s.strip())
                if dossier_status
                else ()
            )
        except ValueError:
            raise ApiError(
                400, "BAD_REQUEST", "dossier-status phải là danh sách số, cách nhau bởi dấu phẩy"
            ) from None
        size = min(size, MAX_PAGE_SIZE)
        filters = SearchFilters(
            code=code,
            statuses=statuses,
            procedure_id=procedure_id,
            procedure_code=procedure_code,
            agency_id=agency_id,
            agency_code=agency_code,
            ancestor_agency_id=ancestor_agency_id,
            accepted_from=parse_when(accepted_from, "accepted-from"),
            accepted_to=parse_when(accepted_to, "accepted-to"),
            updated_from=parse_when(updated_from, "updated-from"),
            updated_to=parse_when(updated_to, "updated-to"),
        )
        docs, total = store.search(filters, page, size, descending=direction.lower() != "asc")
        path = request.url.path
        content = [maybe_malformed(path, d) for d in docs]
        pages = math.ceil(total / size) if total else 0
        body = {
            "content": content,
            "totalElements": total,
            "totalPages": pages,
            "number": page,
            "size": size,
            "numberOfElements": len(content),
            "first": page == 0,
            "last": page >= pages - 1,
            "empty": not content,
        }
        rule = injector.pick(path, "bad_page")
        if rule is not None:
            return bad_page(
                injector.variant(rule, BAD_PAGE_VARIANTS, f"page:{path}:{page}:{updated_from}"),
                body,
                rule.size_mb,
            )
        return TolerantJSONResponse(body)

    def dossier_id_ok(dossier_id: str) -> None:
        if not _OBJECT_ID.match(dossier_id):
            raise ApiError(404, "NOT_FOUND", "Không tìm thấy hồ sơ")

    @api.get("/pa/dossier/{dossier_id}", tags=["dossier"])
    def get_dossier(request: Request, dossier_id: str) -> dict[str, Any]:
        dossier_id_ok(dossier_id)
        try:
            return maybe_malformed(request.url.path, store.get(dossier_id))
        except NotFound:
            raise ApiError(404, "NOT_FOUND", "Không tìm thấy hồ sơ") from None

    def change(fn, *args) -> dict[str, Any]:  # noqa: ANN001
        try:
            return fn(*args)
        except NotFound as exc:
            what = "tệp" if str(exc) == "file" else "hồ sơ"
            raise ApiError(404, "NOT_FOUND", f"Không tìm thấy {what}") from None
        except Conflict as exc:
            raise ApiError(409, exc.code, exc.message) from None

    @api.post("/pa/dossier/{dossier_id}/result", tags=["dossier"])
    def attach_result(dossier_id: str, body: ResultIn) -> dict[str, Any]:
        dossier_id_ok(dossier_id)
        return change(
            store.attach_result, dossier_id, body.fileId, body.filename, body.document.model_dump()
        )

    @api.delete("/pa/dossier/{dossier_id}/result/{file_id}", tags=["dossier"])
    def withdraw_result(dossier_id: str, file_id: str) -> dict[str, Any]:
        """Not in the public sources (as the attach endpoint): take a result off the dossier."""
        dossier_id_ok(dossier_id)
        return change(store.withdraw_result, dossier_id, file_id)

    @api.post("/pa/dossier/{dossier_id}/step", tags=["dossier"])
    def add_step(dossier_id: str, body: StepIn) -> dict[str, Any]:
        dossier_id_ok(dossier_id)
        return change(store.add_step, dossier_id, body.model_dump())

    @api.put("/pa/dossier/{dossier_id}/status", tags=["dossier"])
    def set_status(dossier_id: str, body: StatusIn) -> dict[str, Any]:
        dossier_id_ok(dossier_id)
        step = body.step.model_dump() if body.step else None
        return change(store.set_status, dossier_id, body.statusId, step)

    # ---------------------------------------------------------------- files
    @api.post("/fi/file/--multiple", tags=["file"])
    async def upload(files: Annotated[list[UploadFile], File()]) -> list[dict[str, Any]]:
        out = []
        for f in files:
            data = await f.read()
            out.append(
                store.add_file(
                    f.filename or "file", f.content_type or "application/octet-stream", data
                )
            )
        return out

    @api.get("/fi/file/{file_id}", tags=["file"])
    def download(file_id: str) -> Response:
        try:
            filename, content_type, data = store.get_file(file_id)
        except NotFound:
            raise ApiError(404, "NOT_FOUND", "Không tìm thấy tệp") from None
        return Response(
            data,
            media_type=content_type,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )

    @api.delete("/fi/file/{file_id}", status_code=204, tags=["file"])
    def remove(file_id: str) -> Response:
        try:
            store.delete_file(file_id)
        except NotFound:
            raise ApiError(404, "NOT_FOUND", "Không tìm thấy tệp") from None
        return Response(status_code=204)

    app.include_router(api)

    # ---------------------------------------------------------------- control surface
    app.include_router(
        make_admin_router(
            clock,
            injector,
            stats=store.stats,
            on_advance=lambda: {"desk_moves": store.run_desk()},
            behaviour=store.behaviour,
        )
    )

    @app.post("/_admin/extend", tags=["stand-in control (not part of the real system)"])
    def extend(req: ExtendRequest) -> dict[str, Any]:
        """The desk extends a dossier's deadline to ``due_date`` (17:00) with ``reason``."""
        due = datetime.combine(req.due_date, time(17, 0), VN_TZ)
        try:
            doc = store.extend(req.code, int(due.timestamp() * 1000), req.reason)
        except NotFound:
            raise ApiError(404, "NOT_FOUND", "Không tìm thấy hồ sơ") from None
        return {"code": doc["code"], "appointmentDate": doc["appointmentDate"]}

    @app.get("/_admin/results", tags=["stand-in control (not part of the real system)"])
    def results_view() -> dict[str, Any]:
        """Decision dossiers, their status and attached results, and the dossiers served malformed:
        for checks that only reach the stand-in over HTTP."""
        store.run_desk()
        return {
            "dossiers": store.results_view(),
            "malformed_served": dict(injector.served.get("malformed", {})),
        }

    @app.get("/_admin/district-totals", tags=["stand-in control (not part of the real system)"])
    def district_totals() -> dict[str, Any]:
        """All dossiers of the district (portal or not), per month and per year: the denominator
        of the share of dossiers entered on the portal."""
        path = data_dir / "district_totals.csv"
        if not path.exists():
            raise ApiError(404, "NOT_FOUND", "Kịch bản này không có số liệu tổng của huyện")
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [{"period": r["period"], "total": int(r["total"])} for r in csv.DictReader(fh)]
        return {"totals": rows}

    app.add_middleware(SimDateMiddleware, clock=clock, behaviour=store.behaviour)
    app.add_middleware(FaultMiddleware, injector=injector, token_paths=(TOKEN_PATH,))
    return app
