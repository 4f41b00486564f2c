"""Quarantine that heals itself: open records are re-read from their source and taken up again
when their cause has passed, without a person.

Causes a retry can outlive (a portal or proxy glitch, a truncated download, a file the sender
re-issues) are re-checked on a timer with backoff. Causes only a person can fix (no iOffice unit
in the routing, an untrusted signer) are re-checked only when that configuration changes. Each
re-check goes through :func:`lienthong.pipeline.replay.replay`, the same idempotent path as the
first attempt, so a re-check repeated after a crash changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lienthong.domain.masking import get_logger
from lienthong.domain.states import QuarantineStatus
from lienthong.domain.working_calendar import (
    DEFAULT_NEAR_DUE_WORKING_DAYS,
    VIETNAM,
    WorkingCalendar,
    local_day,
)
from lienthong.pipeline.quarantine_causes import Recheck, config_kind, fingerprints, rechecks
from lienthong.pipeline.replay import replay
from lienthong.pipeline.resources import Resources
from lienthong.store import ledger
from lienthong.store.schema import DossierLink, Quarantine

log = get_logger(__name__)


# Delay before automatic attempt n+1 (n = attempts made so far); after the last, a person is told.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(days=1),
    timedelta(days=1),
    timedelta(days=1),
)
MAX_ATTEMPTS = len(BACKOFF)
HEALED_VI = "tự khắc phục"


def next_attempt_at(rec: Quarantine) -> datetime | None:
    """When the timer re-checks this record next; None once its automatic attempts are spent."""
    if Recheck.TIMER not in rechecks(rec.reason_code) or rec.heal_attempts >= MAX_ATTEMPTS:
        return None
    if rec.next_heal_at is not None:
        return rec.next_heal_at
    return _aware(rec.last_seen_at) + BACKOFF[0]


def is_due(rec: Quarantine, now: datetime, fps: dict[Recheck, str]) -> bool:
    """Due by its timer, or because the configuration its cause depends on has changed."""
    when = next_attempt_at(rec)
    if when is not None and _aware(when) <= now:
        return True
    kind = config_kind(rec.reason_code)
    return kind is not None and rec.config_fingerprint != fps[kind]


def exhausted(rec: Quarantine) -> bool:
    """Open, and no automatic attempt is left: a person must look at it."""
    if rec.status != QuarantineStatus.OPEN:
        return False
    if Recheck.TIMER in rechecks(rec.reason_code):
        return rec.heal_attempts >= MAX_ATTEMPTS
    return True  # configuration causes wait for a person from the start


@dataclass
class HealSummary:
    checked: int = 0
    healed: int = 0
    still_open: int = 0
    errors: int = 0
    healed_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "healed": self.healed,
            "still_open": self.still_open,
            "errors": self.errors,
        }


class RecheckFailed(RuntimeError):
    """A source could not be reached for some records: the run fails so operators are alerted."""


def due_records(session: Session, now: datetime, fps: dict[Recheck, str], limit: int) -> list[int]:
    rows = session.scalars(
        select(Quarantine)
        .where(Quarantine.status == QuarantineStatus.OPEN)
        .where(
            or_(
                Quarantine.next_heal_at.is_(None),
                Quarantine.next_heal_at <= now,
                Quarantine.config_fingerprint.is_(None),
                Quarantine.config_fingerprint.not_in(list(fps.values())),
            )
        )
        .order_by(Quarantine.id)
    )
    return [r.id for r in rows if is_due(r, now, fps)][:limit]


def heal(
    resources: Resources, run: ledger.RunContext, now: datetime | None = None, limit: int = 200
) -> HealSummary:
    """Re-check the open records that are due, at most ``limit`` per run, each from its source."""
    now = now or datetime.now(UTC)
    fps = fingerprints(resources)
    with resources.session() as session:
        ids = due_records(session, now, fps, limit)
    summary = HealSummary()
    for qid in ids:
        summary.checked += 1
        try:
            outcome = replay(resources, run, qid)
        except Exception as exc:  # noqa: BLE001 - one record must not stop the others' re-check
            # Mostly a source that cannot be reached: not the item's fault, no attempt counted; the
            # run fails at the end (RecheckFailed).
            summary.errors += 1
            log.warning("re-check of quarantine %s failed: %s", qid, type(exc).__name__)
            continue
        with resources.session() as session:
            rec = session.get(Quarantine, qid)
            healed = _account(session, run, rec, now, fps, outcome.detail)
        if healed:
            summary.healed += 1
            summary.healed_keys.append(rec.item_key)
        else:
            summary.still_open += 1
    log.info("quarantine re-check: %s", summary.as_dict())
    if summary.errors:
        raise RecheckFailed(
            f"{summary.errors} of {summary.checked} re-checks could not reach their source "
            f"(healed {summary.healed}, still open {summary.still_open})"
        )
    return summary


def _account(
    session: Session,
    run: ledger.RunContext,
    rec: Quarantine,
    now: datetime,
    fps: dict[Recheck, str],
    detail: str,
) -> bool:
    """Count the attempt on the record; say whether it healed."""
    attempts = rec.heal_attempts + 1
    kind = config_kind(rec.reason_code)
    if rec.status != QuarantineStatus.OPEN:
        rec.heal_attempts = attempts
        rec.next_heal_at = None
        rec.resolution = f"{HEALED_VI} sau {attempts} lần kiểm tra lại tự động ({detail})"
        ledger.add_event(
            session,
            run,
            rec.dossier_code,
            "quarantine_healed",
            detail={"quarantine_id": rec.id, "attempts": attempts, "reason": rec.reason_code},
        )
        return True
    rec.heal_attempts = (
        attempts if Recheck.TIMER in rechecks(rec.reason_code) else rec.heal_attempts
    )
    rec.next_heal_at = (
        now + BACKOFF[rec.heal_attempts] if rec.heal_attempts < MAX_ATTEMPTS else None
    )
    if kind is not None:
        rec.config_fingerprint = fps[kind]
    ledger.add_event(
        session,
        run,
        rec.dossier_code,
        "quarantine_rechecked",
        detail={
            "quarantine_id": rec.id,
            "attempts": attempts,
            "reason": rec.reason_code,
            "outcome": detail,
        },
    )
    return False


# ---------------------------------------------------------------------------- telling people


@dataclass(frozen=True)
class NeedsPerson:
    quarantine_id: int
    dossier_code: str | None
    reason_code: str
    reason_vi: str
    attempts: int
    due_at: datetime | None
    why: str  # exhausted | near_due


def needs_person(
    session: Session,
    now: datetime,
    near_due_days: int = DEFAULT_NEAR_DUE_WORKING_DAYS,
    calendar: WorkingCalendar = VIETNAM,
) -> list[NeedsPerson]:
    """Open records no automatic attempt will fix, and decision dossiers quarantined within
    ``near_due_days`` working days of their due date (NgayHenTra) or past it."""
    horizon = calendar.add_working_days(local_day(now), near_due_days)
    rows = session.execute(
        select(Quarantine, DossierLink)
        .outerjoin(DossierLink, DossierLink.dossier_code == Quarantine.dossier_code)
        .where(Quarantine.status == QuarantineStatus.OPEN)
        .order_by(Quarantine.id)
    ).all()
    out = []
    for rec, link in rows:
        due = _aware(link.due_at) if link is not None and link.due_at is not None else None
        decision = link is not None and link.result_kind == "decision"
        if decision and due is not None and local_day(due) <= horizon:
            why = "near_due"
        elif exhausted(rec):
            why = "exhausted"
        else:
            continue
        out.append(
            NeedsPerson(
                rec.id,
                rec.dossier_code,
                rec.reason_code,
                rec.reason_vi,
                rec.heal_attempts,
                due,
                why,
            )
        )
    return out


def alert_text_vi(items: list[NeedsPerson]) -> str:
    exhausted_n = sum(i.why == "exhausted" for i in items)
    near_due_n = sum(i.why == "near_due" for i in items)
    lines = [
        f"{len(items)} mục cách ly cần người xử lý: {exhausted_n} không tự khắc phục được, "
        f"{near_due_n} hồ sơ quyết định sắp đến hoặc đã quá hạn trả kết quả."
    ]
    for i in items[:20]:
        due = f", hẹn trả {i.due_at:%d/%m/%Y}" if i.due_at else ""
        lines.append(
            f"- {i.dossier_code or '(không rõ mã)'}: {i.reason_vi} "
            f"(đã thử lại {i.attempts} lần{due})"
        )
    return "\n".join(lines)


def not_yet_alerted(session: Session, items: list[NeedsPerson]) -> list[NeedsPerson]:
    """The items operators have not been told about for this cause."""
    told = {
        q.id: q.alerted_for
        for q in session.scalars(
            select(Quarantine).where(Quarantine.id.in_([i.quarantine_id for i in items]))
        )
    }
    return [i for i in items if told.get(i.quarantine_id) != i.why]


def mark_alerted(session: Session, items: list[NeedsPerson], now: datetime) -> None:
    """Remember that operators were told (after the alert went out, so none is lost)."""
    for item in items:
        rec = session.get(Quarantine, item.quarantine_id)
        rec.alerted_for, rec.alerted_at = item.why, now


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
