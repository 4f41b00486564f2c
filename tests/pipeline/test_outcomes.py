"""Run counts are typed: every outcome has exactly one metric, and no ad-hoc key becomes one."""

from __future__ import annotations

from collections import Counter

import pytest

from lienthong.domain.national_record import ItemKind
from lienthong.domain.states import PackageHandling
from lienthong.orchestration.airflow_stats import report_counts
from lienthong.pipeline.backfill import summary_vi
from lienthong.pipeline.outcomes import (
    FAMILY_OUTCOMES,
    REFUSED,
    SENT,
    Family,
    IntakeCount,
    NationalCount,
    PackageCount,
    all_metrics,
    metric_name,
    plain,
)
from lienthong.reconcile.finding_kinds import ALERTING, FINDING_LABELS_VI, Finding, FindingKind


class Recorder:
    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()

    def incr(self, name: str, count: int = 1, tags: dict[str, str] | None = None) -> None:
        self.counters[name] += count

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        raise AssertionError("counts are counters")

    def timing(self, name: str, seconds: float, tags: dict[str, str] | None = None) -> None:
        raise AssertionError("counts are counters")


def test_every_outcome_of_every_family_has_one_metric():
    metrics = list(all_metrics())
    names = [name for _, _, name in metrics]
    assert len(names) == len(set(names))
    for family, enums in FAMILY_OUTCOMES.items():
        for enum in enums:
            for outcome in enum:
                assert metric_name(family, outcome) == f"{family.value}.{outcome.value}"
    assert {f for f, _, _ in metrics} == set(Family)
    assert "packages.busy" in names and "intake.transferred_existing" in names
    assert len([n for n in names if n.startswith("packages.")]) == len(PackageHandling) + 1


def test_a_key_that_is_no_outcome_of_the_family_is_refused():
    with pytest.raises(TypeError):
        metric_name(Family.INTAKE, "transferred")  # a plain string: a typo would pass silently
    with pytest.raises(TypeError):
        metric_name(Family.NATIONAL, IntakeCount.NEW)
    with pytest.raises(TypeError):
        report_counts(Recorder(), Family.PACKAGES, {IntakeCount.NEW: 1})


def test_report_counts_sends_the_table_names_and_skips_zeros():
    sink = Recorder()
    report_counts(
        sink,
        Family.PACKAGES,
        {PackageCount.PACKAGES: 3, PackageHandling.ATTACHED: 2, PackageHandling.ERROR: 0},
    )
    assert sink.counters == {"packages.packages": 3, "packages.attached": 2}


def test_sent_and_refused_cover_every_item_kind():
    assert set(SENT) == set(ItemKind) == set(REFUSED)
    assert set(SENT.values()) | set(REFUSED.values()) <= set(NationalCount)


def test_counts_reach_xcom_as_plain_strings():
    out = plain(Counter({IntakeCount.NEW: 2, IntakeCount.TRANSFERRED: 1}))
    assert out == {"new": 2, "transferred": 1}
    assert all(type(k) is str for k in out)
    text = summary_vi({"fetched": 5, "new": 2, "transferred": 1, "skipped": 1}, dry_run=False)
    assert "Tìm thấy 5 hồ sơ" in text and "bổ sung 2 hồ sơ" in text


def test_finding_kinds_have_one_label_each_and_unknown_kinds_fail():
    assert set(FINDING_LABELS_VI) == set(FindingKind)
    assert ALERTING <= set(FindingKind)
    with pytest.raises(ValueError):
        Finding("not_a_kind", None, None)
    assert Finding("stuck", "X", None).kind is FindingKind.STUCK
