"""National sync: every dossier's record and steps to the national portal (DVCQG), in order per
dossier, exactly once.

Same method as the rest of the link — ledger first, idempotent writes, settle what is unsure:
1. **observe**: dossiers changed on the portal since the sync's own cursor are read; a record
   snapshot (when what the national record holds changed) and each new step are queued in the
   outbox, with the cursor, in one transaction; a dossier that cannot be read is remembered and
   read again by every run until it reads (the cursor moves on without losing it);
2. **settle**: items handed to the network by a run that never recorded the answer (a crash, a
   lost response) are settled first: a record goes back to pending (repeating a snapshot is
   harmless), a step is marked sent if the national side holds it, else pending;
3. **send**: record snapshots in queue order, then the steps of dossiers the national side holds,
   in queue order, batched; each batch is marked ``sending`` before the call.
What the national side refuses is quarantined with its reason; one refusal never stops the rest.
Steps follow their dossier's record; records and steps are each in order (the national record
keeps the two apart).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lienthong.clients.http import RemoteRefused, is_auth_refusal
from lienthong.clients.national import AmbiguousWrite, NationalClient
from lienthong.clients.portal_national_shapes import to_national_record
from lienthong.clients.portal_shapes import sort_key
from lienthong.domain.dossier import InvalidDossier
from lienthong.domain.masking import get_logger, mask_text
from lienthong.domain.national_record import (
    ItemKind,
    ItemResult,
    ItemState,
    NationalRecord,
    Outcome,
    plan_items,
    record_timeliness,
    settle_unconfirmed,
)
from lienthong.domain.problem import Problem
from lienthong.domain.states import QuarantineSource
from lienthong.pipeline.intake import parse_dossier
from lienthong.pipeline.outcomes import AMBIGUOUS_NATIONAL_WRITES, REFUSED, SENT, NationalCount
from lienthong.pipeline.quarantine_causes import quarantine_item
from lienthong.pipeline.resources import Resources
from lienthong.store import claims, ledger
from lienthong.store.schema import NationalSyncDossier, NationalSyncItem, NationalSyncUnread

log = get_logger(__name__)
CURSOR = "national_sync"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
UNSURE_ROUNDS = 4  # lost answers tolerated per run before the rest waits for the next run
MAX_ROUNDS = 1000  # a bound, not a target: a run sends everything queued unless the service fails
SEND_LIMIT = 2000  # items per kind per round (one claim, one transaction)
OUTBOX_CLAIM = "national-outbox"  # the one sender at a time (settle + send)
OUTBOX_WAIT = 120.0  # seconds a replay or repair waits for a running send to finish
QUEUE_LOCK = "national-queue"


class OutboxBusy(RuntimeError):
    """Another run holds the national outbox for longer than a repair waits."""


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def national(resources: Resources) -> NationalClient:
    if resources.national is None:
        raise RuntimeError(
            "the national portal client is not configured (Connection lienthong_dvcqg)"
        )
    return resources.national


def sync(
    resources: Resources, run: ledger.RunContext, overlap: timedelta, pause: float = 0.5
) -> dict[NationalCount, int]:
    """One scheduled run: observe what changed, read again what could not be read, send all queued.
    ``pause``: the first backoff after a lost answer, doubled each time."""
    counts: Counter[NationalCount] = Counter()
    counts.update(
        reread_unread(resources, run)
    )  # first: what this run notes unread waits for the next
    counts.update(observe(resources, run, overlap))
    counts.update(send_pending(resources, run, pause))
    return dict(counts)


# -- 1. observe ------------------------------------------------------------------------------


def observe(
    resources: Resources,
    run: ledger.RunContext,
    overlap: timedelta,
    updated_to: datetime | None = None,
) -> Counter[NationalCount]:
    """Queue what changed on the portal since the cursor (minus ``overlap``: late commits there)."""
    with resources.session() as session:
        cursor = ledger.get_cursor(session, CURSOR)
    start = (cursor.updated_at - overlap) if cursor else EPOCH
    counts: Counter[NationalCount] = Counter()
    for batch in _batches(resources.portal.iter_updated(start, updated_to), resources.batch_size):
        counts[NationalCount.OBSERVED] += len(batch)
        counts.update(queue_raws(resources, run, batch, advance_cursor=True))
    return counts


def queue_raws(
    resources: Resources,
    run: ledger.RunContext,
    raws: list[dict[str, Any]],
    *,
    advance_cursor: bool,
) -> Counter[NationalCount]:
    """Queue the dossiers read from the portal (one transaction with the cursor)."""
    counts: Counter[NationalCount] = Counter()
    records: list[NationalRecord] = []
    unread: list[InvalidDossier] = []
    for raw in raws:
        checked = parse_dossier(resources, raw)  # the link's own checks first: a glitched reading
        try:  # (future date, markup, unknown agency...) must never reach the national record
            if isinstance(checked, InvalidDossier):
                raise checked
            record = to_national_record(raw, resources.portal.file_url)
        except InvalidDossier as exc:  # intake quarantines the same dossier with the same reason
            unread.append(exc)
            log.warning(
                "dossier %s not synced yet, unreadable: %s", exc.code or exc.key, exc.reason_code
            )
            continue
        if resources.national_config.syncs(record.agency_code):
            records.append(record)
        else:
            counts[NationalCount.NOT_CONFIGURED] += 1
    positions = [
        p for p in (sort_key(raw) for raw in raws if isinstance(raw, dict)) if p is not None
    ]
    with resources.session() as session:
        claims.xact_lock(
            session, QUEUE_LOCK
        )  # one queue writer at a time: a step is queued once, seqs unique
        counts[NationalCount.UNREADABLE] += _note_unread(
            session, unread, resources.portal.server_time or ledger.utcnow()
        )
        counts.update(queue_records(session, run, national(resources), records))
        if advance_cursor and positions:
            updated_at, dossier_id = max(positions)
            ledger.set_cursor(session, run, CURSOR, updated_at, dossier_id)
    return counts


def queue_records(
    session: Session, run: ledger.RunContext, client: NationalClient, records: list[NationalRecord]
) -> Counter[NationalCount]:
    counts: Counter[NationalCount] = Counter()
    if not records:
        return counts
    codes = list({r.code for r in records})
    states = {
        s.dossier_code: s
        for s in session.scalars(
            select(NationalSyncDossier).where(NationalSyncDossier.dossier_code.in_(codes))
        )
    }
    queued: dict[str, set[str]] = defaultdict(set)
    for code, key in session.execute(
        select(NationalSyncItem.dossier_code, NationalSyncItem.item_key).where(
            NationalSyncItem.dossier_code.in_(codes), NationalSyncItem.kind == ItemKind.STEP
        )
    ):
        queued[code].add(key)
    now = ledger.utcnow()
    session.execute(delete(NationalSyncUnread).where(NationalSyncUnread.dossier_code.in_(codes)))
    for record in records:
        state = states.get(record.code)
        if state is None:
            state = states[record.code] = NationalSyncDossier(
                dossier_code=record.code,
                agency_code=record.agency_code,
                agency_name=record.agency_name,
                next_seq=1,
                on_national=False,
                first_seen_at=now,
            )
            session.add(state)
            counts[NationalCount.DOSSIERS_NEW] += 1
        _refresh_local(state, record)
        for planned in plan_items(record, state.record_fingerprint, queued[record.code]):
            is_record = planned.kind == ItemKind.RECORD
            body = client.record_body(record) if is_record else client.step_body(planned.step)
            session.add(
                NationalSyncItem(
                    dossier_code=record.code,
                    seq=state.next_seq,
                    kind=planned.kind,
                    item_key=f"record:{state.next_seq}" if is_record else planned.key[:96],
                    agency_code=record.agency_code,
                    body=body,
                    digest=planned.key if is_record else client.step_digest(body),
                    status=record.status if is_record else None,
                    timeliness=record_timeliness(record) if is_record else None,
                    state=ItemState.PENDING,
                    local_at=planned.local_at,
                    queued_at=now,
                    attempts=0,
                    run_id=run.run_id,
                )
            )
            state.next_seq += 1
            if is_record:
                state.record_fingerprint = planned.key
                counts[NationalCount.RECORDS_QUEUED] += 1
            else:
                queued[record.code].add(planned.key)
                counts[NationalCount.STEPS_QUEUED] += 1
    return counts


def _note_unread(session: Session, problems: list[InvalidDossier], now: datetime) -> int:
    """Remember dossiers that could not be read, to read them again (the cursor moves on). ``now``
    is
    the portal's clock, as the late threshold of reconciliation counts it."""
    for exc in problems:
        row = session.get(NationalSyncUnread, exc.key)
        if row is None:
            session.add(
                NationalSyncUnread(
                    dossier_id=exc.key,
                    dossier_code=exc.code,
                    reason_code=exc.reason_code,
                    first_seen_at=now,
                    last_tried_at=now,
                    attempts=1,
                )
            )
        else:
            row.reason_code, row.last_tried_at, row.attempts = (
                exc.reason_code,
                now,
                row.attempts + 1,
            )
    return len(problems)


def reread_unread(
    resources: Resources, run: ledger.RunContext, limit: int = 500
) -> Counter[NationalCount]:
    """Read again the dossiers an earlier run could not read; queue those that read now."""
    counts: Counter[NationalCount] = Counter()
    with resources.session() as session:
        rows = session.execute(
            select(NationalSyncUnread.dossier_id, NationalSyncUnread.dossier_code)
            .order_by(NationalSyncUnread.last_tried_at)
            .limit(limit)
        ).all()
    for dossier_id, code in rows:
        try:
            raw = resources.portal.get_dossier(dossier_id)
        except (
            RemoteRefused
        ) as exc:  # not an id the portal knows (the id itself was broken): by code
            if is_auth_refusal(exc):
                raise
            raw = resources.portal.find_by_code(code) if code else None
        if raw is None:  # gone from the portal: nothing to sync
            with resources.session() as session:
                session.delete(session.get(NationalSyncUnread, dossier_id))
            counts[NationalCount.UNREAD_GONE] += 1
            continue
        queued = queue_raws(resources, run, [raw], advance_cursor=False)
        counts[NationalCount.REREAD] += 1
        if queued["unreadable"]:
            counts[NationalCount.REREAD_STILL_UNREADABLE] += 1
            continue
        with (
            resources.session() as session
        ):  # read now (its code, as first noted, may have been the glitch)
            session.execute(
                delete(NationalSyncUnread).where(NationalSyncUnread.dossier_id == dossier_id)
            )
    return counts


def _refresh_local(state: NationalSyncDossier, record: NationalRecord) -> None:
    state.agency_code, state.agency_name = record.agency_code, record.agency_name
    state.local_status, state.local_timeliness = record.status, record_timeliness(record)
    state.local_updated_at = record.updated_at
    state.received_at, state.due_at, state.finished_at = (
        record.received_at,
        record.due_at,
        record.finished_at,
    )


# -- 2. settle ------------------------------------------------------------------------------


def settle(resources: Resources, run: ledger.RunContext) -> Counter[NationalCount]:
    """Settle items left ``sending``: records back to pending, steps by what the national side
    holds."""
    counts: Counter[NationalCount] = Counter()
    with resources.session() as session:
        unsure = list(
            session.scalars(
                select(NationalSyncItem)
                .where(NationalSyncItem.state == ItemState.SENDING)
                .order_by(NationalSyncItem.dossier_code, NationalSyncItem.seq)
            )
        )
    if not unsure:
        return counts
    steps = [i for i in unsure if i.kind == ItemKind.STEP]
    held = national(resources).held(sorted({i.dossier_code for i in steps})) if steps else {}
    confirmed_at = _national_now(resources)
    with resources.session() as session:
        for item in unsure:
            if item.kind == ItemKind.RECORD:
                session.get(NationalSyncItem, item.id).state = ItemState.PENDING
                counts[NationalCount.RECORDS_RESENT] += 1
        by_code: dict[str, list[NationalSyncItem]] = defaultdict(list)
        for item in steps:
            by_code[item.dossier_code].append(item)
        for code, items in by_code.items():
            confirmed = session.scalars(
                select(NationalSyncItem.digest).where(
                    NationalSyncItem.dossier_code == code,
                    NationalSyncItem.kind == ItemKind.STEP,
                    NationalSyncItem.state == ItemState.SENT,
                )
            )
            holding = held.get(code)
            flags = settle_unconfirmed(
                holding.step_digests if holding else (), list(confirmed), [i.digest for i in items]
            )
            for item, is_held in zip(items, flags, strict=True):
                row = session.get(NationalSyncItem, item.id)
                if is_held:
                    _mark_sent(session, row, confirmed_at)
                    counts[NationalCount.STEPS_FOUND_HELD] += 1
                else:
                    row.state = ItemState.PENDING
                    counts[NationalCount.STEPS_RESENT] += 1
    return counts


# -- 3. send --------------------------------------------------------------------------------


def send_pending(
    resources: Resources,
    run: ledger.RunContext,
    pause: float = 0.5,
    lease: claims.Lease | None = None,
) -> Counter[NationalCount]:
    """Settle, send records, send steps; again while there is work (``SEND_LIMIT`` items of each
    kind
    per round), backing off when a lost answer left something unsure (at most ``UNSURE_ROUNDS``).

    Only the holder of the outbox's lease sends or settles, so an item ``sending`` under a live
    lease
    is never mistaken for a crash's leftover. A run that finds the lease held leaves the sending to
    its holder (``send_busy``); a holder killed mid-send is taken over once its lease expires."""
    if lease is None:
        with claims.held(resources.engine, OUTBOX_CLAIM, resources.claim_ttl) as held:
            if held is None:
                log.info("the national outbox is being sent by another run")
                return Counter({NationalCount.SEND_BUSY: 1})
            return send_pending(resources, run, pause, held)
    counts: Counter[NationalCount] = Counter()
    unsure_rounds = 0
    for _ in range(MAX_ROUNDS):
        lease.renew()
        counts.update(settle(resources, run))
        records = _send_records(resources, run)
        steps, unsure = _send_steps(resources, run)
        counts.update(records)
        counts.update(steps)
        if unsure:
            unsure_rounds += 1
            counts[NationalCount.ROUNDS_REPEATED] += 1
            if unsure_rounds > UNSURE_ROUNDS:
                break
            time.sleep(
                pause * (2 ** (unsure_rounds - 1))
            )  # backoff before asking what the national side holds
        elif not records and not steps:
            break
    lease.renew()
    counts.update(
        settle(resources, run)
    )  # what the last round left unsure waits settled, not unsure
    return counts


def _claim(resources: Resources, kind: ItemKind) -> tuple[list[NationalSyncItem], dict[str, bool]]:
    """The next pending items of ``kind`` in queue order, marked ``sending`` (committed) before any
    call."""
    with resources.session() as session:
        query = (
            select(NationalSyncItem)
            .where(NationalSyncItem.state == ItemState.PENDING, NationalSyncItem.kind == kind)
            .order_by(NationalSyncItem.dossier_code, NationalSyncItem.seq)
            .limit(SEND_LIMIT)
        )
        if kind == ItemKind.STEP:  # a step needs its dossier on the national side first
            query = query.join(
                NationalSyncDossier,
                NationalSyncDossier.dossier_code == NationalSyncItem.dossier_code,
            ).where(NationalSyncDossier.on_national.is_(True))
        items = list(session.scalars(query))
        known = (
            {
                s.dossier_code: s.on_national
                for s in session.scalars(
                    select(NationalSyncDossier).where(
                        NationalSyncDossier.dossier_code.in_({i.dossier_code for i in items})
                    )
                )
            }
            if items
            else {}
        )
        if items:  # the state predicate: an item another writer moved meanwhile is not claimed
            claimed = set(
                session.scalars(
                    update(NationalSyncItem)
                    .where(
                        NationalSyncItem.id.in_([i.id for i in items]),
                        NationalSyncItem.state == ItemState.PENDING,
                    )
                    .values(state=ItemState.SENDING, attempts=NationalSyncItem.attempts + 1)
                    .returning(NationalSyncItem.id)
                )
            )
            items = [i for i in items if i.id in claimed]
    return items, known


def _send_records(resources: Resources, run: ledger.RunContext) -> Counter[NationalCount]:
    items, known = _claim(resources, ItemKind.RECORD)
    if not items:
        return Counter()
    results = national(resources).sync_records(
        [i.body for i in items], [known.get(i.dossier_code, False) for i in items]
    )
    return _record_results(resources, run, items, results)


def _send_steps(
    resources: Resources, run: ledger.RunContext
) -> tuple[Counter[NationalCount], bool]:
    items, _ = _claim(resources, ItemKind.STEP)
    if not items:
        return Counter(), False
    try:
        results = national(resources).add_steps([i.body for i in items])
    except AmbiguousWrite as exc:
        log.warning(
            "%d steps sent without an answer (%s): settling against the national side",
            len(items),
            exc,
        )
        resources.metrics.incr(AMBIGUOUS_NATIONAL_WRITES)
        return Counter({NationalCount.STEPS_UNSURE: len(items)}), True
    return _record_results(resources, run, items, results), False


def _national_now(resources: Resources) -> datetime:
    return national(resources).server_time or ledger.utcnow()


def _mark_sent(session: Session, row: NationalSyncItem, at: datetime) -> None:
    row.state = ItemState.SENT
    row.sent_at = at
    row.lag_seconds = max(0, int((at - row.local_at).total_seconds()))
    row.reason_code = None
    state = session.get(NationalSyncDossier, row.dossier_code)
    state.last_sent_at = at
    if row.kind == ItemKind.RECORD:
        row.body = NationalClient.settled_body(row.body)
        state.on_national = True
        state.sent_status, state.sent_timeliness = row.status, row.timeliness


def _record_results(
    resources: Resources,
    run: ledger.RunContext,
    items: list[NationalSyncItem],
    results: list[ItemResult],
) -> Counter[NationalCount]:
    counts: Counter[NationalCount] = Counter()
    at = _national_now(resources)
    codes = {i.dossier_code for i in items}
    with resources.session() as session:  # a few bulk reads, not one per item: a batch is thousands
        rows = {
            r.id: r
            for r in session.scalars(
                select(NationalSyncItem).where(NationalSyncItem.id.in_([i.id for i in items]))
            )
        }
        states = {
            d.dossier_code: d
            for d in session.scalars(  # held here: the identity map keeps only
                select(NationalSyncDossier).where(NationalSyncDossier.dossier_code.in_(codes))
            )
        }  # weak refs
        with_refusals = set(
            session.scalars(
                select(NationalSyncItem.dossier_code).where(
                    NationalSyncItem.dossier_code.in_(codes),
                    NationalSyncItem.kind == ItemKind.RECORD,
                    NationalSyncItem.state.in_((ItemState.REFUSED, ItemState.SUPERSEDED)),
                )
            )
        )
        for item, result in zip(items, results, strict=True):
            row = rows[item.id]
            if result.outcome == Outcome.OK:
                if result.recreated:  # the national side had lost the dossier: its steps go again
                    _forget_national(session, row.dossier_code, record_too=False)
                    counts[NationalCount.DOSSIERS_RECREATED] += 1
                _mark_sent(session, row, at)
                counts[SENT[row.kind]] += 1
                if row.kind == ItemKind.RECORD and row.dossier_code in with_refusals:
                    _supersede_earlier(
                        session, run, row, f"a later record (#{row.seq}) was accepted"
                    )
            else:
                _refuse(resources, session, run, row, result)
                with_refusals.add(row.dossier_code)
                counts[REFUSED[row.kind]] += 1
        del states
    return counts


def quarantine_key(row: NationalSyncItem) -> str:
    return f"{row.dossier_code}/{row.item_key}"[:128]


def _refuse(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    row: NationalSyncItem,
    result: ItemResult,
) -> None:
    row.state = ItemState.REFUSED
    row.reason_code = result.reason_code
    names = NationalClient.applicant_names(row.body)  # the refusal's text may echo them
    if row.kind == ItemKind.RECORD:
        row.body = NationalClient.settled_body(row.body)
        _supersede_earlier(session, run, row, f"replaced by record #{row.seq}, refused in its turn")
    refusal = Problem(
        result.reason_code,
        mask_text(result.message, names)[:1000],
        f"{row.kind} #{row.seq} refused by the national portal: {result.reason_code}",
    )
    quarantine_item(
        resources,
        session,
        run,
        refusal,
        source=QuarantineSource.NATIONAL_SYNC,
        key=quarantine_key(row),
        code=row.dossier_code,
        payload={"item_id": row.id, "kind": row.kind, "seq": row.seq},
    )
    log.warning(
        "national portal refused %s #%d of %s: %s",
        row.kind,
        row.seq,
        row.dossier_code,
        result.reason_code,
    )


def _supersede_earlier(
    session: Session, run: ledger.RunContext, row: NationalSyncItem, why: str
) -> None:
    """A later record snapshot (accepted, or refused in its turn) replaces refused earlier ones: at
    most one refused record per dossier stays open for operators."""
    refused = session.scalars(
        select(NationalSyncItem).where(
            NationalSyncItem.dossier_code == row.dossier_code,
            NationalSyncItem.kind == ItemKind.RECORD,
            NationalSyncItem.state.in_((ItemState.REFUSED, ItemState.SUPERSEDED)),
            NationalSyncItem.seq < row.seq,
        )
    )
    for old in refused:
        old.state = ItemState.SUPERSEDED
        ledger.resolve_quarantine(
            session,
            run,
            source=QuarantineSource.NATIONAL_SYNC,
            key=quarantine_key(old),
            resolution=why,
        )


# -- replay ---------------------------------------------------------------------------------


def _forget_national(session: Session, code: str, *, record_too: bool = True) -> None:
    """The national side holds nothing of this dossier: every step again (and a fresh record)."""
    state = session.get(NationalSyncDossier, code)
    if record_too:
        state.record_fingerprint = None  # the next read queues a fresh snapshot
        state.on_national = False
    for step in session.scalars(
        select(NationalSyncItem).where(
            NationalSyncItem.dossier_code == code,
            NationalSyncItem.kind == ItemKind.STEP,
            NationalSyncItem.state == ItemState.SENT,
        )
    ):
        step.state = ItemState.PENDING


def resync_dossier(resources: Resources, run: ledger.RunContext, code: str) -> bool:
    """Queue a dossier the national side lost from scratch (reconciliation's repair); the next run
    sends it. False when the portal no longer has it."""
    with claims.held(
        resources.engine, OUTBOX_CLAIM, resources.claim_ttl, wait=OUTBOX_WAIT
    ) as lease:
        if lease is None:
            raise OutboxBusy(
                "the national outbox is held by another run; the repair is tried again later"
            )
        with resources.session() as session:
            if session.get(NationalSyncDossier, code) is None:
                return False
            _forget_national(session, code)
    raw = resources.portal.find_by_code(code)
    if raw is None:
        return False
    queue_raws(resources, run, [raw], advance_cursor=False)
    return True


def replay_item(resources: Resources, run: ledger.RunContext, item_id: int) -> str:
    """An operator's replay of a refused item: a record is re-read from the portal and queued anew;
    a step is queued again (after the whole dossier when the national side had lost it).
    The sending happens here too, so the outcome is known at once."""
    with claims.held(
        resources.engine, OUTBOX_CLAIM, resources.claim_ttl, wait=OUTBOX_WAIT
    ) as lease:
        if lease is None:
            return "busy"
        with resources.session() as session:
            row = session.get(NationalSyncItem, item_id)
            if row is None:
                return "not_found"
            if row.state != ItemState.REFUSED:
                return "sent" if row.state == ItemState.SENT else "queued"
            code, kind, reason = row.dossier_code, row.kind, row.reason_code
            if reason == "national_unknown_dossier":
                _forget_national(session, code)
            elif kind == ItemKind.RECORD:
                session.get(NationalSyncDossier, code).record_fingerprint = None
            row.state = ItemState.SUPERSEDED if kind == ItemKind.RECORD else ItemState.PENDING
        raw = resources.portal.find_by_code(code)
        if raw is not None:
            queue_raws(resources, run, [raw], advance_cursor=False)
        send_pending(resources, run, lease=lease)
    with resources.session() as session:
        row = session.get(NationalSyncItem, item_id)
        latest = session.scalar(
            select(NationalSyncItem)
            .where(NationalSyncItem.dossier_code == code, NationalSyncItem.kind == ItemKind.RECORD)
            .order_by(NationalSyncItem.seq.desc())
            .limit(1)
        )
        if kind == ItemKind.STEP:
            return "sent" if row.state == ItemState.SENT else "still_refused"
        return "sent" if latest is not None and latest.state == ItemState.SENT else "still_refused"
