"""Intake: pull new and changed dossiers from the portal, route, push to iOffice, note it on
the portal.

Exactly-once effects come from ordering and idempotent writes, not from luck:
1. the dossier's link record (and the intake cursor) commit first, per batch;
2. the push follows; a push repeated after a crash is answered "already exists",
   naming the same document, which is then recorded;
3. the portal step/status follow, each checked against the dossier before writing.
A crash anywhere leaves links in ``seen`` or ``transferred``-not-notified, which
:func:`complete_pending` finishes from the store, so nothing is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.clients.errors import RemoteError
from lienthong.clients.portal_shapes import to_dossier, without_personal_data
from lienthong.domain.dossier import Dossier, InvalidDossier, Step
from lienthong.domain.dossier_checks import fact_problem
from lienthong.domain.masking import error_text, get_logger
from lienthong.domain.problem import Problem
from lienthong.domain.states import LinkState, QuarantineSource, QuarantineStatus
from lienthong.domain.vocabulary import STEP_TRANSFERRED_VI, DossierStatus, ResultKind
from lienthong.domain.working_calendar import local_day
from lienthong.pipeline.metrics import timed
from lienthong.pipeline.outcomes import IntakeCount
from lienthong.pipeline.quarantine_causes import quarantine_item
from lienthong.pipeline.resources import Resources, qualified_doc_id
from lienthong.pipeline.routing import NoRoute, Route, route_for
from lienthong.store import claims, ledger
from lienthong.store.schema import DossierLink, Quarantine

log = get_logger(__name__)
CURSOR = "dossier_intake"
LINKS_LOCK = "dossier-links"  # serialises creating and moving link records across flows
# The portal's own time at the last pull (its HTTP Date header, within the adapter's bound).
PORTAL_CLOCK = "portal_clock"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
OPEN_STATUSES = {DossierStatus.ACCEPTED, DossierStatus.PROCESSING}
# Statuses a dossier may reach after "processing" began: noting the transfer is then moot.
MOVED_ON = tuple(s for s in DossierStatus if s > DossierStatus.PROCESSING)


@dataclass(frozen=True)
class Window:
    """Which dossiers to pull: by update time (scheduled/backfill), optionally narrowed."""

    updated_from: datetime
    updated_to: datetime | None = None
    agencies: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    accepted_from: datetime | None = None  # backfill: dossiers received in [from, to)
    accepted_to: datetime | None = None


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _raw_dossiers(resources: Resources, window: Window) -> Iterator[dict[str, Any]]:
    if window.codes:
        for code in window.codes:
            raw = resources.portal.find_by_code(code)
            if raw is not None:
                yield raw
        return
    for agency in window.agencies or (None,):
        yield from resources.portal.iter_updated(
            window.updated_from,
            window.updated_to,
            agency=agency,
            accepted_from=window.accepted_from,
            accepted_to=window.accepted_to,
        )


def pull_and_link(
    resources: Resources,
    run: ledger.RunContext,
    window: Window,
    *,
    advance_cursor: bool,
    dry_run: bool = False,
) -> dict[IntakeCount, int]:
    """Pull the window's dossiers, record them, push routed new ones, note the transfer."""
    counts: Counter[IntakeCount] = Counter()
    for batch in _batches(_raw_dossiers(resources, window), resources.batch_size):
        counts[IntakeCount.FETCHED] += len(batch)
        if dry_run:
            counts.update(_dry_run_batch(resources, batch))
            continue
        to_push = _record_batch(resources, run, batch, counts, advance_cursor)
        counts.update(_push_all(resources, run, to_push))
    if not dry_run and resources.portal.server_time is not None:
        with resources.session() as session:
            ledger.set_clock(session, run, PORTAL_CLOCK, resources.portal.server_time)
    return dict(counts)


def _dry_run_batch(resources: Resources, batch: list[dict[str, Any]]) -> Counter[IntakeCount]:
    out: Counter[IntakeCount] = Counter()
    parsed = [parse_dossier(resources, raw) for raw in batch]
    valid = [dossier for dossier in parsed if isinstance(dossier, Dossier)]
    out[IntakeCount.WOULD_QUARANTINE] += len(parsed) - len(valid)
    with resources.session() as session:
        known = ledger.links_by_dossier_id(session, [dossier.id for dossier in valid])
    out[IntakeCount.MISSING] += sum(1 for dossier in valid if dossier.id not in known)
    out[IntakeCount.KNOWN] += sum(1 for dossier in valid if dossier.id in known)
    return out


def parse_dossier(resources: Resources, raw: dict[str, Any]) -> Dossier | InvalidDossier:
    """The dossier, or why it cannot be taken: the portal adapter's checks, then the facts'."""
    routing = resources.routing
    try:
        dossier = to_dossier(raw, routing.known_procedures)
    except InvalidDossier as exc:
        return exc
    now = resources.portal.server_time or datetime.now(UTC)
    problem = fact_problem(dossier, now, routing.dossier_code_pattern, routing.known_agencies)
    return problem or dossier


def _against_link(dossier: Dossier, link: DossierLink) -> InvalidDossier | None:
    """What a new version of a linked dossier may not change: its code, and its agreed date may
    only move later (an extension; an earlier date would make a late dossier look on time)."""
    if link.dossier_code != dossier.code:
        return InvalidDossier(
            "code_changed",
            f"Hồ sơ đã liên thông với mã {link.dossier_code} "
            f"nay được gửi với mã khác ({dossier.code[:64]})",
            f"dossier id {dossier.id} linked as {link.dossier_code}, "
            f"now served as {dossier.code[:64]!r}",
            dossier.id,
            link.dossier_code,
        )
    if link.due_at and dossier.due_at and local_day(dossier.due_at) < local_day(link.due_at):
        return InvalidDossier(
            "due_moved_back",
            f"Ngày hẹn trả mới ({local_day(dossier.due_at):%d/%m/%Y}) sớm hơn ngày hẹn trả đã "
            f"thống nhất ({local_day(link.due_at):%d/%m/%Y}): gia hạn không được lùi ngày hẹn trả; "
            "đề nghị kiểm tra lại trên hệ thống Một cửa",
            f"dossier {link.dossier_code}: due date moved back from "
            f"{local_day(link.due_at)} to {local_day(dossier.due_at)}",
            dossier.id,
            link.dossier_code,
        )
    return None


def _record_batch(
    resources: Resources,
    run: ledger.RunContext,
    batch: list[dict[str, Any]],
    counts: Counter[IntakeCount],
    advance_cursor: bool,
) -> list[tuple[Dossier, Route]]:
    """One transaction: links, quarantine, routing decisions, cursor. Returns what to push."""
    parsed = [(raw, parse_dossier(resources, raw)) for raw in batch]
    valid = [dossier for _, dossier in parsed if isinstance(dossier, Dossier)]
    to_push: list[tuple[Dossier, Route]] = []
    with resources.session() as session:
        claims.xact_lock(
            session, LINKS_LOCK
        )  # concurrent flows meeting the same new dossier: one link
        known = ledger.links_by_dossier_id(session, [dossier.id for dossier in valid])
        open_q = _open_quarantine_keys(session, [dossier.id for dossier in valid])
        for raw, item in parsed:
            if isinstance(item, InvalidDossier):
                _quarantine_invalid(resources, session, run, raw, item)
                counts[IntakeCount.QUARANTINED] += 1
                continue
            dossier = item
            link = known.get(dossier.id)
            problem = _against_link(dossier, link) if link is not None else None
            if problem is not None:
                _quarantine_invalid(resources, session, run, raw, problem)
                counts[IntakeCount.QUARANTINED] += 1
                continue
            route = _record_valid(resources, session, run, dossier, known, counts)
            if route is not None:
                to_push.append((dossier, route))
            if dossier.id in open_q:
                ledger.resolve_quarantine(
                    session,
                    run,
                    source=QuarantineSource.PORTAL_DOSSIER,
                    key=dossier.id,
                    resolution="dossier read correctly on a later pull",
                )
        if advance_cursor and valid:
            last = max(valid, key=lambda dossier: (dossier.updated_at, dossier.id))
            ledger.set_cursor(session, run, CURSOR, last.updated_at, last.id)
    return to_push


def _quarantine_invalid(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    raw: dict[str, Any],
    item: InvalidDossier,
) -> None:
    quarantine_item(
        resources,
        session,
        run,
        item,
        source=QuarantineSource.PORTAL_DOSSIER,
        key=item.key,
        code=item.code,
        payload={"dossier": without_personal_data(raw)},
    )
    log.warning("dossier %s quarantined: %s", item.code or item.key, item.reason_code)


def _record_valid(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    dossier: Dossier,
    known: dict[str, DossierLink],
    counts: Counter[IntakeCount],
) -> Route | None:
    """Create or refresh the dossier's link; the route when it is new work for iOffice."""
    link = known.get(dossier.id)
    if link is None:
        kind = resources.routing.procedures[dossier.procedure_code].result_kind
        link = known[dossier.id] = ledger.new_link(session, run, dossier, kind)
        counts[IntakeCount.NEW] += 1
    else:
        if _extended(link, dossier):
            ledger.record_extension(session, run, link, dossier.due_at, dossier.due_note)
            counts[IntakeCount.EXTENDED] += 1
        refreshed = ledger.refresh_from_portal(session, run, link, dossier)
        counts[IntakeCount.UPDATED if refreshed else IntakeCount.UNCHANGED] += 1
        if link.state != LinkState.SEEN or link.result_kind != ResultKind.DECISION:
            return None
    return _decide_route(resources, session, run, link, dossier, counts)


def _extended(link: DossierLink, dossier: Dossier) -> bool:
    """The agreed date moved to a later day (a time of day moved within the day is no extension)."""
    return bool(
        link.due_at and dossier.due_at and local_day(dossier.due_at) > local_day(link.due_at)
    )


def _open_quarantine_keys(session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    rows = session.scalars(
        select(Quarantine.item_key).where(
            Quarantine.source == QuarantineSource.PORTAL_DOSSIER,
            Quarantine.status == QuarantineStatus.OPEN,
            Quarantine.item_key.in_(ids),
        )
    )
    return set(rows)


def _decide_route(
    resources: Resources,
    session,
    run: ledger.RunContext,
    link: DossierLink,
    dossier: Dossier,
    counts: Counter[IntakeCount],
) -> Route | None:
    try:
        route = route_for(resources.routing, dossier.procedure_code, dossier.agency_code)
    except NoRoute as exc:
        ledger.move(session, run, link, LinkState.QUARANTINED, detail={"reason": "no_route"})
        message = (
            f"Chưa cấu hình đơn vị iOffice cho thủ tục {dossier.procedure_code} "
            f"tại đơn vị {dossier.agency_code}"
        )
        quarantine_item(
            resources,
            session,
            run,
            Problem("no_route", message, str(exc)),
            source=QuarantineSource.PORTAL_DOSSIER,
            key=dossier.id,
            code=dossier.code,
            payload={"dossier_id": dossier.id},
        )
        counts[IntakeCount.QUARANTINED] += 1
        return None
    if route is None:
        ledger.move(
            session, run, link, LinkState.SKIPPED, detail={"reason": "result signed on the papers"}
        )
        counts[IntakeCount.SKIPPED] += 1
        return None
    if dossier.status not in OPEN_STATUSES:
        # Already finished, withdrawn or stopped on the portal: nothing left to draft in iOffice.
        ledger.move(
            session,
            run,
            link,
            LinkState.SKIPPED,
            detail={"reason": f"portal status {dossier.status}"},
        )
        counts[IntakeCount.SKIPPED_CLOSED] += 1
        return None
    return route


def _push_all(
    resources: Resources, run: ledger.RunContext, to_push: list[tuple[Dossier, Route]]
) -> Counter[IntakeCount]:
    """Push concurrently (bounded), record transfers in one transaction, then note them on the
    portal.

    The batch's dossiers are claimed first: a dossier another flow is pushing is left to it (it
    stays ``seen`` if that flow dies, and the next run finishes it), so two flows never push one."""
    out: Counter[IntakeCount] = Counter()
    if not to_push:
        return out
    keys = {dossier.id: dossier_claim(dossier.id) for dossier, _ in to_push}
    with claims.held_many(resources.engine, list(keys.values()), resources.claim_ttl) as lease:
        mine = [(dossier, route) for dossier, route in to_push if keys[dossier.id] in lease.keys]
        out[IntakeCount.PUSH_BUSY] += len(to_push) - len(mine)
        with resources.session() as session:  # what an earlier holder of a claim recorded meanwhile
            links = ledger.links_by_dossier_id(session, [dossier.id for dossier, _ in mine])
        mine = [
            (dossier, route) for dossier, route in mine if links[dossier.id].state == LinkState.SEEN
        ]
        pushed, counts = _push_claimed(resources, run, mine)
        out.update(counts)
        out.update(
            _notify_portal(
                resources,
                run,
                [
                    (dossier.id, dossier.code, route, dossier.due_at, at)
                    for dossier, route, at in pushed
                ],
                lease,
            )
        )
    return out


def _push_claimed(
    resources: Resources, run: ledger.RunContext, to_push: list[tuple[Dossier, Route]]
) -> tuple[list[tuple[Dossier, Route, datetime]], Counter[IntakeCount]]:
    out: Counter[IntakeCount] = Counter()
    if not to_push:
        return [], out
    now = datetime.now(UTC)

    def push(item: tuple[Dossier, Route]) -> tuple[Dossier, Route, str | None, bool, str | None]:
        dossier, route = item
        try:
            target = resources.routing.ioffice_target(route.unit.ioffice_unit.code)
            with timed(resources.metrics, "push_seconds"):
                result = resources.ioffice_by_conn(target.conn_id).push(dossier, route, now)
            doc_id = qualified_doc_id(result.doc_id, target.conn_id)
            return dossier, route, doc_id, result.created, None
        except Exception as exc:  # noqa: BLE001 - one failing dossier must not stop the batch
            # Every push's outcome is recorded below; an exception out of the pool would lose the
            # others' document ids, and they would be pushed again.
            return dossier, route, None, False, error_text(exc, (dossier.applicant_name,))

    with ThreadPoolExecutor(max_workers=resources.concurrency) as pool:
        results = list(pool.map(push, to_push))
    pushed: list[tuple[Dossier, Route, datetime]] = []
    with resources.session() as session:
        claims.xact_lock(session, LINKS_LOCK)
        links = ledger.links_by_dossier_id(session, [dossier.id for dossier, *_ in results])
        for dossier, route, doc_id, created, error in results:
            link = links[dossier.id]
            if doc_id is None:
                link.last_error = error
                ledger.add_event(session, run, dossier.code, "push_failed", detail={"error": error})
                out[IntakeCount.PUSH_FAILED] += 1
                continue
            if link.state != LinkState.SEEN:
                continue
            ledger.move(
                session,
                run,
                link,
                LinkState.TRANSFERRED,
                ioffice_doc_id=doc_id,
                transferred_at=now,
                last_error=None,
                routed_unit=route.unit.ioffice_unit.code,
                routed_signer_uid=route.unit.signer.certificate_uid or route.unit.signer.account,
                routed_signer_name=route.unit.signer.name,
                detail={
                    "doc_id": doc_id,
                    "unit": route.unit.ioffice_unit.code,
                    "already_existed": not created,
                },
            )
            out[IntakeCount.TRANSFERRED if created else IntakeCount.TRANSFERRED_EXISTING] += 1
            pushed.append((dossier, route, now))
    return pushed, out


def dossier_claim(dossier_id: str) -> str:
    """The claim a process holds while it writes to this dossier on the portal (one writer at a
    time)."""
    return f"portal-dossier:{dossier_id}"


BUSY = "busy"  # another process holds the dossier's claim: it is left for a later run, not failed


def _notify_portal(
    resources: Resources,
    run: ledger.RunContext,
    items: list[tuple[str, str, Route | None, datetime | None, datetime]],
    lease: claims.Lease | None = None,
) -> Counter[IntakeCount]:
    """Record "transferred to iOffice" on the portal: status 4 with the step, then the flag. The
    step's time is the transfer's, so a repeat is recognised on the portal. Each dossier under its
    claim (``lease``: the caller holds those claims already)."""
    out: Counter[IntakeCount] = Counter()
    if not items:
        return out

    def notify(
        item: tuple[str, str, Route | None, datetime | None, datetime],
    ) -> tuple[str, str | None]:
        dossier_id, code, route, due, at = item
        step = (
            Step(code, STEP_TRANSFERRED_VI, DossierStatus.PROCESSING, at, due=due)
            if route is None
            else Step(
                code,
                STEP_TRANSFERRED_VI,
                DossierStatus.PROCESSING,
                at,
                person=route.unit.handler.name,
                title=route.unit.handler.title,
                unit=route.unit.ioffice_unit.name,
                due=due,
            )
        )
        try:
            if lease is not None and dossier_claim(dossier_id) in lease.keys:
                resources.portal.set_status_once(
                    dossier_id, DossierStatus.PROCESSING, step, beyond=MOVED_ON
                )
                return dossier_id, None
            with claims.held(
                resources.engine, dossier_claim(dossier_id), resources.claim_ttl
            ) as own:
                if own is None:
                    return dossier_id, BUSY
                resources.portal.set_status_once(
                    dossier_id, DossierStatus.PROCESSING, step, beyond=MOVED_ON
                )
            return dossier_id, None
        except Exception as exc:  # noqa: BLE001 - kept on its link; the others' results recorded
            return dossier_id, error_text(exc)

    with ThreadPoolExecutor(max_workers=resources.concurrency) as pool:
        results = list(pool.map(notify, items))
    with resources.session() as session:
        links = ledger.links_by_dossier_id(session, [i for i, _ in results])
        for dossier_id, error in results:
            link = links[dossier_id]
            if error == BUSY:
                out[IntakeCount.NOTIFY_BUSY] += 1
                continue
            if error:
                link.last_error = error
                out[IntakeCount.NOTIFY_FAILED] += 1
                continue
            link.portal_notified = True
            ledger.add_event(
                session,
                run,
                link.dossier_code,
                "portal_step",
                detail={"step": STEP_TRANSFERRED_VI, "status": int(DossierStatus.PROCESSING)},
            )
            out[IntakeCount.PORTAL_NOTIFIED] += 1
    return out


def complete_pending(
    resources: Resources, run: ledger.RunContext, limit: int = 5000
) -> dict[IntakeCount, int]:
    """Finish links a crash or a failed call left halfway: routed-but-not-pushed,
    pushed-but-not-noted."""
    counts: Counter[IntakeCount] = Counter()
    with resources.session() as session:
        seen = list(
            session.scalars(
                select(DossierLink)
                .where(
                    DossierLink.state == LinkState.SEEN,
                    DossierLink.result_kind == ResultKind.DECISION,
                )
                .limit(limit)
            )
        )
        unnoted = list(
            session.scalars(
                select(DossierLink)
                .where(
                    DossierLink.state != LinkState.SEEN,
                    DossierLink.ioffice_doc_id.is_not(None),
                    DossierLink.portal_notified.is_(False),
                )
                .limit(limit)
            )
        )
    for batch in _batches(seen, resources.batch_size):
        raws = _fetch_many(resources, [link.dossier_id for link in batch])
        counts[IntakeCount.REFETCHED] += len(raws)
        counts.update(link_raw(resources, run, raws))
    items = []
    for link in unnoted:
        try:
            route = route_for(resources.routing, link.procedure_code, link.agency_code)
        except (NoRoute, KeyError):
            route = None
        items.append(
            (
                link.dossier_id,
                link.dossier_code,
                route,
                link.due_at,
                link.transferred_at or link.state_changed_at,
            )
        )
    counts.update(_notify_portal(resources, run, items))
    return dict(counts)


def link_raw(
    resources: Resources, run: ledger.RunContext, raws: list[dict[str, Any]]
) -> dict[IntakeCount, int]:
    """Record and push dossiers read one by one (pending work, replays); the cursor stays."""
    counts: Counter[IntakeCount] = Counter()
    to_push = _record_batch(resources, run, raws, counts, advance_cursor=False)
    counts.update(_push_all(resources, run, to_push))
    return dict(counts)


def _fetch_many(resources: Resources, ids: list[str]) -> list[dict[str, Any]]:
    def fetch(dossier_id: str) -> dict[str, Any] | None:
        try:
            return resources.portal.get_dossier(dossier_id)
        except RemoteError as exc:  # left for the next run; the others are read
            log.warning("could not re-read dossier %s: %s", dossier_id, type(exc).__name__)
            return None

    with ThreadPoolExecutor(max_workers=resources.concurrency) as pool:
        return [r for r in pool.map(fetch, ids) if r is not None]


def scheduled_window(resources: Resources, overlap: timedelta) -> Window:
    """From the stored high-water mark minus an overlap (late commits on the portal)."""
    with resources.session() as session:
        cursor = ledger.get_cursor(session, CURSOR)
    start = (cursor.updated_at - overlap) if cursor else EPOCH
    return Window(updated_from=start)
