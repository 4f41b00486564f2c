"""What officials see: Vietnamese headers, Vietnamese number format, CSV (with BOM) and XLSX.

Files keep raw numbers (so Excel can sum them); only printed tables are formatted
the Vietnamese way (48.094; 769.504.000; 48,8%).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from lienthong.report.figures import Report
from lienthong.report.national_figures import FIGURE_LABELS_VI as NATIONAL_LABELS_VI

COLUMNS_VI: dict[str, str] = {
    **NATIONAL_LABELS_VI,
    "month": "Tháng",
    "agency_code": "Mã đơn vị",
    "agency_name": "Đơn vị",
    "parent_code": "Mã cấp trên / loại đơn vị",
    "parent_name": "Cấp trên – loại đơn vị",
    "procedure_code": "Mã thủ tục",
    "procedure_name": "Thủ tục",
    "dossiers_processed": "Số hồ sơ tiếp nhận, xử lý",
    "district_total": "Tổng số hồ sơ tiếp nhận (cả ngoài Cổng)",
    "portal_share_pct": "Tỷ lệ hồ sơ nhập trên phần mềm Một cửa (%)",
    "dossiers_linked": "Số hồ sơ liên thông iOffice",
    "hours_saved_measured": "Giờ tiết kiệm (đo theo từng hồ sơ)",
    "vnd_saved_measured": "Tiền tiết kiệm (VNĐ, đo theo từng hồ sơ)",
    "hours_saved_article": "Giờ tiết kiệm (cách tính của bài viết)",
    "vnd_saved_article": "Tiền tiết kiệm (VNĐ, cách tính của bài viết)",
    "decisions_issued": "Số quyết định, giấy chứng nhận đã ban hành",
    "decisions_attached": "Số kết quả đã gắn trên Một cửa",
    "results_attached_pct": "Tỷ lệ gắn kết quả (%)",
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "on_time_pct": "Tỷ lệ đúng hạn (%)",
    "extended": "Hồ sơ được gia hạn",
    "extended_late": "Hồ sơ đã gia hạn vẫn trễ hạn",
    "bypass_documents": "Văn bản không qua Một cửa",
    "quarantined": "Hồ sơ đang cách ly",
    "rejected": "Dự thảo bị lãnh đạo trả lại",
    "quarantine_open_total": "Bản ghi cách ly chưa xử lý (toàn hệ thống)",
    "date_from": "Từ ngày",
    "date_to": "Đến ngày",
    "hours_per_dossier": "Số giờ tiết kiệm mỗi hồ sơ (bài viết)",
    "cost_per_hour": "Chi phí một giờ công (VNĐ)",
    # the service index (Decision 766/QĐ-TTg), report.service_index
    "received": "Số hồ sơ tiếp nhận",
    "in_time": "Hồ sơ đúng hạn (kể cả trước hạn và đang xử lý còn hạn)",
    "overdue": "Số hồ sơ quá hạn",
    "on_time_score": "Điểm tiến độ giải quyết (tối đa 20)",
    "decisions_finished": "Hồ sơ có kết quả là quyết định, giấy chứng nhận đã giải quyết",
    "e_results": "Hồ sơ có kết quả điện tử",
    "e_result_pct": "Tỷ lệ hồ sơ có kết quả điện tử (%)",
    "e_result_score": "Điểm kết quả điện tử (tối đa 6)",
    "synced": "Hồ sơ đã đồng bộ lên Cổng DVCQG",
    "synced_pct": "Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG (%)",
    "synced_score": "Điểm đồng bộ hồ sơ (tối đa 6)",
}
SHEETS_VI: dict[str, str] = {
    "summary": "Tổng hợp",
    "month": "Theo tháng",
    "agency": "Theo đơn vị",
    "procedure": "Theo thủ tục",
    "national": "Đồng bộ DVCQG",
    "service_index": "Chỉ số phục vụ (QĐ 766)",
    "agency_today": "Theo đơn vị hiện nay",
    "parent": "Theo cấp trên",
    "parent_today": "Theo cấp trên hiện nay",
}
CSV_NAMES: dict[str, str] = {
    "summary": "tong_hop.csv",
    "month": "theo_thang.csv",
    "agency": "theo_don_vi.csv",
    "procedure": "theo_thu_tuc.csv",
    "national": "dong_bo_dvcqg.csv",
    "service_index": "chi_so_phuc_vu_qd766.csv",
    "agency_today": "theo_don_vi_hien_nay.csv",
    "parent": "theo_cap_tren.csv",
    "parent_today": "theo_cap_tren_hien_nay.csv",
}
ITEM_VI, VALUE_VI = "Chỉ tiêu", "Giá trị"
#: The tables that need a unit history (the routing's ``units``): left out when it has none.
UNIT_VIEWS = ("agency_today", "parent", "parent_today")
PERCENT = {
    "portal_share_pct",
    "results_attached_pct",
    "on_time_pct",
    "local_on_time_rate",
    "national_on_time_rate",
    "e_result_pct",
    "synced_pct",
}
HOURS = {"hours_saved_measured", "hours_saved_article", "hours_per_dossier"}
MINUTES = {"lag_p50_minutes", "lag_p95_minutes"}  # one decimal, like hours
TEXT = {
    "month",
    "agency_code",
    "agency_name",
    "procedure_code",
    "procedure_name",
    "date_from",
    "date_to",
}


# --------------------------------------------------------------------------- Vietnamese number
# format


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def vn_number(value: float | int | None, decimals: int = 0) -> str:
    """48094 -> '48.094'; 24047.5 with 1 decimal -> '24.047,5' (dot thousands, comma decimals)."""
    if _missing(value):
        return "—"
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:,.{decimals}f}"  # 1,234.5
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vn_hours(value: float | None) -> str:
    """Hours with one decimal only when needed: 24047.0 -> '24.047', 0.75 -> '0,8'."""
    if _missing(value):
        return "—"
    return vn_number(value, 0 if float(value).is_integer() else 1)


def vn_percent(value: float | None) -> str:
    """48.8 -> '48,8%'; unknown -> '—'."""
    return "—" if _missing(value) else vn_number(value, 1) + "%"


def vn_month(month: str) -> str:
    """'2022-03' -> '03/2022' (how officials write a month)."""
    year, mm = month.split("-")
    return f"{mm}/{year}"


def format_value(name: str, value: Any) -> str:
    if name in PERCENT:
        return vn_percent(value)
    if name in HOURS or name in MINUTES:
        return vn_hours(value)
    if name == "month":
        return vn_month(value)
    if name in ("date_from", "date_to"):
        return _vn_date(value)
    if name in TEXT or isinstance(value, str):
        return "" if value is None else str(value)
    return vn_number(value)


# --------------------------------------------------------------------------- tables


def vietnamese(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table with Vietnamese headers (raw values)."""
    return frame.rename(columns=COLUMNS_VI)


def formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """Vietnamese headers and Vietnamese-formatted values, for printing."""
    out = pd.DataFrame(
        {c: [format_value(c, v) for v in frame[c]] for c in frame.columns}, columns=frame.columns
    )
    return vietnamese(out)


def summary_frame(headline: Mapping[str, Any]) -> pd.DataFrame:
    """The headline as two columns: Chỉ tiêu / Giá trị (raw values)."""
    rows = [(COLUMNS_VI.get(k, k), v) for k, v in headline.items()]
    return pd.DataFrame(rows, columns=[ITEM_VI, VALUE_VI])


def summary_formatted(headline: Mapping[str, Any]) -> pd.DataFrame:
    rows = [(COLUMNS_VI.get(k, k), format_value(k, v)) for k, v in headline.items()]
    return pd.DataFrame(rows, columns=[ITEM_VI, VALUE_VI])


def render(report: Report, by: str = "all") -> str:
    """The printed report: headline, then the chosen grouping(s), Vietnamese throughout."""

    h = report.headline
    parts = [
        f"BÁO CÁO HIỆU QUẢ LIÊN THÔNG MỘT CỬA – iOFFICE, từ {_vn_date(h['date_from'])} "
        f"đến {_vn_date(h['date_to'])}",
        tabulate(
            summary_formatted(h).values.tolist(),
            headers=[ITEM_VI, VALUE_VI],
            tablefmt="github",
            disable_numparse=True,
        ),
    ]
    every = ("month", "agency", "procedure", "national", "service_index", *UNIT_VIEWS)
    for key in every if by == "all" else (by,):
        if key in UNIT_VIEWS and report.table(key).empty:
            continue
        table = formatted(report.table(key))
        parts.append(
            f"{SHEETS_VI[key]}\n"
            + (
                tabulate(
                    table.values.tolist(),
                    headers=list(table.columns),
                    tablefmt="github",
                    disable_numparse=True,
                )
                if len(table)
                else "(không có hồ sơ)"
            )
        )
    return "\n\n".join(parts) + "\n"


def _vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


# --------------------------------------------------------------------------- files

# A text cell starting with one of these is taken as a formula by Excel and LibreOffice (OWASP,
# "CSV Injection"); agency and procedure names come from other systems and may start with them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` so it is shown as
    text (OWASP's advice); numbers (negative figures too) and other text are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell :func:`neutralised` (both writers use it)."""
    return frame.map(neutralised)


def _frames(report: Report) -> dict[str, pd.DataFrame]:
    frames = {
        "summary": summary_frame(report.headline),
        "month": vietnamese(report.by_month),
        "agency": vietnamese(report.by_agency),
        "procedure": vietnamese(report.by_procedure),
        "national": vietnamese(report.national),
        "service_index": vietnamese(report.service_index),
    }
    for key in UNIT_VIEWS:  # only where the routing lists a unit history
        if not report.table(key).empty:
            frames[key] = vietnamese(report.table(key))
    return {key: _safe(frame) for key, frame in frames.items()}


def write_csv(report: Report, directory: Path | str) -> list[Path]:
    """One CSV per grouping, UTF-8 with BOM so Excel shows the diacritics; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, frame in _frames(report).items():
        path = out / CSV_NAMES[key]
        # Text quoted (OWASP): a CR inside a name cannot end the row and start a cell of its own.
        frame.to_csv(path, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_NONNUMERIC)
        paths.append(path)
    return paths


def write_xlsx(report: Report, path: Path | str) -> Path:
    """One workbook, one sheet per grouping (Tổng hợp, Theo tháng, Theo đơn vị, Theo thủ tục)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for key, frame in _frames(report).items():
            frame.to_excel(writer, sheet_name=SHEETS_VI[key], index=False)
            sheet = writer.sheets[SHEETS_VI[key]]
            _text_stays_text(sheet)
            for i, column in enumerate(frame.columns, start=1):
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(
                    max(len(str(column)), 10) + 2, 60
                )
    return target


def _text_stays_text(sheet) -> None:
    """openpyxl stores any string starting with ``=`` as a formula; after :func:`neutralised` none
    should, and a text cell is forced to a string cell if one ever does."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def export_report(report: Report, directory: Path | str) -> dict[str, Any]:
    """CSV folder + XLSX workbook named after the period, inside ``directory``; returns their
    paths."""
    stem = f"bao_cao_tiet_kiem_{report.headline['date_from']}_{report.headline['date_to']}"
    base = Path(directory)
    csv_paths = write_csv(report, base / stem)
    xlsx = write_xlsx(report, base / f"{stem}.xlsx")
    return {"csv": [str(p) for p in csv_paths], "xlsx": str(xlsx)}
