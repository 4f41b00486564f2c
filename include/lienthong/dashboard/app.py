"""The dashboard's FastAPI app, mounted by the Airflow plugin under ``/lienthong``.

Server-rendered HTML (Jinja2, inline SVG): it must work offline and inside the UI's iframe.
Every route depends on Airflow's ``get_user`` (see :mod:`lienthong.dashboard.auth`) and on what the
configured auth manager grants that user (:mod:`lienthong.dashboard.access`): reading needs read
access
to the link's DAGs, a replay needs operator rights, a stored payload admin rights. Replays and
payload
views, refused ones included, are recorded in the store's event log
(:mod:`lienthong.dashboard.audit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from lienthong.dashboard import audit, charts, data
from lienthong.dashboard.access import Grants, grants_for
from lienthong.dashboard.auth import (
    Forbidden,
    check_form_token,
    error_handler,
    form_token,
    get_user,
    username,
)
from lienthong.dashboard.trigger import (
    REPLAY_DAG,
    TARGET_UNSET_VI,
    NotAllowed,
    NotStarted,
    StartedRun,
    TargetUnset,
    api_base,
    trigger_dag,
    user_token,
)
from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.units import UnitRegistry
from lienthong.orchestration.airflow_resources import (
    ServerLookup,
    calendar_config,
    savings_settings,
    store_engine,
)
from lienthong.pipeline.deadlines import STAGE_LABELS_VI
from lienthong.pipeline.routing import ROUTING_VARIABLE, RoutingNotConfigured, routing_from_variable
from lienthong.reconcile.watchlists import WATCH_LABELS_VI
from lienthong.report.export import vn_month
from lienthong.report.service_index import INDICATORS, NOT_COMPUTED_VI, service_index

log = logging.getLogger(__name__)
User = Annotated[BaseUser, Depends(get_user)]  # resolved once per request (FastAPI caches it)
AIRFLOW = (
    ServerLookup()
)  # the api-server has no task supervisor: read Connections/Variables directly


def grants(request: Request, user: User) -> Grants:
    """Every route's gate: what the auth manager lets this user do; no read access, no page."""
    can = grants_for(user, username(user))
    request.state.lienthong_grants = can
    if not can.read:
        raise Forbidden()
    return can


Can = Annotated[Grants, Depends(grants)]


def _allowed_on_quarantine(allowed: bool, can: Grants, action: str, quarantine_id: int) -> Grants:
    """The gate of an action on one quarantine record: a refused attempt is recorded (who tried
    what on which record) before the 403, so the audit log shows probing, not only use."""
    if not allowed:
        audit.record_on_quarantine(store_engine(AIRFLOW), can.user, action, quarantine_id, "denied")
        raise Forbidden()
    return can


def may_replay(
    request: Request,
    user: User,
    quarantine_id: int,
    can: Can,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Grants:
    """Operators only. The form token is checked first: a forged cross-site POST is refused before
    anything is written, so no page can put "refused" entries in the audit in another's name."""
    check_form_token(request, user, csrf_token)
    return _allowed_on_quarantine(can.operate, can, audit.REPLAY, quarantine_id)


def may_view_payload(quarantine_id: int, can: Can) -> Grants:
    """Admins only."""
    return _allowed_on_quarantine(can.payload, can, audit.VIEW_PAYLOAD, quarantine_id)


def may_audit(can: Can) -> Grants:
    if not can.audit:
        raise Forbidden()
    return can


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'self'; base-uri 'none'"
)
SOURCE_LABELS_VI = {"portal_dossier": "Hồ sơ Một cửa", "ioffice_package": "Gói tin kết quả iOffice"}


def _vn_number(value: float | None, decimals: int = 0) -> str:
    """Vietnamese style: ``.`` groups thousands, ``,`` marks decimals; unknown is ``—``."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _dt(value: datetime | None) -> str:
    return value.astimezone(data.VN_TZ).strftime("%d/%m/%Y %H:%M") if value else "—"


def _pct(value: float | None) -> str:
    return "—" if value is None else _vn_number(value, 1) + " %"


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("lienthong.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters.update(
        num=_vn_number,
        dt=_dt,
        pct=_pct,
        vnd=lambda v: _vn_number(v) + " ₫",
        ddmmyyyy=lambda d: d.strftime("%d/%m/%Y"),
        month=vn_month,
    )
    env.globals.update(
        state_label=data.state_label,
        kind_label=WATCH_LABELS_VI.get,
        stage_label=lambda stage: STAGE_LABELS_VI.get(stage, "") if stage else "",
        source_label=lambda s: SOURCE_LABELS_VI.get(s, s),
        action_label=lambda a: audit.ACTION_LABELS_VI.get(a, a),
        outcome_label=audit.outcome_label,
    )
    return env


def savings_rates() -> tuple[float, int]:
    """The article's estimate uses the same Variables as the pipeline's measured savings."""
    savings = savings_settings(AIRFLOW)
    return savings.hours_per_dossier, savings.cost_per_hour_vnd


def requested_period(
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> data.Period:
    """The ``from``/``to`` of the request; the store's data period where either is left out."""
    default = data.data_period(store_engine(AIRFLOW))
    period = data.Period(date_from or default.date_from, date_to or default.date_to)
    if period.date_to < period.date_from:
        raise HTTPException(400, "Ngày kết thúc phải sau ngày bắt đầu")
    return period


RequestedPeriod = Annotated[data.Period, Depends(requested_period)]


@dataclass(frozen=True)
class Units:
    """The unit history (from the routing Variable), the unit asked for and the view."""

    registry: UnitRegistry
    unit: str | None
    view: str
    choices: list[tuple[str, str]]
    problem: str | None = None  # why the unit history could not be read, for the page to say


def requested_units(
    unit: Annotated[str | None, Query()] = None, view: Annotated[str, Query()] = "received"
) -> Units:
    """``unit`` and ``view`` of the request, checked against the routing's units."""
    if view not in data.VIEWS:
        raise HTTPException(400, f"Cách tính không hợp lệ: {view!r}")
    problem, agencies = None, {}
    try:
        routing = routing_from_variable(AIRFLOW.variable(ROUTING_VARIABLE))
        registry, agencies = routing.registry, routing.agencies
    except RoutingNotConfigured as exc:
        log.error("dashboard: no unit list: %s", exc)
        registry = UnitRegistry()
        problem = (
            "Không đọc được cấu hình định tuyến (lienthong_routing): không lọc được theo đơn vị"
        )
    choices = (
        data.unit_choices(registry, datetime.now(VN_TZ).date())
        if registry.units
        else sorted(agencies.items(), key=lambda item: item[1])
    )
    if unit and unit not in dict(choices):
        raise HTTPException(400, f"Không có đơn vị mã {unit!r} trong cấu hình")
    return Units(registry, unit or None, view, choices, problem)


UnitFilter = Annotated[Units, Depends(requested_units)]


def create_app() -> FastAPI:
    app = FastAPI(
        title="lienthong dashboard",
        dependencies=[Depends(grants)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    env = _env()

    def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
        can: Grants | None = getattr(request.state, "lienthong_grants", None)
        html = env.get_template("error.html").render(
            base=request.scope.get("root_path", "").rstrip("/"),
            user=can.user if can else None,
            can=can,
            page="error",
            status=status_code,
            message=message,
        )
        return HTMLResponse(html, status_code=status_code)

    app.add_exception_handler(StarletteHTTPException, error_handler(render_error))

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def render(request: Request, name: str, user: BaseUser, **values: Any) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/")
        can: Grants = request.state.lienthong_grants  # set by the app-wide ``grants`` dependency
        html = env.get_template(name).render(
            base=base,
            user=username(user),
            csrf=form_token(user),
            can=can,
            page=name.removesuffix(".html"),
            **values,
        )
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse, name="overview")
    def overview(
        request: Request, user: User, period: RequestedPeriod, units: UnitFilter
    ) -> HTMLResponse:
        engine = store_engine(AIRFLOW)
        ov = data.overview(
            engine, period, *savings_rates(), units=units.registry, unit=units.unit, view=units.view
        )
        month, agency = ov.by_month, ov.by_agency
        svgs = [
            charts.hbar_chart("Hồ sơ tiếp nhận theo tháng", month.keys, month.dossiers, _vn_number),
            charts.hbar_chart(
                "Số tiền tiết kiệm theo tháng (₫)",
                month.keys,
                month.money_vnd,
                _vn_number,
                colour="#2da44e",
            ),
            charts.hbar_chart(
                "Hồ sơ tiếp nhận theo cơ quan", agency.keys, agency.dossiers, _vn_number
            ),
            charts.hbar_chart(
                "Số tiền tiết kiệm theo cơ quan (₫)",
                agency.keys,
                agency.money_vnd,
                _vn_number,
                colour="#2da44e",
            ),
        ]
        return render(
            request,
            "overview.html",
            user,
            period=period,
            h=ov.headline,
            charts=svgs,
            n=ov.national,
            n_agencies=ov.national_by_agency,
            units=units,
            unit_rows=ov.units,
            parent_rows=ov.parents,
            views=data.VIEWS,
        )

    @app.get("/index", response_class=HTMLResponse, name="service_index")
    def index_page(request: Request, user: User, period: RequestedPeriod) -> HTMLResponse:
        engine = store_engine(AIRFLOW)
        frame = service_index(engine, period.date_from, period.date_to)
        return render(
            request,
            "service_index.html",
            user,
            period=period,
            rows=frame.replace({float("nan"): None}).to_dict("records"),
            indicators=INDICATORS,
            not_computed=NOT_COMPUTED_VI,
        )

    @app.get("/api/summary", name="summary")
    def summary(user: User, period: RequestedPeriod, units: UnitFilter) -> dict[str, Any]:
        engine = store_engine(AIRFLOW)
        ov = data.overview(
            engine, period, *savings_rates(), units=units.registry, unit=units.unit, view=units.view
        )
        return {
            **ov.headline,
            "national_sync": ov.national,
            "national_sync_by_agency": list(ov.national_by_agency),
            "units": list(ov.units),
            "parents": list(ov.parents),
        }

    @app.get("/dossier", response_class=HTMLResponse, name="dossier")
    def dossier(request: Request, user: User, code: str = "") -> HTMLResponse:
        view = data.dossier_view(store_engine(AIRFLOW), code) if code.strip() else None
        return render(request, "dossier.html", user, code=code.strip(), view=view)

    @app.get("/quarantine", response_class=HTMLResponse, name="quarantine")
    def quarantine(
        request: Request,
        user: User,
        status: str = "open",
        replayed: int | None = None,
        run_id: str | None = None,
    ) -> HTMLResponse:
        engine = store_engine(AIRFLOW)
        rows = data.quarantine_list(engine, None if status == "all" else status)
        run_path = (
            StartedRun(REPLAY_DAG, run_id).ui_path if replayed is not None and run_id else None
        )
        return render(
            request,
            "quarantine.html",
            user,
            rows=rows,
            status=status,
            replayed=replayed,
            run_id=run_id,
            run_path=run_path,
        )

    @app.post("/quarantine/{quarantine_id}/replay", name="replay")
    def replay_item(
        request: Request,
        user: User,
        quarantine_id: int,
        can: Annotated[Grants, Depends(may_replay)],  # checks the form token, then the grant
        reason: Annotated[str, Form(max_length=500)] = "",
    ) -> RedirectResponse:
        """Ask Airflow for a ``quarantine_replay`` run as this user; a worker replays, not this
        process."""
        engine = store_engine(AIRFLOW)
        if data.quarantine_payload(engine, quarantine_id) is None:
            audit.record_on_quarantine(engine, can.user, audit.REPLAY, quarantine_id, "not_found")
            raise HTTPException(404, "Không tìm thấy mục cách ly")
        token = user_token(request)
        if not token:
            raise Forbidden()
        try:
            run = trigger_dag(
                api_base(),
                token,
                REPLAY_DAG,
                {"quarantine_ids": [quarantine_id], "reason": reason.strip()},
                note=f"Xử lý lại mục cách ly #{quarantine_id} từ bảng điều khiển ({can.user})",
            )
        except TargetUnset as exc:
            audit.record_on_quarantine(
                engine, can.user, audit.REPLAY, quarantine_id, "failed: TargetUnset"
            )
            log.error("replay of quarantine %s by %s refused: %s", quarantine_id, can.user, exc)
            raise HTTPException(503, TARGET_UNSET_VI) from None
        except NotAllowed:
            audit.record_on_quarantine(engine, can.user, audit.REPLAY, quarantine_id, "denied")
            raise Forbidden() from None
        except NotStarted as exc:
            audit.record_on_quarantine(
                engine, can.user, audit.REPLAY, quarantine_id, "failed: NotStarted"
            )
            log.error("replay of quarantine %s by %s not started: %s", quarantine_id, can.user, exc)
            raise HTTPException(
                502,
                "Không gửi được yêu cầu xử lý lại tới Airflow. Vui lòng thử lại sau "
                "hoặc báo quản trị viên.",
            ) from None
        audit.record_on_quarantine(
            engine, can.user, audit.REPLAY, quarantine_id, "requested", run_id=run.run_id
        )
        log.info(
            "replay of quarantine %s requested by %s: run %s", quarantine_id, can.user, run.run_id
        )
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(
            f"{base}/quarantine?status=all&replayed={quarantine_id}&run_id={quote(run.run_id)}",
            status_code=303,
        )

    @app.get("/quarantine/{quarantine_id}/payload", response_class=HTMLResponse, name="payload")
    def payload(
        request: Request,
        user: User,
        quarantine_id: int,
        can: Annotated[Grants, Depends(may_view_payload)],
    ) -> HTMLResponse:
        """The stored payload (the portal adapter already stripped the applicant's identity); every
        view
        is recorded."""
        engine = store_engine(AIRFLOW)
        view = data.quarantine_payload(engine, quarantine_id)
        audit.record_on_quarantine(
            engine, can.user, audit.VIEW_PAYLOAD, quarantine_id, "shown" if view else "not_found"
        )
        if view is None:
            raise HTTPException(404, "Không tìm thấy mục cách ly")
        return render(request, "payload.html", user, q=view)

    @app.get("/watch", response_class=HTMLResponse, name="watch")
    def watch(request: Request, user: User) -> HTMLResponse:
        lists = data.watchlists(store_engine(AIRFLOW), calendar_config(AIRFLOW))
        return render(request, "watch.html", user, w=lists)

    @app.get("/audit", response_class=HTMLResponse, name="audit")
    def audit_log(
        request: Request, user: User, can: Annotated[Grants, Depends(may_audit)]
    ) -> HTMLResponse:
        """Operators' actions (dashboard, backfill, reconciliation repairs), newest first."""
        return render(
            request, "audit.html", user, rows=data.operator_actions(store_engine(AIRFLOW))
        )

    return app
