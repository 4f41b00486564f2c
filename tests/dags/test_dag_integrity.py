"""Every DAG imports, is named after its file, documents itself and names tasks verb-first."""

from __future__ import annotations

from pathlib import Path

VERBS = {"pull", "complete", "wait", "attach", "find", "repair", "build", "export", "link", "plan", "check",
         "report", "alert", "load", "write", "compute", "summarize", "replay", "list", "notify", "send",
         "reconcile", "export", "recheck"}


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
