"""Files officials open (CSV with BOM, XLSX with four sheets), the printed table and the command
line."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date

import openpyxl
import pytest

from lienthong.report.export import render, vn_hours, vn_number, vn_percent, write_csv, write_xlsx
from lienthong.report.figures import build_report
from lienthong.store.district_totals import (
    load_district_totals,
    read_district_totals,
    set_district_total,
)
from lienthong.store.engine import get_engine

from .scenario import populate

FROM, TO = date(2022, 3, 1), date(2022, 4, 30)


def _report(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path}/store.sqlite")
    populate(engine)
    return build_report(engine, FROM, TO)


def test_vietnamese_number_format():
    assert vn_number(48_094) == "48.094" and vn_number(769_504_000) == "769.504.000"
    assert (
        vn_percent(48.8) == "48,8%" and vn_percent(None) == "—" and vn_percent(float("nan")) == "—"
    )
    assert vn_hours(24_047.0) == "24.047" and vn_hours(1.25) == "1,3"


@pytest.mark.slow
def test_csv_has_bom_and_vietnamese_headers(tmp_path):
    paths = write_csv(_report(tmp_path), tmp_path / "csv")
    assert sorted(p.name for p in paths) == [
        "chi_so_phuc_vu_qd766.csv",
        "dong_bo_dvcqg.csv",
        "theo_don_vi.csv",
        "theo_thang.csv",
        "theo_thu_tuc.csv",
        "tong_hop.csv",
    ]
    month = tmp_path / "csv" / "theo_thang.csv"
    assert month.read_bytes().startswith(b"\xef\xbb\xbf")
    with month.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {
        "Tháng",
        "Số hồ sơ tiếp nhận, xử lý",
        "Giờ tiết kiệm (đo theo từng hồ sơ)",
        "Tiền tiết kiệm (VNĐ, cách tính của bài viết)",
        "Tỷ lệ hồ sơ nhập trên phần mềm Một cửa (%)",
        "Tỷ lệ gắn kết quả (%)",
        "Trước hạn",
        "Đúng hạn",
        "Trễ hạn",
        "Tỷ lệ đúng hạn (%)",
        "Văn bản không qua Một cửa",
    } <= set(rows[0])
    assert [r["Số hồ sơ tiếp nhận, xử lý"] for r in rows] == ["3", "3"]
    agency = (tmp_path / "csv" / "theo_don_vi.csv").read_text(encoding="utf-8-sig")
    assert "Đơn vị" in agency and "UBND xã Minh Sơn" in agency


@pytest.mark.slow
def test_xlsx_has_a_sheet_per_grouping(tmp_path):
    path = write_xlsx(_report(tmp_path), tmp_path / "out" / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Tổng hợp",
        "Theo tháng",
        "Theo đơn vị",
        "Theo thủ tục",
        "Đồng bộ DVCQG",
        "Chỉ số phục vụ (QĐ 766)",
    ]
    index = [c.value for c in wb["Chỉ số phục vụ (QĐ 766)"][1]]
    assert (
        "Tỷ lệ hồ sơ có kết quả điện tử (%)" in index
        and "Điểm tiến độ giải quyết (tối đa 20)" in index
    )
    header = [c.value for c in wb["Theo thủ tục"][1]]
    assert header[:2] == ["Mã thủ tục", "Thủ tục"] and "Tỷ lệ gắn kết quả (%)" in header
    summary = {row[0]: row[1] for row in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số hồ sơ tiếp nhận, xử lý"] == 6
    assert summary["Tiền tiết kiệm (VNĐ, cách tính của bài viết)"] == 96_000


@pytest.mark.slow
def test_render_is_vietnamese(tmp_path):
    text = render(_report(tmp_path), "all")
    assert "Theo tháng" in text and "Theo đơn vị" in text and "Theo thủ tục" in text
    assert "96.000" in text and "20,0%" in text and "66,7%" in text and "03/2022" in text


@pytest.mark.slow
def test_district_totals_load_and_set(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path}/t.sqlite")
    f = tmp_path / "totals.csv"
    f.write_text("period,total\n2022-01,100\n2022,98555\n", encoding="utf-8")
    assert load_district_totals(engine, f) == 2
    assert load_district_totals(engine, f) == 2  # again: same rows, replaced not duplicated
    set_district_total(engine, "2022-01", 120)
    assert read_district_totals(engine) == {"2022-01": 120, "2022": 98_555}
    f.write_text("period,total\n2022-13,1\n", encoding="utf-8")
    try:
        load_district_totals(engine, f)
    except ValueError as exc:
        assert "2022-13" in str(exc)
    else:
        raise AssertionError("a bad period was accepted")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "lienthong.report", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_prints_the_vietnamese_table(tmp_path):
    url = f"sqlite:///{tmp_path}/store.sqlite"
    populate(get_engine(url))
    totals = tmp_path / "district_totals.csv"
    totals.write_text("period,total\n2022-03,10\n2022-04,40\n", encoding="utf-8")
    loaded = _cli("load-totals", str(totals), "--db", url)
    assert loaded.returncode == 0, loaded.stderr
    out = _cli(
        "--from",
        "2022-03-01",
        "--to",
        "2022-04-30",
        "--db",
        url,
        "--by",
        "month",
        "--csv",
        str(tmp_path / "csv"),
        "--xlsx",
        str(tmp_path / "r.xlsx"),
    )
    assert out.returncode == 0, out.stderr
    assert "Số hồ sơ tiếp nhận, xử lý" in out.stdout and "Tháng" in out.stdout
    assert "12,0%" in out.stdout  # 6 / (10 + 40), the loaded totals replaced 10 + 20
    assert "96.000" in out.stdout and "Theo đơn vị" not in out.stdout
    assert (tmp_path / "csv" / "tong_hop.csv").exists() and (tmp_path / "r.xlsx").exists()
    custom = _cli(
        "--from",
        "2022-03-01",
        "--to",
        "2022-04-30",
        "--db",
        url,
        "--by",
        "agency",
        "--hours-per-dossier",
        "1",
        "--cost-per-hour",
        "40000",
    )
    assert (
        custom.returncode == 0
        and "240.000" in custom.stdout
        and "UBND xã Minh Sơn" in custom.stdout
    )


@pytest.mark.slow
def test_cli_stops_with_a_clear_message_when_the_store_is_unreachable(tmp_path):
    down = _cli(
        "--from",
        "2022-03-01",
        "--to",
        "2022-04-30",
        "--db",
        "postgresql+psycopg2://postgres@127.0.0.1:9/x",
    )
    assert down.returncode == 2 and "Không kết nối được cơ sở dữ liệu báo cáo" in down.stderr
    assert "Traceback" not in down.stderr and "127.0.0.1:9" in down.stderr
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_CONN_LIENTHONG_DB"}
    unset = subprocess.run(
        [sys.executable, "-m", "lienthong.report", "set-total", "2022", "5"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**env, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
        cwd=tmp_path,
    )
    assert unset.returncode == 2 and "lienthong_db" in unset.stderr
    assert not (tmp_path / "var").exists()  # no demo store was created in its place
