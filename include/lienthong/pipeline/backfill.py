"""Manual backfill of missed dossiers: re-pull a window of receipt dates and link what is missing.

Runs the same recording and pushing as the intake, so what is linked already is
recognised and nothing is pushed or counted twice; the scheduled cursor is untouched.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lienthong.domain.timeliness import VN_TZ
from lienthong.pipeline import intake
from lienthong.pipeline.outcomes import IntakeCount, plain
from lienthong.pipeline.resources import Resources
from lienthong.store.ledger import RunContext

PENDING_PREFIX = "pending_"


def backfill_window(
    date_from: date, date_to: date, agencies: tuple[str, ...] = (), codes: tuple[str, ...] = ()
) -> intake.Window:
    """Dossiers received from ``date_from`` to ``date_to`` inclusive (Vietnam's days)."""
    if date_to < date_from:
        raise ValueError("Ngày kết thúc phải sau hoặc bằng ngày bắt đầu")
    start = datetime.combine(date_from, time.min, tzinfo=VN_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=VN_TZ)
    return intake.Window(
        updated_from=intake.EPOCH,
        agencies=agencies,
        codes=codes,
        accepted_from=start,
        accepted_to=end,
    )


def backfill(
    resources: Resources, run: RunContext, window: intake.Window, dry_run: bool = False
) -> dict[str, int]:
    """Re-pull the window, then finish links left half-done; pending counts keep a ``pending_``
    prefix so the two kinds of work stay apart in the run's summary."""
    counts = plain(
        intake.pull_and_link(resources, run, window, advance_cursor=False, dry_run=dry_run)
    )
    if not dry_run:
        pending = plain(intake.complete_pending(resources, run))
        counts.update({f"{PENDING_PREFIX}{key}": n for key, n in pending.items()})
    return counts


def summary_vi(counts: dict[str, int], dry_run: bool) -> str:
    """What the run found and did, in the words officials use."""

    def n(*outcomes: IntakeCount) -> int:
        return sum(counts.get(o, 0) for o in outcomes)

    fetched = n(IntakeCount.FETCHED)
    if dry_run:
        return (
            f"Chạy thử: tìm thấy {fetched} hồ sơ; {n(IntakeCount.MISSING)} hồ sơ chưa liên thông, "
            f"{n(IntakeCount.KNOWN)} hồ sơ đã có, "
            f"{n(IntakeCount.WOULD_QUARANTINE)} hồ sơ lỗi dữ liệu. Không thay đổi dữ liệu."
        )
    transferred = n(IntakeCount.TRANSFERRED, IntakeCount.TRANSFERRED_EXISTING)
    not_linked = n(IntakeCount.SKIPPED, IntakeCount.SKIPPED_CLOSED)
    return (
        f"Tìm thấy {fetched} hồ sơ; bổ sung {n(IntakeCount.NEW)} hồ sơ bị sót "
        f"({transferred} hồ sơ chuyển sang iOffice, {not_linked} hồ sơ không cần liên thông); "
        f"{n(IntakeCount.UNCHANGED, IntakeCount.UPDATED)} hồ sơ đã có; "
        f"{n(IntakeCount.QUARANTINED)} hồ sơ bị cách ly do lỗi dữ liệu."
    )
