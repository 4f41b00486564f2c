"""Start an operator action as a DAG run through Airflow's own REST API, as the signed-in user.

The api-server only asks; a worker does the work (with retries and task logs), and the run's history
shows who asked. The user's own token is forwarded, so Airflow's authorization decides too, and the
api-server never calls the portal or iOffice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.configuration import conf as airflow_conf
from fastapi import Request

from lienthong.clients.errors import CredentialsRefused, RemoteError
from lienthong.clients.http import json_body, post

REPLAY_DAG = "quarantine_replay"


class NotAllowed(CredentialsRefused):
    """Airflow refused the trigger (401/403): the user's token may not run this DAG. The page says
    so; nothing is retried."""


class NotStarted(RemoteError):
    """Airflow did not start the run (unreachable, paused DAG, bad form): says why, in English. Its
    ``__cause__``, when there is one, is the kind that stopped it."""


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
    """Airflow's ``[api] base_url`` when set (how the servers reach each other), else this
    request's host."""
    configured = airflow_conf.get("api", "base_url", fallback="") or ""
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
    url = f"{base}/api/v2/dags/{dag_id}/dagRuns"
    try:
        resp = post(url, json=body, timeout=30, headers={"Authorization": f"Bearer {token}"})
    except RemoteError as exc:
        raise NotStarted(f"Airflow API unreachable: {exc}", url=url) from exc
    if resp.status_code in (401, 403):
        raise NotAllowed(
            f"Airflow refused to trigger {dag_id} ({resp.status_code})",
            url=url,
            status=resp.status_code,
        )
    if resp.status_code >= 300:
        raise NotStarted(
            f"Airflow answered {resp.status_code} to the trigger of {dag_id}: {resp.text[:300]}",
            url=url,
            status=resp.status_code,
        )
    return StartedRun(dag_id, str(json_body(resp)["dag_run_id"]))
