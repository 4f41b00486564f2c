"""The article's report (dossiers processed, time and money saved, share on the portal, results
attached, timeliness, bypasses) from the store, with Vietnamese exports and a command line."""

from lienthong.report.figures import (
    Period,
    Report,
    article_estimate,
    build_report,
    by_agency,
    by_month,
    by_procedure,
    district_total_for,
    headline,
    on_time_rate,
    percent,
    previous_month,
)

__all__ = [
    "Period",
    "Report",
    "article_estimate",
    "build_report",
    "by_agency",
    "by_month",
    "by_procedure",
    "district_total_for",
    "headline",
    "on_time_rate",
    "percent",
    "previous_month",
]
