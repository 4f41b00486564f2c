"""Adapter for the document-management system (VNPT-iOffice role, `LTQLVB`-style link API).

Pushes dossiers for processing, lists/reads/acknowledges result packages, lists issued
documents. The synchronous client serves tasks; :class:`IOfficeAsyncClient` serves the
triggerer's event loop, which must never block. The JSON lives in :mod:`.ioffice_shapes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from lienthong.clients import ioffice_shapes as shapes
from lienthong.clients.http import RetryPolicy, base_url, make_session, raise_for_status, retrying
from lienthong.clients.ioffice_shapes import IOfficeError, IssuedDocument, Package, PushResult
from lienthong.domain.dossier import Dossier
from lienthong.domain.masking import get_logger

if TYPE_CHECKING:
    from lienthong.pipeline.routing import Route

__all__ = ["IOfficeAsyncClient", "IOfficeClient", "IOfficeError", "IOfficeSettings", "IssuedDocument", "Package",
           "PushResult"]

log = get_logger(__name__)
PUSH = "/GuiHoSo"
PENDING = "/LayDanhSachGoiTinVanBan"
PACKAGE = "/LayGoiTinVanBan"
ACKNOWLEDGE = "/CapNhatTrangThaiVanBan"
DOCUMENTS = "/DanhSachVanBan"


@dataclass(frozen=True)
class IOfficeSettings:
    base_url: str  # including the base path, e.g. https://host/api/lienthong
    token: str = field(repr=False)
    auth_scheme: str = "Bearer"
    parent_unit: str = ""
    timeout: float = 20.0
    verify: bool | str = True
    trust_roots_pem: str = field(default="", repr=False)
    max_result_bytes: int = 10 * 1024 * 1024
    retry: RetryPolicy = RetryPolicy()

    @classmethod
    def from_connection(cls, conn: Any, *, with_trust_roots: bool = True, **overrides: Any) -> IOfficeSettings:
        """The Connection's fields; ``with_trust_roots=False`` where no result is verified (the trigger)."""
        extra = conn.extra_dejson or {}
        pem = extra.get("trust_roots_pem", "") if with_trust_roots else ""
        if with_trust_roots and not pem and extra.get("trust_roots_file"):
            pem = Path(extra["trust_roots_file"]).read_text()
        values = dict(
            base_url=base_url(conn, extra.get("base_path", "")),
            token=conn.password,
            auth_scheme=extra.get("auth_scheme", "Bearer"),
            parent_unit=extra.get("parent_unit", ""),
            timeout=float(extra.get("timeout", cls.timeout)),
            verify=extra.get("verify", True),
            trust_roots_pem=pem,
            max_result_bytes=int(extra.get("max_result_bytes", cls.max_result_bytes)),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def authorization(self) -> str:
        return f"{self.auth_scheme} {self.token}"


class IOfficeClient:
    def __init__(self, settings: IOfficeSettings):
        self.settings = settings
        self.session = make_session(verify=settings.verify)
        self.session.headers["Authorization"] = settings.authorization
        self._retrying = retrying(settings.retry)

    def _call(self, method: str, path: str, ok_codes: tuple[int, ...] = (200,), **kwargs: Any) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            resp = self.session.request(method, self.settings.base_url + path, timeout=self.settings.timeout,
                                        **kwargs)
            if resp.status_code not in ok_codes:
                raise_for_status(resp)
            return resp.json()

        return shapes.checked(self._retrying(attempt), ok_codes)

    def push(self, dossier: Dossier, route: Route, now: datetime) -> PushResult:
        """Hand a dossier over for drafting; a repeated push answers "already exists" naming the document."""
        return shapes.push_result(self._call("POST", PUSH, ok_codes=(200, 409),
                                             json=shapes.push_body(dossier, route, now)))

    def pending_doc_ids(self, top: int = 500) -> list[str]:
        """Pending result packages, each document once even when delivered twice."""
        return shapes.pending_doc_ids(self._call("GET", PENDING,
                                                 params=shapes.pending_params(self.settings.parent_unit, top)))

    def get_package(self, doc_id: str) -> Package:
        data = self._call("GET", PACKAGE, params={"MaVanBan": doc_id}).get("data") or {}
        return shapes.to_package(doc_id, data)

    def acknowledge(self, doc_id: str, status: str) -> None:
        self._call("POST", ACKNOWLEDGE, json=shapes.ack_body(doc_id, status))

    def issued_documents(self, date_from: date, date_to: date) -> list[IssuedDocument]:
        body = self._call("GET", DOCUMENTS, params=shapes.document_list_params(date_from, date_to))
        return [shapes.to_issued_document(item) for item in body.get("data") or []]

    def close(self) -> None:
        self.session.close()


class IOfficeAsyncClient:
    """The triggerer's view of iOffice: is any result package waiting? One pooled httpx client."""

    def __init__(self, settings: IOfficeSettings):
        self.settings = settings
        self._client = httpx.AsyncClient(timeout=settings.timeout, verify=settings.verify,
                                         headers={"Authorization": settings.authorization})

    async def __aenter__(self) -> IOfficeAsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._client.aclose()

    async def has_pending(self) -> bool:
        """One poll, no retries (the trigger's loop is the retry); errors are raised as in the sync client."""
        resp = await self._client.get(self.settings.base_url + PENDING,
                                      params=shapes.pending_params(self.settings.parent_unit, 1))
        raise_for_status(resp)
        return bool(shapes.pending_doc_ids(shapes.checked(resp.json(), (200,))))
