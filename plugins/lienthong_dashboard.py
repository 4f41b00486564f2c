"""Airflow plugin: mounts the lienthong dashboard in the api-server and adds it to the UI's navigation.

The app itself (and its authentication: every route needs a signed-in Airflow user) lives in
``lienthong.dashboard``; it is built on its first request, so the other Airflow processes that load
plugins do not pay for it. Restart the api-server to load changes.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from lienthong.dashboard.mount import URL_PREFIX, dashboard_app


class LienthongDashboardPlugin(AirflowPlugin):
    name = "lienthong_dashboard"
    fastapi_apps = [{"app": dashboard_app, "url_prefix": URL_PREFIX, "name": "Liên thông dashboard"}]
    external_views = [{
        "name": "Liên thông",
        "href": f"{URL_PREFIX}/",
        "destination": "nav",
        "url_route": "lienthong",
        "nav_top_level": True,
    }]
