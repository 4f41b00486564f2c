"""Task bodies shared by the DAGs: read the run's context, build resources, call the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.clients.national import NationalClient
from lienthong.domain.masking import get_logger
from lienthong.domain.working_calendar import local_day
from lienthong.orchestration.airflow_resources import (
    TaskLookup,
    calendar_config,
    resources_from_airflow,
    retention_days,
    routing_with_decisions,
    store_engine,
)
from lienthong.orchestration.airflow_stats import report_counts, report_levels
from lienthong.orchestration.dag_settings import TIMEZONE
from lienthong.orchestration.notifiers import LienthongAlertNotifier
from lienthong.orchestration.setting_rules import OVERLAP_MINUTES
from lienthong.pipeline import intake, national_sync, results
from lienthong.pipeline.backfill import backfill, backfill_window
from lienthong.pipeline.backfill import summary_vi as backfill_summary_vi
from lienthong.pipeline.deadlines import alert_key, near_due, open_alerts, waiting_deadlines
from lienthong.pipeline.deadlines import alert_text_vi as deadline_text_vi
from lienthong.pipeline.heal import alert_text_vi, heal, mark_alerted, needs_person, not_yet_alerted
from lienthong.pipeline.outcomes import Family, NationalCount, plain
from lienthong.pipeline.replay import replay
from lienthong.pipeline.resources import Resources
from lienthong.pipeline.route_decisions import answer as answer_route
from lienthong.pipeline.route_decisions import as_xcom as routes_as_xcom
from lienthong.pipeline.route_decisions import ask as ask_routes
from lienthong.pipeline.route_decisions import missing_routes
from lienthong.reconcile.finding_kinds import ALERTING, repaired_key
from lienthong.reconcile.findings import default_window, reconcile, summarize
from lienthong.reconcile.findings import summary_vi as findings_summary_vi
from lienthong.reconcile.watchlists import portal_now
from lienthong.store import claims
from lienthong.store.ledger import (
    RunContext,
    add_event,
    record_operator_action,
    record_quarantine_action,
)
from lienthong.store.retention import purge_payloads, thin_personal_data
from lienthong.store.schema import DeadlineAlert, RouteQuestion

log = get_logger(__name__)


def run_context(context: dict[str, Any]) -> RunContext:
    ti = context.get("ti") or context.get("task_instance")
    return RunContext(run_id=str(context["run_id"]), task_id=str(getattr(ti, "task_id", "")))


def intake_window(
    context: dict[str, Any], resources: Resources, overlap: timedelta
) -> tuple[intake.Window, bool]:
    """Scheduled/manual runs follow the stored cursor; backfill runs re-pull their data interval."""
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run, "run_type", "")).lower()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if "backfill" in run_type and start is not None:
        return intake.Window(updated_from=start - overlap, updated_to=end), False
    return intake.scheduled_window(resources, overlap), True


def _report(
    resources: Resources, family: Family, counts: Mapping[StrEnum, int], *, levels: bool = False
) -> None:
    """A run's counts as metrics of its family; the runs that move links also refresh the levels
    (what waits where), so the gauges follow the work without a separate task."""
    report_counts(resources.metrics, family, counts)
    if levels:
        report_levels(resources.metrics, resources.engine)


def _summary(what: str, counts: Mapping[StrEnum, int]) -> dict[str, int]:
    """The run's counts logged and returned with plain keys (XCom holds plain JSON)."""
    log.info("%s: %s", what, plain(counts))
    return plain(counts)


def pull_and_link(context: dict[str, Any], overlap_minutes: Any) -> dict[str, int]:
    """``overlap_minutes``: the DAG param as given, checked before anything is read."""
    late_commits = timedelta(minutes=OVERLAP_MINUTES.parse(overlap_minutes))
    with resources_from_airflow() as resources:
        window, advance = intake_window(context, resources, late_commits)
        log.info(
            "intake window from %s to %s (cursor %s)",
            window.updated_from,
            window.updated_to,
            "advances" if advance else "kept",
        )
        counts = intake.pull_and_link(
            resources, run_context(context), window, advance_cursor=advance
        )
        _report(resources, Family.INTAKE, counts, levels=True)
    return _summary("intake summary", counts)


def complete_pending(context: dict[str, Any]) -> dict[str, int]:
    with resources_from_airflow() as resources:
        counts = intake.complete_pending(resources, run_context(context))
        _report(resources, Family.PENDING, counts)
    return _summary("pending links completed", counts)


def sync_national(context: dict[str, Any], overlap_minutes: Any) -> dict[str, int]:
    """``overlap_minutes``: the DAG param as given, checked before anything is read."""
    late_commits = timedelta(minutes=OVERLAP_MINUTES.parse(overlap_minutes))
    with resources_from_airflow(national=True) as resources:
        counts = national_sync.sync(resources, run_context(context), late_commits)
        counts[NationalCount.RELOGINS] = resources.national.relogins if resources.national else 0
        _report(resources, Family.NATIONAL, counts)
    return _summary("national sync", counts)


def process_results(context: dict[str, Any]) -> dict[str, int]:
    with resources_from_airflow() as resources:
        counts = results.process_packages(resources, run_context(context))
        _report(resources, Family.PACKAGES, counts, levels=True)
    return _summary("result packages", counts)


def _param_date(value: str | None):

    return date.fromisoformat(value) if value else None


def _stripped(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values or [] if v.strip())


def triggering_user(context: dict[str, Any]) -> str | None:
    """The Airflow user who triggered this run (``dag_run.triggering_user_name``, Airflow 3); None
    for
    scheduled runs, which no person started."""
    name = getattr(context.get("dag_run"), "triggering_user_name", None)
    return str(name) if name else None


def _audit(
    resources: Resources,
    run: RunContext,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    codes: tuple[str | None, ...] = (None,),
    **extra: Any,
) -> None:
    """One operator-action event per dossier concerned (on its timeline), or one for the whole
    run."""
    with resources.session() as session:
        for code in codes:
            record_operator_action(
                session,
                run,
                actor=actor,
                action=action,
                target=target,
                outcome=outcome,
                code=code,
                **extra,
            )


def backfill_missed(context: dict[str, Any]) -> dict[str, int]:
    """The operators' backfill form; the run is audited (who, window, outcome), failed attempts
    too."""

    params = context["params"]
    dry_run = bool(params.get("dry_run"))
    date_from, date_to = _param_date(params["date_from"]), _param_date(params["date_to"])
    agencies, codes = _stripped(params.get("agencies")), _stripped(params.get("dossier_codes"))
    window = backfill_window(date_from, date_to, agencies=agencies, codes=codes)
    run = run_context(context)
    actor = triggering_user(context) or "unknown"
    target = (
        f"received {date_from}..{date_to}"
        + (f"; agencies {','.join(agencies)}" if agencies else "")
        + (f"; {len(codes)} dossier codes" if codes else "")
    )
    with resources_from_airflow() as resources:
        # one audit event per dossier named (or one for the run), whatever the outcome
        audit = partial(_audit, resources, run, actor, "backfill", target, codes=codes or (None,))
        try:
            counts = backfill(resources, run, window, dry_run=dry_run)
        except Exception as exc:  # noqa: BLE001 - every failed attempt is audited, then raised
            try:
                audit(f"failed: {type(exc).__name__}")
            except Exception as audit_exc:  # noqa: BLE001 - the store may be what failed
                # Keep the original error on top.
                log.warning("could not audit the failed backfill: %s", type(audit_exc).__name__)
            raise
        audit("dry_run" if dry_run else "success", counts=dict(counts))
    log.info("backfill by %s: %s", actor, backfill_summary_vi(counts, dry_run))
    return counts


def reconcile_links(context: dict[str, Any]) -> dict[str, int]:

    params = context["params"]
    with resources_from_airflow(national=True) as resources:
        with resources.session() as session:
            anchor = portal_now(session) or datetime.now(UTC)
        today = anchor.astimezone(ZoneInfo(TIMEZONE)).date()
        start, end = default_window(today, int(params.get("days") or 7))
        start = _param_date(params.get("date_from")) or start
        end = _param_date(params.get("date_to")) or end
        run = run_context(context)
        found = reconcile(resources, run, start, end, repair=bool(params.get("repair", True)))
        if actor := triggering_user(context):  # a person asked for these repairs: audit each one
            with resources.session() as session:
                for f in found:
                    if f.repair_result and not f.repair_result.startswith("quarantined"):
                        record_operator_action(
                            session,
                            run,
                            actor=actor,
                            action="reconcile_repair",
                            target=f"ioffice_doc#{f.ioffice_doc_id} ({f.kind})",
                            outcome=f.repair_result,
                            code=f.dossier_code,
                        )
    counts = summarize(found)
    log.info("reconciliation %s..%s:\n%s", start, end, findings_summary_vi(counts))
    return counts


def alert_on_findings(context: dict[str, Any], counts: dict[str, int]) -> bool:
    """Alert operators when reconciliation found something a person must look at."""

    unrepaired = {k: counts.get(k, 0) - counts.get(repaired_key(k), 0) for k in ALERTING}
    if not any(unrepaired.values()):
        return False
    LienthongAlertNotifier(
        title="Liên thông: cần xử lý", message=findings_summary_vi(counts)
    ).notify(context)
    return True


def recheck_quarantine(context: dict[str, Any], limit: int) -> dict[str, int]:
    """Re-read the due quarantine records from their sources; heal what is valid now."""

    with resources_from_airflow() as resources:
        return heal(resources, run_context(context), limit=limit).as_dict()


def alert_unhealed(context: dict[str, Any], near_due_days: int) -> int:
    """Tell operators, once per cause, about records no automatic attempt will fix and about
    quarantined decision dossiers close to their due date."""

    engine = store_engine()
    calendar = calendar_config().calendar
    with Session(engine) as session:
        as_of = portal_now(session) or datetime.now(UTC)
        items = not_yet_alerted(session, needs_person(session, as_of, near_due_days, calendar))
    if not items:
        return 0
    LienthongAlertNotifier(
        title="Liên thông: hồ sơ cách ly cần người xử lý", message=alert_text_vi(items)
    ).notify(context)
    with Session(engine) as session, session.begin():
        mark_alerted(session, items, datetime.now(UTC))
    return len(items)


def alert_deadlines(context: dict[str, Any], limit: int) -> dict[str, int]:
    """Tell each unit's handler and leader, once per dossier, stage and agreed date, that a
    decision dossier is near its due date or past it (``pipeline.deadlines``). Alerts are written
    before they are sent and marked after: a failed send is tried again on the next run."""

    settings = calendar_config()
    engine = store_engine()
    routing = routing_with_decisions(engine=engine)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        today = local_day(portal_now(session) or now)
        waiting = waiting_deadlines(session, today, settings.calendar)
        due = near_due(waiting, settings.near_due_working_days)
        pending = [
            (a.dossier_code, a.stage, a.due_at)
            for a in open_alerts(session, due, routing, now)[:limit]
        ]
    sent: dict[str, int] = {}
    for key in pending:
        with Session(engine) as session, session.begin():
            claims.xact_lock(session, f"deadline-alert:{key[0]}:{key[1]}")  # one sender at a time
            alert = session.get(DeadlineAlert, key)
            if alert is None or alert.sent_at is not None:  # another run sent it meanwhile
                continue
            LienthongAlertNotifier(
                title="Liên thông: hồ sơ sắp đến hạn hoặc quá hạn trả kết quả",
                message=deadline_text_vi(alert),
                recipients=tuple(alert.recipients),
                key=alert_key(alert),
            ).notify(context)
            alert.sent_at = datetime.now(UTC)
            sent[alert.stage] = sent.get(alert.stage, 0) + 1
    log.info("deadline alerts: %d waiting, %d near due, sent %s", len(waiting), len(due), sent)
    return {"waiting": len(waiting), "near_due": len(due), **sent}


def purge_personal_data(context: dict[str, Any]) -> dict[str, int]:
    """Apply the retention period to everything the record of processing lists
    (``docs/personal-data.md``): quarantine records reduced to their lookup keys, then subjects,
    error texts and settled national bodies thinned (``store.retention``). Counts stay."""

    days = retention_days()
    now = datetime.now(UTC)
    with Session(store_engine()) as session, session.begin():
        report = purge_payloads(session, now, days)
        thinned = thin_personal_data(session, now, days, NationalClient.settled_body)
        summary = {
            "resolved": report.resolved,
            "expired": report.expired,
            "retention_days": days,
            **thinned.as_dict(),
        }
        add_event(session, run_context(context), None, "personal_data_purged", detail=summary)
    log.info("personal data retention (%d days): %s", days, summary)
    return summary


def find_missing_routes(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Put each missing route not yet asked to a person: the Required Actions to open (their
    subject, body and choices; the questions themselves are kept in the store)."""

    look = TaskLookup()
    engine = store_engine(look)
    routing = routing_with_decisions(look, engine)
    with Session(engine) as session, session.begin():
        asked = ask_routes(session, missing_routes(session), datetime.now(UTC), context["run_id"])
        questions = routes_as_xcom(asked, routing)
    log.info("route questions opened: %d", len(questions))
    return [{k: q[k] for k in ("subject", "body", "options")} for q in questions]


def apply_route_answers(context: dict[str, Any], asked_task: str) -> dict[str, str]:
    """Record each answer as the routing overlay (audited with who answered) and replay the
    dossiers that waited for it. A question left unanswered (timed out) is closed so that the next
    run asks it again."""

    run, now = run_context(context), datetime.now(UTC)
    engine = store_engine()
    routing = routing_with_decisions(engine=engine)
    with Session(engine) as session:
        questions = list(
            session.scalars(
                select(RouteQuestion)
                .where(RouteQuestion.run_id == context["run_id"])
                .order_by(RouteQuestion.id)
            )
        )
        waiting = {route.key: route for route in missing_routes(session)}
    outcomes: dict[str, str] = {}
    for index, question in enumerate(questions):
        response = context["ti"].xcom_pull(task_ids=asked_task, map_indexes=index)
        key = (question.procedure_code, question.agency_code, question.reason_code)
        route = waiting.get(key)
        with Session(engine) as session, session.begin():
            if not response or not response.get("chosen_options"):
                row = session.get(RouteQuestion, question.id)
                row.answer, row.answered_at = "(không có trả lời)", now
                outcomes[str(question.id)] = "unanswered"
                continue
            if route is None:  # settled meanwhile (a routing change, a replay): nothing waits
                row = session.get(RouteQuestion, question.id)
                row.answer, row.answered_at = "(đã tự khắc phục)", now
                outcomes[str(question.id)] = "settled"
                continue
            user = (response.get("responded_by_user") or {}).get("name") or "unknown"
            choice = response["chosen_options"][0]
            answer_route(session, run, question.id, route, choice, routing, user, now)
        outcomes[str(question.id)] = _replay_all(run, route.quarantine_ids)
    log.info("route answers applied: %s", outcomes)
    return outcomes


def _replay_all(run: RunContext, quarantine_ids: tuple[int, ...]) -> str:
    """Replay the dossiers a decided route settles, with the routing that now includes it."""
    with resources_from_airflow() as resources:
        results = [str(replay(resources, run, qid).status) for qid in quarantine_ids]
    return ", ".join(sorted(set(results))) or "nothing to replay"


def replay_quarantined(context: dict[str, Any]) -> dict[str, str]:
    """Replay the quarantine records named in the run's form, on a worker; each replay is audited
    with the run's triggering user, the reason given, and its outcome."""

    params = context["params"]
    ids = [int(i) for i in params.get("quarantine_ids") or []]
    if not ids:
        raise ValueError("quarantine_ids is empty: name the quarantine records to replay")
    reason = str(params.get("reason") or "").strip()[:500]
    run = run_context(context)
    actor = triggering_user(context) or "unknown"
    outcomes: dict[str, str] = {}
    with resources_from_airflow(national=True) as resources:
        for quarantine_id in ids:
            try:
                outcome = replay(resources, run, quarantine_id)
                result = str(outcome.status)
            except LookupError:
                result = "not_found"
            except Exception as exc:  # noqa: BLE001 - audited whatever it is, then raised
                _audit_replay(
                    resources, run, actor, quarantine_id, f"failed: {type(exc).__name__}", reason
                )
                raise  # an outage: Airflow retries the run; items replayed already are found done
            _audit_replay(resources, run, actor, quarantine_id, result, reason)
            outcomes[str(quarantine_id)] = result
    log.info("replay by %s: %s", actor, outcomes)
    return outcomes


def _audit_replay(
    resources: Resources, run: RunContext, actor: str, quarantine_id: int, outcome: str, reason: str
) -> None:
    with resources.session() as session:
        record_quarantine_action(
            session,
            run,
            actor=actor,
            action="replay",
            quarantine_id=quarantine_id,
            outcome=outcome,
            reason=reason,
        )
