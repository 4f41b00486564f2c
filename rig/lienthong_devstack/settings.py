"""Read the Astro-format ``airflow_settings.yaml`` into Airflow's own import formats (pure).

Airflow reads neither that format nor relative paths; relative file paths in the
demo connections (SQLite store, trust roots) are made absolute against the project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from lienthong.pipeline.routing import ROUTING_VARIABLE
from lienthong_standins.routing import routing_path

PATH_EXTRAS = ("trust_roots_file",)


def load_settings(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("airflow", {}) or {}


def _absolute(value: str, root: Path) -> str:
    p = Path(value)
    return str(p if p.is_absolute() else (root / p).resolve())


def connections_json(settings: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """``airflow connections import`` JSON: {conn_id: {conn_type, host, ...}}."""
    out: dict[str, dict[str, Any]] = {}
    for c in settings.get("connections", []) or []:
        extra = dict(c.get("conn_extra") or {})
        for key in PATH_EXTRAS:
            if key in extra:
                extra[key] = _absolute(extra[key], root)
        host = c.get("conn_host")
        if c.get("conn_type") == "sqlite" and host:
            host = _absolute(host, root)
        out[c["conn_id"]] = {
            "conn_type": c.get("conn_type"),
            "host": host,
            "schema": c.get("conn_schema"),
            "login": c.get("conn_login"),
            "password": c.get("conn_password"),
            "port": c.get("conn_port"),
            "extra": extra,
        }
    return out


def connections_import_json(settings: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """What ``airflow connections import`` accepts: ``extra`` as a JSON string, empty fields left
    out."""

    out = {}
    for cid, c in connections_json(settings, root).items():
        row = {k: v for k, v in c.items() if v not in (None, {}) and k != "extra"}
        if c.get("extra"):
            row["extra"] = json.dumps(c["extra"])
        out[cid] = row
    return out


def connection_uri_env(settings: dict[str, Any], root: Path) -> dict[str, str]:
    """The same connections as ``AIRFLOW_CONN_*`` JSON values (for processes without the DB
    import)."""

    return {
        f"AIRFLOW_CONN_{cid.upper()}": json.dumps(
            {k: v for k, v in c.items() if v not in (None, {})}
        )
        for cid, c in connections_json(settings, root).items()
    }


def variables_json(settings: dict[str, Any], scenario: str = "demo") -> dict[str, str]:
    """The file's Variables, plus the scenario's routing (the demo district's, or the province's)
    unless the file sets one."""

    out = {
        v["variable_name"]: str(v["variable_value"]) for v in settings.get("variables", []) or []
    }
    out.setdefault(ROUTING_VARIABLE, routing_path(scenario).read_text(encoding="utf-8"))
    return out


def pools_json(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        p["pool_name"]: {
            "slots": int(p["pool_slot"]),
            "description": p.get("pool_description", ""),
            "include_deferred": False,
        }
        for p in settings.get("pools", []) or []
    }
