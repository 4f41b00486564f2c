"""The service index a province is ranked on (Decision 766/QĐ-TTg, 23 June 2022), as far as the
link's own data can compute it, per unit and month.

Decision 766 scores units out of 100 in five groups: publicity and transparency (18), processing
progress (20), digitisation (22), online services (22; the national portal now shows it as online
services 12 + online payment 10) and satisfaction (18). The national portal computes the official
score from what provinces sync to it; these figures are the unit's own view of the same formulas,
from the dossiers the link read, so that a department or commune sees where it stands before the
ranking is published. Sources and what is left out: ``docs/service-index.md``.

Pure arithmetic over rows (:func:`index_rows`); :func:`service_index` reads them from the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, and_, select
from sqlalchemy.orm import Session

from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.vocabulary import DossierStatus, ResultKind
from lienthong.domain.working_calendar import local_day
from lienthong.report.rates import percent
from lienthong.store.schema import DossierLink, NationalSyncDossier


@dataclass(frozen=True)
class Indicator:
    key: str  # the column of the rate
    group_vi: str
    name_vi: str  # as Decision 766 and the national portal name it
    points: float  # the indicator's maximum score
    formula_vi: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "on_time_pct",
        "Tiến độ giải quyết",
        "Tỷ lệ hồ sơ xử lý đúng hạn (trước hạn, đúng hạn)",
        20,
        "Hồ sơ đã xử lý xong không muộn hơn ngày hẹn trả, cộng hồ sơ đang xử lý còn trong hạn "
        "ở cuối kỳ, trên tổng số hồ sơ tiếp nhận trong kỳ",
    ),
    Indicator(
        "e_result_pct",
        "Số hóa hồ sơ",
        "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử",
        6,
        "Hồ sơ có kết quả là quyết định, giấy chứng nhận đã giải quyết xong trong kỳ và có tệp "
        "kết quả điện tử (đã ký số, đã gắn trên Một cửa), trên tổng số hồ sơ đó",
    ),
    Indicator(
        "synced_pct",
        "Công khai, minh bạch",
        "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia",
        6,
        "Hồ sơ tiếp nhận trong kỳ đã có trên Cổng Dịch vụ công quốc gia, trên tổng số hồ sơ "
        "tiếp nhận trong kỳ",
    ),
)
COLUMNS = (
    "agency_code",
    "agency_name",
    "month",
    "received",
    "in_time",
    "overdue",
    "on_time_pct",
    "on_time_score",
    "decisions_finished",
    "e_results",
    "e_result_pct",
    "e_result_score",
    "synced",
    "synced_pct",
    "synced_score",
)
# What the link cannot compute, and why (shown beside the index).
NOT_COMPUTED_VI: tuple[tuple[str, str], ...] = (
    (
        "Công bố, công khai thủ tục hành chính đúng hạn, đầy đủ",
        "dữ liệu ở Cơ sở dữ liệu quốc gia về thủ tục hành chính, không đi qua liên thông",
    ),
    (
        "Dịch vụ công trực tuyến, thanh toán trực tuyến",
        "liên thông không nhận kênh nộp, phí, lệ phí và giao dịch thanh toán của hồ sơ",
    ),
    (
        "Số hóa thành phần hồ sơ, tái sử dụng dữ liệu số hóa, dữ liệu dân cư",
        "liên thông không giữ thành phần hồ sơ công dân nộp (chỉ đọc để chuyển iOffice)",
    ),
    (
        "Mức độ hài lòng, phản ánh kiến nghị",
        "đánh giá của công dân và phản ánh, kiến nghị nằm ở hệ thống khác",
    ),
)
NOT_RECEIVED = (int(DossierStatus.SUBMITTED), int(DossierStatus.NOT_ACCEPTED))
FINISHED = (int(DossierStatus.FINISHED), int(DossierStatus.RETURNED))


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def dossier_facts(row: Mapping[str, Any], period_end: date) -> dict[str, int]:
    """One dossier's contribution (0/1) to each count, judged at ``period_end`` (the last day of
    its month, or of the report when earlier): a dossier not finished by then counts as on time
    while its date has not passed, as the national formula does."""
    if row["portal_status"] in NOT_RECEIVED or row["received_at"] is None:
        return {}
    finished = row["finished_at"] if row["portal_status"] in FINISHED else None
    due = local_day(row["due_at"]) if row["due_at"] else None
    if finished is not None and local_day(finished) <= period_end:
        on_time = due is None or local_day(finished) <= due
    else:
        on_time = due is None or due >= period_end
    decision_done = row["result_kind"] == ResultKind.DECISION and finished is not None
    return {
        "received": 1,
        "in_time": int(on_time),
        "overdue": int(not on_time),
        "decisions_finished": int(decision_done),
        "e_results": int(decision_done and row["attached_at"] is not None),
        "synced": int(bool(row["on_national"])),
    }


def index_rows(rows: Iterable[Mapping[str, Any]], date_to: date) -> pd.DataFrame:
    """Per unit and month of reception: the counts, each indicator's rate and score."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        month = local_day(row["received_at"]).strftime("%Y-%m") if row["received_at"] else None
        if month is None:
            continue
        facts = dossier_facts(row, min(month_bounds(month)[1], date_to))
        if not facts:
            continue
        key = (row["agency_code"], month)
        acc = sums.setdefault(key, {"agency_name": row["agency_name"]})
        for name, value in facts.items():
            acc[name] = acc.get(name, 0) + value
    out = []
    for (agency, month), acc in sorted(sums.items()):
        record = {"agency_code": agency, "agency_name": acc["agency_name"], "month": month}
        for name in ("received", "in_time", "overdue", "decisions_finished", "e_results", "synced"):
            record[name] = acc.get(name, 0)
        for ind, (num, den) in zip(
            INDICATORS,
            (("in_time", "received"), ("e_results", "decisions_finished"), ("synced", "received")),
            strict=True,
        ):
            record[ind.key] = percent(record[num], record[den])
            score_key = ind.key.removesuffix("_pct") + "_score"
            record[score_key] = (
                round(ind.points * record[num] / record[den], 2) if record[den] else None
            )
        out.append(record)
    return pd.DataFrame(out, columns=list(COLUMNS))


def read_rows(bind: Engine | Session | Connection, date_from: date, date_to: date) -> list[dict]:
    """The dossiers received in [date_from, date_to] (Vietnamese dates), with their sync state."""
    start = datetime.combine(date_from, time.min, VN_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, VN_TZ)
    stmt = (
        select(
            DossierLink.agency_code,
            DossierLink.agency_name,
            DossierLink.result_kind,
            DossierLink.portal_status,
            DossierLink.received_at,
            DossierLink.due_at,
            DossierLink.finished_at,
            DossierLink.attached_at,
            NationalSyncDossier.on_national,
        )
        .outerjoin(
            NationalSyncDossier, NationalSyncDossier.dossier_code == DossierLink.dossier_code
        )
        .where(and_(DossierLink.received_at >= start, DossierLink.received_at < end))
    )
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]
    return [dict(r._mapping) for r in bind.execute(stmt)]


def service_index(
    bind: Engine | Session | Connection, date_from: date, date_to: date
) -> pd.DataFrame:
    """The index per unit and month of reception over the period."""
    return index_rows(read_rows(bind, date_from, date_to), date_to)
