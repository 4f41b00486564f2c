"""Reconciliation of the national record with the local one (the national sync's findings).

* ``not_synced`` - a local change older than the late threshold that the national side has not
  confirmed (queued, unsure or refused), a dossier the sync could not read, or a dossier the link
  knows that the sync never saw;
* ``synced_late`` - confirmed, but more than the threshold after the local change (per dossier,
  the worst lag among the changes of the window);
* ``national_status_differs`` - a fully synced dossier whose status or on-time class on the
  national side (read back) differs from the local one, or that the national side no longer holds
  (repaired, when asked, by queueing the whole dossier again for the next run).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lienthong.domain.national_record import ItemState
from lienthong.domain.timeliness import VN_TZ
from lienthong.pipeline import national_sync
from lienthong.pipeline.resources import Resources
from lienthong.reconcile.finding_kinds import Finding, FindingKind
from lienthong.store.schema import (
    DossierLink,
    NationalSyncDossier,
    NationalSyncItem,
    NationalSyncUnread,
)

UNCONFIRMED = (ItemState.PENDING, ItemState.SENDING, ItemState.REFUSED)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


def national_findings(
    resources: Resources,
    date_from: date,
    date_to: date,
    as_of: datetime,
    *,
    run: Any = None,
    repair: bool = False,
) -> list[Finding]:
    """The three national findings for changes in [date_from, date_to] (Vietnamese dates). With
    ``repair``, a dossier the national side lost is queued again from scratch (sent by the next
    run)."""
    late = timedelta(minutes=resources.national_config.late_after_minutes)
    start = datetime.combine(date_from, time.min, VN_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, VN_TZ)
    found: list[Finding] = []
    with resources.session() as session:
        unconfirmed: dict[str, list[NationalSyncItem]] = defaultdict(list)
        for item in session.scalars(
            select(NationalSyncItem).where(NationalSyncItem.state.in_(UNCONFIRMED))
        ):
            unconfirmed[item.dossier_code].append(item)
        for code, items in sorted(unconfirmed.items()):
            oldest = min(_aware(i.local_at) for i in items)
            if as_of - oldest > late:
                found.append(
                    Finding(
                        FindingKind.NOT_SYNCED,
                        code,
                        None,
                        {
                            "items": len(items),
                            "refused": sum(i.state == ItemState.REFUSED for i in items),
                            "since": oldest.isoformat(),
                            "agency": items[0].agency_code,
                        },
                    )
                )
        for row in session.scalars(
            select(NationalSyncUnread).where(NationalSyncUnread.first_seen_at < as_of - late)
        ):
            found.append(
                Finding(
                    FindingKind.NOT_SYNCED,
                    row.dossier_code,
                    None,
                    {"items": 0, "unreadable": row.reason_code, "attempts": row.attempts},
                )
            )
        seen = set(session.scalars(select(NationalSyncDossier.dossier_code)))
        for link in session.scalars(
            select(DossierLink).where(DossierLink.portal_updated_at < as_of - late)
        ):
            if link.dossier_code not in seen and resources.national_config.syncs(link.agency_code):
                found.append(
                    Finding(
                        FindingKind.NOT_SYNCED,
                        link.dossier_code,
                        None,
                        {"items": 0, "never_seen": True, "agency": link.agency_code},
                    )
                )
        worst: dict[str, NationalSyncItem] = {}
        for item in session.scalars(
            select(NationalSyncItem).where(
                NationalSyncItem.state == ItemState.SENT,
                NationalSyncItem.local_at >= start,
                NationalSyncItem.local_at < end,
                NationalSyncItem.lag_seconds > late.total_seconds(),
            )
        ):
            if (
                item.dossier_code not in worst
                or item.lag_seconds > worst[item.dossier_code].lag_seconds
            ):
                worst[item.dossier_code] = item
        for code, item in sorted(worst.items()):
            found.append(
                Finding(
                    FindingKind.SYNCED_LATE,
                    code,
                    None,
                    {
                        "lag_minutes": round(item.lag_seconds / 60, 1),
                        "kind": item.kind,
                        "agency": item.agency_code,
                    },
                )
            )
        settled = [
            s
            for s in session.scalars(
                select(NationalSyncDossier).where(
                    NationalSyncDossier.on_national.is_(True),
                    NationalSyncDossier.local_updated_at >= start,
                    NationalSyncDossier.local_updated_at < end,
                )
            )
            if s.dossier_code not in unconfirmed
        ]
    if not settled or resources.national is None:
        return found
    held = resources.national.held([s.dossier_code for s in settled])
    checked_at = resources.national.server_time or as_of
    with resources.session() as session:
        for state in settled:
            row = session.get(NationalSyncDossier, state.dossier_code)
            holding = held.get(state.dossier_code)
            row.checked_at = checked_at
            row.national_status = holding.status if holding else None
            row.national_timeliness = holding.timeliness if holding else None
            if (
                holding is None
                or holding.status != row.local_status
                or holding.timeliness != row.local_timeliness
            ):
                found.append(
                    Finding(
                        FindingKind.NATIONAL_STATUS_DIFFERS,
                        row.dossier_code,
                        None,
                        {
                            "local_status": row.local_status,
                            "national_status": row.national_status,
                            "local": row.local_timeliness,
                            "national": row.national_timeliness,
                            "agency": row.agency_code,
                        },
                    )
                )
    if repair:
        for finding in found:
            if (
                finding.kind == FindingKind.NATIONAL_STATUS_DIFFERS
                and finding.detail["national_status"] is None
            ):
                done = national_sync.resync_dossier(resources, run, finding.dossier_code)
                finding.repaired, finding.repair_result = (
                    done,
                    "requeued" if done else "not_on_portal",
                )
    return found
