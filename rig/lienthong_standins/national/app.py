"""HTTP surface of the national public-service portal's (DVCQG) dossier sync stand-in
(see docs/standins.md, "National portal").

Every call is a JSON POST under ``/api/dvcqg``; application outcomes are HTTP 200 with an integer
``error_code`` (0 = OK). The sync services apply each item of ``data`` on its own, in order, and
answer one result per item.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lienthong_standins.admin import make_admin_router
from lienthong_standins.clock import SimClock, SimDateMiddleware
from lienthong_standins.faults import FaultInjector, FaultMiddleware
from lienthong_standins.national import rules
from lienthong_standins.national.rules import Outcome
from lienthong_standins.national.store import NationalStore

API = "/api/dvcqg"
LOGIN, SYNC, PROGRESS, LOOKUP = "login", "DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSoMC"
CONTROL_TAG = "stand-in control (not part of the real system)"
LOST_AFTER_COMMIT = {"error": "injected: response lost after commit"}


class Tally:
    """Outcomes by ``<service>:<error_code>`` and successful logins (in memory, since start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.logins = 0

    def count(self, service: str, codes: list[int]) -> None:
        with self._lock:
            for code in codes:
                self.outcomes[f"{service}:{code}"] += 1
            if service == LOGIN and codes == [rules.OK]:
                self.logins += 1


async def read_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or ``None`` when the body is not one."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def item_code(item: Any) -> str:
    code = item.get("MaHoSo") if isinstance(item, dict) else None
    return code if isinstance(code, str) else ""


def create_app(
    store: NationalStore, clock: SimClock, injector: FaultInjector, credentials: dict[str, str]
) -> FastAPI:
    app = FastAPI(title="Cổng Dịch vụ công quốc gia — đồng bộ hồ sơ (stand-in)", version="1.0")
    tally = Tally()

    def reply(service: str, outcome: Outcome, **extra: Any) -> dict[str, Any]:
        tally.count(service, [outcome.code])
        return {"error_code": outcome.code, "message": outcome.message, **extra}

    async def open_call(
        request: Request, service: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The body of a service call with a live session, or the top-level refusal to answer."""
        body = await read_object(request)
        if body is None:
            return None, reply(
                service, rules.invalid_request("thân yêu cầu phải là một đối tượng JSON")
            )
        session = body.get("session")
        refused = Outcome(rules.SESSION_INVALID, rules.MSG_SESSION_INVALID)
        if not store.sessions.valid(session):
            return None, reply(service, refused)
        if injector.pick(request.url.path, "expired_token"):
            store.sessions.end(session)
            return None, reply(service, refused)
        return body, None

    def batch_items(body: dict[str, Any]) -> list[Any] | Outcome:
        data = body.get("data")
        if not isinstance(data, list):
            return rules.invalid_request("data phải là một danh sách")
        if len(data) > rules.MAX_ITEMS:
            return rules.invalid_request(f"data có tối đa {rules.MAX_ITEMS} phần tử")
        return data

    def batch_answer(
        request: Request, service: str, items: list[Any], apply: Callable[[Any], Outcome]
    ) -> Any:
        outcomes = [apply(item) for item in items]
        tally.count(service, [o.code for o in outcomes])
        if injector.pick(request.url.path, "duplicate"):
            return JSONResponse(LOST_AFTER_COMMIT, 502)
        ok = sum(o.ok for o in outcomes)
        return {
            "error_code": rules.OK,
            "message": f"Đã xử lý {len(items)} bản ghi: {ok} thành công, {len(items) - ok} lỗi",
            "results": [
                {"MaHoSo": item_code(item), "error_code": o.code, "message": o.message}
                for item, o in zip(items, outcomes, strict=True)
            ],
        }

    # ---------------------------------------------------------------- services
    @app.post(f"{API}/login", tags=["dvcqg"])
    async def login(request: Request) -> dict[str, Any]:
        """``{username, password}`` → ``{error_code, message, session}``."""
        body = await read_object(request)
        if body is None:
            return reply(
                LOGIN, rules.invalid_request("thân yêu cầu phải là một đối tượng JSON"), session=""
            )
        username, password = body.get("username"), body.get("password")
        expected = credentials.get(username) if isinstance(username, str) else None
        if (
            expected is None
            or not isinstance(password, str)
            or not hmac.compare_digest(expected.encode(), password.encode())
        ):
            return reply(LOGIN, Outcome(rules.LOGIN_FAILED, rules.MSG_LOGIN_FAILED), session="")
        return reply(LOGIN, Outcome(rules.OK, rules.MSG_LOGIN_OK), session=store.sessions.issue())

    @app.post(f"{API}/{SYNC}", tags=["dvcqg"])
    async def sync_records(request: Request) -> Any:
        """``{session, isUpdating, data: [record]}``: create (or, with ``isUpdating``, replace)
        dossiers."""
        body, refusal = await open_call(request, SYNC)
        if body is None:
            return refusal
        items = batch_items(body)
        updating = rules.parse_bool(body.get("isUpdating", False))
        if isinstance(items, Outcome):
            return reply(SYNC, items)
        if updating is None:
            return reply(SYNC, rules.invalid_request("isUpdating phải là true hoặc false"))

        def apply(record: Any) -> Outcome:
            return rules.check_record(record) or store.sync_record(record, updating)

        return await run_in_threadpool(batch_answer, request, SYNC, items, apply)

    @app.post(f"{API}/{PROGRESS}", tags=["dvcqg"])
    async def add_steps(request: Request) -> Any:
        """``{session, data: [step]}``: append processing steps to known dossiers."""
        body, refusal = await open_call(request, PROGRESS)
        if body is None:
            return refusal
        items = batch_items(body)
        if isinstance(items, Outcome):
            return reply(PROGRESS, items)

        def apply(step: Any) -> Outcome:
            return rules.check_step(step) or store.add_step(step)

        return await run_in_threadpool(batch_answer, request, PROGRESS, items, apply)

    @app.post(f"{API}/{LOOKUP}", tags=["dvcqg [own]"])
    async def lookup(request: Request) -> Any:
        """``{session, MaHoSo: [code] | code}`` → the held records, their steps and national
        state."""
        body, refusal = await open_call(request, LOOKUP)
        if body is None:
            return refusal
        codes = body.get("MaHoSo")
        if codes is None or codes == "":
            return reply(
                LOOKUP, Outcome(rules.MISSING_FIELD, rules.MSG_MISSING_FIELD.format(field="MaHoSo"))
            )
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            return reply(LOOKUP, rules.invalid("MaHoSo", "phải là chuỗi hoặc danh sách chuỗi"))
        if len(codes) > rules.MAX_ITEMS:
            return reply(LOOKUP, rules.invalid("MaHoSo", f"tối đa {rules.MAX_ITEMS} mã hồ sơ"))
        found = await run_in_threadpool(store.lookup, codes)
        return reply(
            LOOKUP, Outcome(rules.OK, f"Tìm thấy {len(found)}/{len(codes)} hồ sơ"), data=found
        )

    @app.post(API + "/{service:path}", tags=["dvcqg"])
    async def unknown_service(service: str) -> dict[str, Any]:
        """Any other service name."""
        return reply(
            service, Outcome(rules.UNKNOWN_SERVICE, rules.MSG_UNKNOWN_SERVICE.format(name=service))
        )

    # ---------------------------------------------------------------- control surface
    def stats() -> dict[str, Any]:
        return {
            **store.counts(),
            "outcomes": dict(tally.outcomes),
            "logins": tally.logins,
            "sessions_expired": store.sessions.expired,
        }

    app.include_router(make_admin_router(clock, injector, stats=stats, on_advance=dict))

    @app.post("/_admin/expire-sessions", tags=[CONTROL_TAG])
    def expire_sessions() -> dict[str, int]:
        """End every session now: the next call of each client answers error_code 1."""
        return {"expired": store.sessions.end_all()}

    @app.delete("/_admin/records/{code:path}", tags=[CONTROL_TAG])
    def forget_record(code: str) -> dict[str, Any]:
        """Forget a dossier and its steps (a loss on the national side)."""
        return {"MaHoSo": code, "deleted": store.forget(code)}

    @app.get("/_admin/records", tags=[CONTROL_TAG])
    def all_records() -> list[dict[str, Any]]:
        """Every held record with its steps and national state (for tests)."""
        keep = ("MaHoSo", "HoSo", "TienDo", "TrangThaiQuocGia")
        return [{k: r[k] for k in keep} for r in store.lookup()]

    app.add_middleware(SimDateMiddleware, clock=clock)
    # Sessions are the service's own (error_code 1), never an HTTP 401: the middleware leaves
    # ``expired_token`` on these paths to the endpoints.
    app.add_middleware(FaultMiddleware, injector=injector, token_paths=(API,))
    return app
