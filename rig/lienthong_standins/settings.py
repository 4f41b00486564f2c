"""Demo credentials for the stand-ins, read from the Astro-format ``airflow_settings.yaml``.

The stand-ins accept exactly the credentials the pipeline's Airflow connections carry, so
the demo needs one place to change them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Credentials:
    portal_client_id: str = "lienthong-demo"
    portal_client_secret: str = "demo-portal-secret-change-me"
    ioffice_token: str = "demo-ioffice-token-change-me"
    ioffice_auth_scheme: str = "Bearer"
    national_username: str = "lienthong-demo"
    national_password: str = "demo-dvcqg-password-change-me"


def _connection(settings: dict[str, Any], conn_id: str) -> dict[str, Any]:
    for conn in (settings.get("airflow") or {}).get("connections") or []:
        if conn.get("conn_id") == conn_id:
            return conn
    return {}


def read_credentials(path: Path | None) -> Credentials:
    """Credentials from ``path`` (connections ``lienthong_portal``, ``lienthong_ioffice`` and
    ``lienthong_dvcqg``); defaults for whatever the file does not say or when it does not exist."""
    base = Credentials()
    if path is None or not path.exists():
        return base
    settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    portal = _connection(settings, "lienthong_portal")
    ioffice = _connection(settings, "lienthong_ioffice")
    national = _connection(settings, "lienthong_dvcqg")
    extra = ioffice.get("conn_extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra or "{}")
    return Credentials(
        portal_client_id=str(portal.get("conn_login") or base.portal_client_id),
        portal_client_secret=str(portal.get("conn_password") or base.portal_client_secret),
        ioffice_token=str(ioffice.get("conn_password") or base.ioffice_token),
        ioffice_auth_scheme=str(extra.get("auth_scheme") or base.ioffice_auth_scheme),
        national_username=str(national.get("conn_login") or base.national_username),
        national_password=str(national.get("conn_password") or base.national_password),
    )
