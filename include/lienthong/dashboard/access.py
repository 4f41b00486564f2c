"""Who may do what on the dashboard: every answer comes from Airflow's configured auth manager.

No user or role table of our own: the same manager (and the same per-DAG grants) that decides what a
person sees in Airflow's UI decides what they see and do here.

* ``read`` (every page): GET on each of the link's DAGs - the right to see their runs.
* ``operate`` (replay, any state change): trigger a run of each link DAG (POST on its runs) **and**
  read the link's Connections. A replay is a ``quarantine_replay`` run (triggered with the user's
own
  token, so Airflow checks it again) that acts with the portal's and iOffice's credentials on the
  caller's behalf; Airflow reserves those credentials to operators (op/admin in SimpleAuthManager,
  where ``user`` may trigger DAG runs but not see Connections).
* ``audit`` (the operator-action log page): the DAGs' Audit Log entity (GET).
* ``payload`` (a quarantine record's stored payload): the plugin view :data:`PAYLOAD_VIEW` - the
hook
  Airflow offers plugins and that real managers (FAB, Keycloak) grant per role. SimpleAuthManager
  answers that hook "yes" for every role and has no admin-only grant besides its ADMIN role, so with
  that manager the ADMIN role it issued is required too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import (
    ConnectionDetails,
    DagAccessEntity,
    DagDetails,
)

from lienthong.orchestration.airflow_resources import DB_CONN, IOFFICE_CONN, PORTAL_CONN

log = logging.getLogger(__name__)

LINK_DAGS = (
    "dossier_intake",
    "signed_results",
)  # the DAGs whose data the dashboard shows and replays
LINK_CONNECTIONS = (PORTAL_CONN, IOFFICE_CONN, DB_CONN)  # what a replay run acts with
PAYLOAD_VIEW = "LienthongQuarantinePayload"

FORBIDDEN_VI = (
    "Bạn không có quyền thực hiện thao tác này. Liên hệ quản trị viên Airflow để được cấp quyền."
)


@dataclass(frozen=True)
class Grants:
    """What one signed-in user may do here; computed once per request."""

    user: str
    read: bool
    operate: bool
    audit: bool
    payload: bool


def _auth_manager():
    # Why not at the top: the plugin is imported while Airflow's api app is being built
    from airflow.api_fastapi.app import get_auth_manager  # noqa: PLC0415

    return get_auth_manager()


def _all_dags(am, user: BaseUser, method: str, entity: DagAccessEntity | None = None) -> bool:
    return all(
        am.is_authorized_dag(
            method=method, access_entity=entity, details=DagDetails(id=dag_id), user=user
        )
        for dag_id in LINK_DAGS
    )


def _is_simple_admin(am, user: BaseUser) -> bool:
    """SimpleAuthManager's only admin-only grant: the ADMIN role it put in the user's token."""
    # only deployments that run SimpleAuthManager need it loaded
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import (  # noqa: PLC0415
        SimpleAuthManager,
    )

    if not isinstance(am, SimpleAuthManager):
        return True  # a real manager answered the custom-view question itself
    return (getattr(user, "role", None) or "").upper() == "ADMIN"


def grants_for(user: BaseUser, name: str) -> Grants:
    """Ask the auth manager; any error in it counts as "no" (fail closed), and is logged."""
    am = _auth_manager()
    try:
        read = _all_dags(am, user, "GET")
        uses_connections = all(
            am.is_authorized_connection(
                method="GET", details=ConnectionDetails(conn_id=c), user=user
            )
            for c in LINK_CONNECTIONS
        )
        operate = read and _all_dags(am, user, "POST", DagAccessEntity.RUN) and uses_connections
        audit = read and _all_dags(am, user, "GET", DagAccessEntity.AUDIT_LOG)
        payload = (
            read
            and am.is_authorized_custom_view(method="GET", resource_name=PAYLOAD_VIEW, user=user)
            and _is_simple_admin(am, user)
        )
    except Exception:  # noqa: BLE001 - an auth manager failure must never grant anything
        log.exception("auth manager failed to answer for the dashboard; refusing")
        return Grants(name, False, False, False, False)
    return Grants(name, read, operate, audit, payload)
