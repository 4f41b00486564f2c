"""Start an operator action as a DAG run through Airflow's own REST API, as the signed-in user.

The api-server only asks; a worker does the work (with retries and task logs), and the run's history
shows who asked. The user's own token is forwarded, so Airflow's authorization decides too, and the
api-server never calls the portal or iOffice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from fastapi import Request

REPLAY_DAG = "quarantine_replay"


class NotAllowed(Exception):
    """Airflow refused the trigger (403): the user may not run this DAG."""


class NotStarted(Exception):
    """Airflow did not start the run (unreachable, paused DAG, bad form): says why, in English."""


@dataclass(frozen=True)
class StartedRun:
    dag_id: str
    run_id: str

    @property
    def ui_path(self) -> str:
        return f"/dags/{self.dag_id}/runs/{self.run_id}"


def user_token(request: Request) -> str | None:
    """The JWT the user signed in with: a Bearer header (API clients) or the UI's cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN)


def api_base(request: Request) -> str:
    """Airflow's ``[api] base_url`` when set (how the servers reach each other), else this request's host."""
    from airflow.configuration import conf

    configured = conf.get("api", "base_url", fallback="") or ""
    if configured.startswith(("http://", "https://")):
        return configured.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def trigger_dag(
    base: str, token: str, dag_id: str, conf: dict[str, Any], note: str = ""
) -> StartedRun:
    """``POST /api/v2/dags/{dag_id}/dagRuns`` with the user's token (TLS verified)."""
    body: dict[str, Any] = {"logical_date": None, "conf": conf}
    if note:
        body["note"] = note[:1000]
    try:
        resp = requests.post(
            f"{base}/api/v2/dags/{dag_id}/dagRuns",
            json=body,
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
    except requests.RequestException as exc:
        raise NotStarted(f"Airflow API unreachable: {type(exc).__name__}") from exc
    if resp.status_code in (401, 403):
        raise NotAllowed(f"Airflow refused to trigger {dag_id} ({resp.status_code})")
    if resp.status_code >= 300:
        raise NotStarted(
            f"Airflow answered {resp.status_code} to the trigger of {dag_id}: {resp.text[:300]}"
        )
    return StartedRun(dag_id, str(resp.json()["dag_run_id"]))
