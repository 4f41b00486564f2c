"""Start an operator action as a DAG run through Airflow's own REST API, as the signed-in user.

The api-server only asks; a worker does the work (with retries and task logs), and the run's history
shows who asked. The user's own token is forwarded, so Airflow's authorization decides too, and the
api-server never calls the portal or iOffice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.configuration import conf as airflow_conf
from fastapi import Request

from lienthong.clients.errors import CredentialsRefused, Misconfigured, RemoteError
from lienthong.clients.http import json_body, post

REPLAY_DAG = "quarantine_replay"
TARGET_UNSET_VI = (
    "Chưa cấu hình địa chỉ máy chủ Airflow ([api] base_url) nên chưa thể gửi yêu cầu xử lý lại. "
    "Vui lòng báo quản trị viên cấu hình địa chỉ này rồi thử lại."
)


class NotAllowed(CredentialsRefused):
    """Airflow refused the trigger (401/403): the user's token may not run this DAG. The page says
    so; nothing is retried."""


class NotStarted(RemoteError):
    """Airflow did not start the run (unreachable, paused DAG, bad form): says why, in English. Its
    ``__cause__``, when there is one, is the kind that stopped it."""


class TargetUnset(Misconfigured):
    """``[api] base_url`` is not an absolute http(s) URL, so there is nowhere safe to send the
    user's token: the replay is refused, never aimed at an address taken from the request."""


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


def api_base() -> str:
    """Airflow's ``[api] base_url``: where this Airflow's REST API is reached, from configuration
    only. The request's Host header is the sender's to choose, so a target built from it would let
    a forged request send the user's token to any host; unset (or not an absolute http(s) URL),
    :class:`TargetUnset` is raised instead."""
    configured = (airflow_conf.get("api", "base_url", fallback="") or "").strip()
    try:
        parts = urlsplit(configured)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        usable = False
    if not usable:
        raise TargetUnset(
            f"[api] base_url is {configured!r}, not an absolute http(s) URL: "
            "replays need it to reach Airflow's REST API"
        )
    return configured.rstrip("/")


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
