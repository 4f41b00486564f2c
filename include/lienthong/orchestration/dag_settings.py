"""Settings the link's scheduled DAGs share: one home for the timezone, start date, retry
policy and failure alert, with the few knobs a deployment or a test sets by environment."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param

from lienthong.domain.timeliness import VN_TZ
from lienthong.orchestration.notifiers import LienthongAlertNotifier
from lienthong.orchestration.setting_rules import OVERLAP_MINUTES

TIMEZONE = VN_TZ.key
LIVE_SINCE = datetime(2022, 3, 1, tzinfo=VN_TZ)  # the link went live in March 2022


def env_setting(name: str, default: str) -> str:
    """A DAG setting overridable by environment (same value needed on every Airflow host)."""
    return os.environ.get(name, default)


def link_default_args(retries: int = 3) -> dict[str, Any]:
    """Retries for tasks that call the portal and iOffice: a lost worker or an outage is retried."""
    delay = float(env_setting("LIENTHONG_RETRY_DELAY_SECONDS", "30"))
    return {
        "retries": retries,
        "retry_delay": timedelta(seconds=delay),
        "retry_exponential_backoff": True,
    }


def overlap_param(default: int = 10) -> Param:
    """The ``overlap_minutes`` param of the DAGs that read the portal by update time: how far
    before the stored cursor each run reads again (changes the portal commits late). Its range is
    :data:`~lienthong.orchestration.setting_rules.OVERLAP_MINUTES`, enforced by the trigger form
    and again by the task."""
    return Param(
        default,
        **OVERLAP_MINUTES.schema(),
        title="Số phút đọc lại trước con trỏ (overlap)",
        description="Mỗi lượt đọc lại các thay đổi trong bấy nhiêu phút trước lần đọc trước "
        "(thay đổi Một cửa ghi muộn). Không được âm.",
    )


def failure_alert():
    """The notifier the link's DAGs call when a run fails."""

    return LienthongAlertNotifier(
        title="Liên thông: lượt chạy thất bại", message="{{ dag.dag_id }} / {{ run_id }}"
    )


def link_dag(*, retries: int = 3, tags: tuple[str, ...] = (), **settings: Any) -> dict[str, Any]:
    """The ``@dag`` arguments every link DAG shares, with the DAG's own settings on top.

    Not paused on creation (an unpaused link is the point of deploying it), no catch-up of the
    years before deployment (native backfill does that on purpose), one run at a time, retries
    and the failure alert.
    """
    shared: dict[str, Any] = {
        "start_date": LIVE_SINCE,
        "catchup": False,
        "max_active_runs": 1,
        "is_paused_upon_creation": False,
        "default_args": link_default_args(retries),
        "on_failure_callback": failure_alert(),
        "tags": ["lienthong", *tags],
    }
    return {**shared, **settings}
