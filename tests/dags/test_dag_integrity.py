"""Every DAG imports, is named after its file, documents itself and names tasks verb-first."""

from __future__ import annotations

from pathlib import Path

from airflow.dag_processing.dagbag import DagBag
from airflow.timetables.assets import AssetOrTimeSchedule

from lienthong.orchestration.notifiers import LienthongAlertNotifier
from tests.conftest import ROOT

VERBS = {
    "pull",
    "complete",
    "wait",
    "attach",
    "find",
    "repair",
    "build",
    "export",
    "link",
    "plan",
    "check",
    "report",
    "alert",
    "load",
    "write",
    "compute",
    "summarize",
    "replay",
    "list",
    "notify",
    "send",
    "purge",
    "reconcile",
    "recheck",
    "sync",
    "ask",
    "apply",
}


def test_dags_import_cleanly(dagbag):
    assert dagbag.import_errors == {}
    assert {"dossier_intake", "signed_results"} <= set(dagbag.dag_ids)


def test_dag_ids_equal_file_names_and_have_docs(dagbag):
    for dag_id in dagbag.dag_ids:
        dag = dagbag.get_dag(dag_id)
        assert Path(dag.fileloc).stem == dag_id
        assert dag.doc_md and len(dag.doc_md) > 100
        for task in dag.tasks:
            assert task.task_id.split("_")[0] in VERBS, task.task_id


def test_every_link_dag_alerts_on_failure_and_retries(dagbag):
    """Policy: a failed run of any link DAG reaches the operators' channel; remote calls are
    retried."""

    for dag_id in dagbag.dag_ids:
        dag = dagbag.get_dag(dag_id)
        callbacks = (
            dag.on_failure_callback
            if isinstance(dag.on_failure_callback, list)
            else [dag.on_failure_callback]
        )
        assert any(isinstance(c, LienthongAlertNotifier) for c in callbacks), (
            f"{dag_id} fails silently"
        )
        assert "lienthong" in dag.tags and not dag.catchup
        assert all(task.retries >= 2 for task in dag.tasks), dag_id


def test_results_are_event_driven_by_default_with_a_cron_safety_net(dagbag):
    """Default: an AssetWatcher on iOffice's pending packages starts the run; the cron still
    runs."""

    dag = dagbag.get_dag("signed_results")
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert [t.task_id for t in dag.tasks] == ["attach_signed_results"]


def test_results_sensor_fails_loudly_in_sensor_mode(airflow_db, monkeypatch):
    monkeypatch.setenv("LIENTHONG_RESULTS_MODE", "sensor")
    bag = DagBag(dag_folder=str(ROOT / "dags" / "signed_results.py"))
    sensor = bag.get_dag("signed_results").get_task("wait_for_result_packages")
    assert sensor.max_failures == "{{ params.max_poll_failures }}"
    assert bag.get_dag("signed_results").params["max_poll_failures"] == 5
