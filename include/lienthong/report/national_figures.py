"""Sync figures of the national record, per period and agency: how much reached the national portal,
how fast, and the on-time rate the national dashboards show beside the local one.

Every figure counts the dossiers received in the period (as the rest of the report does):
* dossiers / steps synced: dossiers with a record the national side confirmed, steps it confirmed;
* sync lag: from each local change to its national confirmation (median, 95th percentile);
* on-time rates of those dossiers finished locally: the local class against the class
  the national side holds (read back by reconciliation; else the last record it confirmed). A
  dossier finished locally that is not finished nationally counts in neither on-time nor late
  nationally: it is what makes a district look worse there than it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from lienthong.domain.national_record import ItemKind, ItemState, lag_percentiles
from lienthong.domain.timeliness import VN_TZ
from lienthong.report.rates import percent
from lienthong.store.schema import NationalSyncDossier, NationalSyncItem

GROUPINGS = ("total", "agency", "month")
FIGURE_LABELS_VI = {
    "dossiers_synced": "Hồ sơ đã đồng bộ",
    "steps_synced": "Bước xử lý đã đồng bộ",
    "lag_p50_minutes": "Độ trễ đồng bộ trung vị (phút)",
    "lag_p95_minutes": "Độ trễ đồng bộ p95 (phút)",
    "finished_local": "Hồ sơ hoàn thành (Một cửa)",
    "finished_national": "Hồ sơ hoàn thành (Cổng DVCQG)",
    "local_on_time_rate": "Tỷ lệ đúng hạn (Một cửa, %)",
    "national_on_time_rate": "Tỷ lệ đúng hạn (Cổng DVCQG, %)",
}


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(date_from, time.min, VN_TZ),
        datetime.combine(date_to + timedelta(days=1), time.min, VN_TZ),
    )


def _key(by: str, agency: tuple[str, str], at: datetime) -> tuple[str, ...]:
    if by == "agency":
        return agency
    if by == "month":
        return (at.astimezone(VN_TZ).strftime("%Y-%m"),)
    return ("total",)


def sync_figures(
    bind: Engine | Connection | Session,
    date_from: date,
    date_to: date,
    by: str = "total",
    agencies: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per group (``total``, ``agency`` or ``month`` of reception) of the dossiers received
    in the period (of ``agencies`` only, when given), as every figure of the report counts
    them."""
    if by not in GROUPINGS:
        raise ValueError(f"grouping {by!r} not in {GROUPINGS}")
    start, end = _bounds(date_from, date_to)
    own = not isinstance(bind, Session)
    session = Session(bind) if own else bind
    try:
        dossiers = {
            d.dossier_code: d
            for d in session.scalars(
                select(NationalSyncDossier).where(
                    NationalSyncDossier.received_at >= start, NationalSyncDossier.received_at < end
                )
            )
            if agencies is None or d.agency_code in agencies
        }
        items = session.execute(
            select(
                NationalSyncItem.kind, NationalSyncItem.dossier_code, NationalSyncItem.lag_seconds
            )
            .join(
                NationalSyncDossier,
                NationalSyncDossier.dossier_code == NationalSyncItem.dossier_code,
            )
            .where(
                NationalSyncItem.state == ItemState.SENT,
                NationalSyncDossier.received_at >= start,
                NationalSyncDossier.received_at < end,
            )
        ).all()
    finally:
        if own:
            session.close()
    groups: dict[tuple[str, ...], dict[str, Any]] = defaultdict(
        lambda: {
            "dossiers": set(),
            "steps": 0,
            "lags": [],
            "local": defaultdict(int),
            "national": defaultdict(int),
        }
    )

    def group(row: NationalSyncDossier) -> dict[str, Any]:
        return groups[_key(by, (row.agency_code, row.agency_name), row.received_at)]

    for row in dossiers.values():
        g = group(row)  # every received dossier has its group, synced or not
        if row.finished_at is not None:
            g["local"][row.local_timeliness] += 1
            g["national"][
                row.national_timeliness or (row.sent_timeliness if row.on_national else None)
            ] += 1
    for kind, code, lag in items:
        if code not in dossiers:
            continue
        g = group(dossiers[code])
        g["dossiers"].add(code)
        g["steps"] += kind == ItemKind.STEP
        g["lags"].append(lag or 0)
    out = []
    for key, g in sorted(groups.items()):
        p50, p95 = lag_percentiles(g["lags"])
        local_done = g["local"]["on_time"] + g["local"]["late"]
        national_done = g["national"]["on_time"] + g["national"]["late"]
        row: dict[str, Any] = dict(
            zip(("agency_code", "agency_name") if by == "agency" else (by,), key, strict=False)
        )
        row.update(
            dossiers_synced=len(g["dossiers"]),
            steps_synced=g["steps"],
            lag_p50_minutes=None if p50 is None else round(p50 / 60, 1),
            lag_p95_minutes=None if p95 is None else round(p95 / 60, 1),
            finished_local=local_done,
            finished_national=national_done,
            local_on_time_rate=percent(g["local"]["on_time"], local_done),
            national_on_time_rate=percent(g["national"]["on_time"], local_done),
        )
        out.append(row)
    return out
