"""Missing routes decided by a person: the question, its choices, and the overlay the answer makes.

A dossier whose procedure or agency has no route waits in quarantine (``no_route``,
``unknown_procedure``, ``unknown_agency``). Instead of someone editing the routing Variable's YAML,
the ``route_decisions`` DAG asks the one-stop office's operators in Airflow's UI (a Required Action,
Airflow's human-in-the-loop operator), once per procedure, agency and cause: route such dossiers to
one of the units the routing already knows (its iOffice unit, handler and signer), or mark the
procedure as signed on the papers. The answer becomes a row of the routing overlay in the store
(:class:`~lienthong.store.schema.RoutingOverlay`), audited with who answered, and the waiting
dossiers are replayed. :func:`with_overlay` lays the overlay over the Variable's routing wherever
the pipeline reads it, so the answer holds for every later dossier of that procedure and agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.clients.portal_shapes import routing_keys
from lienthong.domain.states import QuarantineSource, QuarantineStatus
from lienthong.domain.vocabulary import ResultKind
from lienthong.pipeline.routing import ProcedureRoute, RoutingConfig, UnitRoute
from lienthong.store import claims, ledger
from lienthong.store.schema import DossierLink, Quarantine, RouteQuestion, RoutingOverlay

MISSING_ROUTE_REASONS = ("no_route", "unknown_procedure", "unknown_agency")
DIRECT_CHOICE = "Thủ tục trả kết quả trực tiếp trên giấy tờ (không qua iOffice)"
ROUTE_DECIDED = "route_decided"  # the audit log's action


@dataclass(frozen=True)
class MissingRoute:
    """Dossiers of one procedure and agency waiting for a route, and why."""

    procedure_code: str
    procedure_name: str
    agency_code: str
    agency_name: str
    reason_code: str
    quarantine_ids: tuple[int, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.procedure_code, self.agency_code, self.reason_code


def missing_routes(session: Session) -> list[MissingRoute]:
    """The open quarantine records a route would settle, grouped by procedure, agency and cause."""
    records = session.scalars(
        select(Quarantine)
        .where(
            Quarantine.status == QuarantineStatus.OPEN,
            Quarantine.source == QuarantineSource.PORTAL_DOSSIER,
            Quarantine.reason_code.in_(MISSING_ROUTE_REASONS),
        )
        .order_by(Quarantine.id)
    ).all()
    codes = [q.dossier_code for q in records if q.dossier_code]
    links = {
        link.dossier_code: link
        for link in session.scalars(select(DossierLink).where(DossierLink.dossier_code.in_(codes)))
    }
    groups: dict[tuple[str, str, str], tuple[tuple[str, str, str, str], list[int]]] = {}
    for q in records:
        keys = _keys_of(q, links.get(q.dossier_code or ""))
        if keys is None:
            continue
        _, ids = groups.setdefault((keys[0], keys[2], q.reason_code), (keys, []))
        ids.append(q.id)
    return [
        MissingRoute(p_code, p_name, a_code, a_name, reason, tuple(ids))
        for (_, _, reason), ((p_code, p_name, a_code, a_name), ids) in sorted(groups.items())
    ]


def _keys_of(q: Quarantine, link: DossierLink | None) -> tuple[str, str, str, str] | None:
    if link is not None:
        return link.procedure_code, link.procedure_name, link.agency_code, link.agency_name
    return routing_keys((q.payload or {}).get("dossier"))


def route_choices(routing: RoutingConfig) -> dict[str, UnitRoute]:
    """Every unit route the routing knows, by the label a person chooses it by."""
    choices: dict[str, UnitRoute] = {}
    for proc in routing.procedures.values():
        for unit in proc.units.values():
            label = (
                f"{unit.ioffice_unit.name} ({unit.ioffice_unit.code}): thụ lý "
                f"{unit.handler.name}, ký {unit.signer.name}"
            )
            choices.setdefault(label, unit)
    return dict(sorted(choices.items()))


def question_text(route: MissingRoute) -> tuple[str, str]:
    """The Required Action's subject and body, in Vietnamese."""
    why = {
        "no_route": "chưa có đơn vị iOffice xử lý cho đơn vị tiếp nhận này",
        "unknown_procedure": "thủ tục chưa có trong danh mục liên thông",
        "unknown_agency": "đơn vị tiếp nhận chưa có trong địa bàn liên thông",
    }[route.reason_code]
    agency = route.agency_name or route.agency_code
    procedure = route.procedure_name or route.procedure_code
    subject = f"Chọn nơi xử lý thủ tục {route.procedure_code} tại {agency}"
    body = (
        f"{len(route.quarantine_ids)} hồ sơ của thủ tục **{procedure}** "
        f"({route.procedure_code}), tiếp nhận tại **{agency}** "
        f"({route.agency_code}), đang chờ vì {why}.\n\n"
        "Chọn đơn vị, cán bộ thụ lý và người ký trên iOffice cho các hồ sơ này (lựa chọn được ghi "
        "nhớ cho thủ tục và đơn vị tiếp nhận này), hoặc đánh dấu thủ tục trả kết quả trực tiếp. "
        "Các hồ sơ đang chờ được xử lý lại ngay sau khi trả lời."
    )
    return subject, body


def ask(
    session: Session, routes: list[MissingRoute], now: datetime, run_id: str
) -> list[tuple[int, MissingRoute]]:
    """Record a question for each missing route not already waiting for an answer; return the new
    ones (question id, route). A route answered before and missing again is asked again. Runs
    asking at once take turns, so a route is asked once."""
    claims.xact_lock(session, "route-questions")
    waiting = {
        (q.procedure_code, q.agency_code, q.reason_code)
        for q in session.scalars(select(RouteQuestion).where(RouteQuestion.answered_at.is_(None)))
    }
    asked = []
    for route in routes:
        if route.key in waiting:
            continue
        question = RouteQuestion(
            procedure_code=route.procedure_code,
            agency_code=route.agency_code,
            reason_code=route.reason_code,
            asked_at=now,
            run_id=run_id,
        )
        session.add(question)
        session.flush()
        asked.append((question.id, route))
    return asked


def answer(
    session: Session,
    run: ledger.RunContext,
    question_id: int,
    route: MissingRoute,
    choice: str,
    routing: RoutingConfig,
    user: str,
    now: datetime,
) -> RoutingOverlay:
    """Turn a person's choice into the overlay row for the procedure and agency, audited."""
    question = session.get(RouteQuestion, question_id)
    if question is None or question.answered_at is not None:
        raise ValueError(f"route question {question_id} is not waiting for an answer")
    if choice == DIRECT_CHOICE:
        kind, unit = ResultKind.DIRECT, None
    else:
        chosen = route_choices(routing).get(choice)
        if chosen is None:
            raise ValueError(f"{choice!r} is not one of the routes offered")
        kind, unit = ResultKind.DECISION, chosen.model_dump()
    row = session.get(RoutingOverlay, (route.procedure_code, route.agency_code)) or RoutingOverlay(
        procedure_code=route.procedure_code, agency_code=route.agency_code
    )
    row.procedure_name = route.procedure_name or route.procedure_code
    row.agency_name = route.agency_name or route.agency_code
    row.result_kind, row.unit_route = kind.value, unit
    row.decided_by, row.decided_at, row.question_id = user, now, question_id
    session.add(row)
    question.answer, question.answered_by, question.answered_at = choice[:500], user, now
    ledger.record_operator_action(
        session,
        run,
        actor=user,
        action=ROUTE_DECIDED,
        target=f"{route.procedure_code} @ {route.agency_code}",
        outcome=kind.value,
        route_question=question_id,
        quarantine_ids=list(route.quarantine_ids),
    )
    return row


def with_overlay(routing: RoutingConfig, rows: list[RoutingOverlay]) -> RoutingConfig:
    """The routing with the decided routes laid over it (a decision overrides the Variable)."""
    if not rows:
        return routing
    merged = routing.model_copy(deep=True)
    for row in rows:
        proc = merged.procedures.get(row.procedure_code) or ProcedureRoute(
            name=row.procedure_name, result_kind=ResultKind(row.result_kind)
        )
        if row.result_kind == ResultKind.DIRECT:
            proc = proc.model_copy(update={"result_kind": ResultKind.DIRECT, "units": {}})
        else:
            units = {**proc.units, row.agency_code: UnitRoute.model_validate(row.unit_route)}
            proc = proc.model_copy(update={"result_kind": ResultKind.DECISION, "units": units})
        merged.procedures[row.procedure_code] = proc
        if merged.agencies and row.agency_code not in merged.agencies:
            merged.agencies[row.agency_code] = row.agency_name
    return merged


def overlay_rows(session: Session) -> list[RoutingOverlay]:
    return list(session.scalars(select(RoutingOverlay).order_by(RoutingOverlay.decided_at)))


def as_xcom(asked: list[tuple[int, MissingRoute]], routing: RoutingConfig) -> list[dict[str, Any]]:
    """What the DAG maps one Required Action over: codes and names only (no personal data)."""
    options = [*route_choices(routing), DIRECT_CHOICE]
    out = []
    for question_id, route in asked:
        subject, body = question_text(route)
        out.append(
            {
                "question_id": question_id,
                "route": route.__dict__ | {"quarantine_ids": list(route.quarantine_ids)},
                "subject": subject,
                "body": body,
                "options": options,
            }
        )
    return out
