"""Airflow plugin: mounts the lienthong dashboard in the api-server and adds it to the UI's
navigation.

The app itself lives in ``lienthong.dashboard``, with its authentication (every route needs a
signed-in
Airflow user) and authorization (what Airflow's configured auth manager grants that user: reading
the
link's DAGs to see pages, operator rights to replay, admin rights for stored payloads). It is built
on
its first request, so the other Airflow processes that load plugins do not pay for it. Restart the
api-server to load changes.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from lienthong.dashboard.mount import URL_PREFIX, dashboard_app


class LienthongDashboardPlugin(AirflowPlugin):
    name = "lienthong_dashboard"
    fastapi_apps = [
        {"app": dashboard_app, "url_prefix": URL_PREFIX, "name": "Liên thông dashboard"}
    ]
    external_views = [
        {
            "name": "Liên thông",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "lienthong",
            "nav_top_level": True,
        }
    ]
