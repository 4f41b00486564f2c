"""What an Airflow Connection says of a remote system: its base URL, its extras as the UI leaves
them, and whether to verify TLS. One reading for every adapter, so an empty form field means the
same everywhere."""

from __future__ import annotations

from typing import Any


def base_url(conn: Any, path: str = "") -> str:
    """``scheme://host[:port]path`` of an HTTP Connection; https unless the Connection says
    otherwise."""
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.schema or 'https'}://{conn.host}{port}{path}"


def extra_value(extra: dict[str, Any], key: str, default: Any) -> Any:
    """A Connection extra, with the UI's empty fields (``None``, ``""``) meaning "not set"."""
    value = extra.get(key)
    return default if value is None or (isinstance(value, str) and not value.strip()) else value


def tls_verify(value: Any) -> bool | str:
    """The ``verify`` extra: on unless explicitly ``false``; a string other than true/false is a CA
    bundle path. An empty form field never turns verification off."""
    if (
        value is None
        or value is True
        or (isinstance(value, str) and value.strip().lower() in ("", "true", "1", "yes"))
    ):
        return True
    if value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0", "no")):
        return False
    return str(value)
