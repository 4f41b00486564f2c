"""What the plugin file imports: the URL prefix and an ASGI app that builds the dashboard on first
use.

Every Airflow process loads plugins (task processes too, for macros); building the FastAPI app
imports the api-server's security stack (~1.5 s), which only the api-server needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

URL_PREFIX = "/lienthong"


class LazyApp:
    """ASGI app that imports ``module:factory`` and calls it at the first request it serves."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._app: Any = None

    def __repr__(self) -> str:
        return f"LazyApp({self.target!r})"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:  # no await before the assignment: one event loop builds it once
            module, factory = self.target.split(":")
            self._app = getattr(import_module(module), factory)()
        await self._app(scope, receive, send)


dashboard_app = LazyApp("lienthong.dashboard.app:create_app")
