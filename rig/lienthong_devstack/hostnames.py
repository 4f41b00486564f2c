"""Per-worker host names for the one-machine cluster: Airflow records a task instance's host from
``[core] hostname_callable``; two workers on one machine would otherwise look like one host."""

from __future__ import annotations

import os
import socket


def simulated_host() -> str:
    return os.environ.get("LIENTHONG_SIMULATED_HOST") or socket.getfqdn()
