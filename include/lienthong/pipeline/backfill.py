"""Manual backfill of missed dossiers: re-pull a window of receipt dates and link what is missing.

Runs the same recording and pushing as the intake, so what is linked already is
recognised and nothing is pushed or counted twice; the scheduled cursor is untouched.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lienthong.domain.timeliness import VN_TZ
from lienthong.pipeline import intake
from lienthong.pipeline.resources import Resources
from lienthong.store.ledger import RunContext


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
    counts = intake.pull_and_link(resources, run, window, advance_cursor=False, dry_run=dry_run)
    if not dry_run:
        for key, n in intake.complete_pending(resources, run).items():
            counts[f"pending_{key}"] = n
    return counts


def summary_vi(counts: dict[str, int], dry_run: bool) -> str:
    """What the run found and did, in the words officials use."""
    fetched = counts.get("fetched", 0)
    if dry_run:
        return (
            f"Chạy thử: tìm thấy {fetched} hồ sơ; {counts.get('missing', 0)} hồ sơ chưa liên thông, "
            f"{counts.get('known', 0)} hồ sơ đã có, {counts.get('would_quarantine', 0)} hồ sơ lỗi dữ liệu. "
            "Không thay đổi dữ liệu."
        )
    transferred = counts.get("transferred", 0) + counts.get("transferred_existing", 0)
    return (
        f"Tìm thấy {fetched} hồ sơ; bổ sung {counts.get('new', 0)} hồ sơ bị sót "
        f"({transferred} hồ sơ chuyển sang iOffice, {counts.get('skipped', 0) + counts.get('skipped_closed', 0)} "
        f"hồ sơ không cần liên thông); {counts.get('unchanged', 0) + counts.get('updated', 0)} hồ sơ đã có; "
        f"{counts.get('quarantined', 0)} hồ sơ bị cách ly do lỗi dữ liệu."
    )
