"""Adapter for the document-management system (VNPT-iOffice role, `LTQLVB`-style link API).

Pushes dossiers for processing, lists/reads/acknowledges result packages, lists issued
documents, and fetches the signers' CA's revocation list when one is configured. The
synchronous client serves tasks; :class:`IOfficeAsyncClient` serves the triggerer's event
loop, which must never block. The JSON lives in :mod:`.ioffice_shapes`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
import requests
from asn1crypto import pem
from asn1crypto.crl import CertificateList

from lienthong.clients import ioffice_shapes as shapes
from lienthong.clients.connection_fields import base_url, extra_value, tls_verify
from lienthong.clients.errors import RemoteError, Unreachable
from lienthong.clients.http import (
    AnswerTooDeep,
    AnswerTooLarge,
    InvalidResponse,
    RemoteRefused,
    RetryPolicy,
    asend,
    json_body,
    make_session,
    raise_for_status,
    retrying,
    send,
)
from lienthong.clients.ioffice_shapes import IOfficeError, IssuedDocument, Package, PushResult
from lienthong.domain.dossier import Dossier
from lienthong.domain.masking import get_logger

if TYPE_CHECKING:
    from lienthong.pipeline.routing import Route

__all__ = [
    "IOfficeAsyncClient",
    "IOfficeClient",
    "IOfficeError",
    "IOfficeSettings",
    "IssuedDocument",
    "Package",
    "PushResult",
    "RevocationUnavailable",
]

log = get_logger(__name__)
PUSH = "/GuiHoSo"
PENDING = "/LayDanhSachGoiTinVanBan"
PACKAGE = "/LayGoiTinVanBan"
ACKNOWLEDGE = "/CapNhatTrangThaiVanBan"
DOCUMENTS = "/DanhSachVanBan"
# Room for what surrounds a result file in a package (the JSON fields, MIME line breaks in its
# base64 text, a second small file): the answer cap is the file's limit as base64, plus this.
ANSWER_OVERHEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IOfficeSettings:
    base_url: str  # including the base path, e.g. https://host/api/lienthong
    token: str = field(repr=False)
    auth_scheme: str = "Bearer"
    parent_unit: str = ""
    timeout: float = 20.0
    verify: bool | str = True
    trust_roots_pem: str = field(default="", repr=False)
    max_result_bytes: int = 12 * 1024 * 1024  # the Connection form's default (provider.py)
    retry: RetryPolicy = RetryPolicy()
    # Where the signers' CA publishes its CRL (DER or PEM). Empty: revocation is not checked.
    crl_url: str = ""
    crl_max_age: float = (
        3600.0  # seconds a fetched CRL is reused (less if its nextUpdate comes first)
    )

    @classmethod
    def from_connection(
        cls, conn: Any, *, with_trust_roots: bool = True, **overrides: Any
    ) -> IOfficeSettings:
        """The Connection's fields; ``with_trust_roots=False`` where no result is verified (the
        trigger)."""
        extra = conn.extra_dejson or {}
        pem = extra_value(extra, "trust_roots_pem", "") if with_trust_roots else ""
        if with_trust_roots and not pem and extra_value(extra, "trust_roots_file", ""):
            pem = Path(extra["trust_roots_file"]).read_text()
        values = dict(
            base_url=base_url(conn, extra_value(extra, "base_path", "")),
            token=conn.password,
            auth_scheme=extra_value(extra, "auth_scheme", "Bearer"),
            parent_unit=extra_value(extra, "parent_unit", ""),
            timeout=float(extra_value(extra, "timeout", cls.timeout)),
            verify=tls_verify(extra.get("verify")),
            trust_roots_pem=pem,
            max_result_bytes=int(extra_value(extra, "max_result_bytes", cls.max_result_bytes)),
            crl_url=resolve_crl_url(conn, str(extra_value(extra, "crl_url", "")))
            if with_trust_roots
            else "",
            crl_max_age=float(extra_value(extra, "crl_max_age", cls.crl_max_age)),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def authorization(self) -> str:
        return f"{self.auth_scheme} {self.token}"

    @property
    def max_answer_bytes(self) -> int:
        """The most bytes read of any answer for this Connection (a package, a list, the CRL): a
        result file of ``max_result_bytes`` as base64 (4/3 of it) plus
        :data:`ANSWER_OVERHEAD_BYTES`. The one home of this rule: a package within it is read and
        judged file by file, one past it is refused at the cap without being held whole."""
        return self.max_result_bytes * 4 // 3 + ANSWER_OVERHEAD_BYTES


def resolve_crl_url(conn: Any, value: str) -> str:
    """The Connection's ``crl_url`` extra: an absolute URL, or a path on the iOffice host itself
    (``/ca/crl.der``), which keeps working when the Connection's host or port changes."""
    return base_url(conn, value) if value.startswith("/") else value


class RevocationUnavailable(Unreachable):
    """The configured CRL could not be fetched or read. Transient (the Unreachable kind): the
    package stays pending and is retried; a result is never accepted without the revocation check
    an operator configured."""

    def __init__(self, url: str, problem: str):
        super().__init__(f"CRL at {url} unavailable: {problem}", url=url)
        self.problem = problem


def _envelope(
    resp: requests.Response | httpx.Response, ok_codes: tuple[int, ...]
) -> dict[str, Any]:
    """The answer's ``{data, error}`` envelope, checked (:func:`.ioffice_shapes.checked`); a body
    that is no envelope is :class:`~lienthong.clients.http.InvalidResponse`."""
    body = json_body(resp)
    if not isinstance(body, dict):
        raise InvalidResponse(str(resp.url), f"answer is a JSON {type(body).__name__}")
    try:
        return shapes.checked(body, ok_codes)
    except (AttributeError, TypeError, ValueError) as exc:
        problem = f"no readable error code ({type(exc).__name__})"
        raise InvalidResponse(str(resp.url), problem) from None


@dataclass(frozen=True)
class _FetchedCrl:
    der: bytes
    fresh_until: float


class IOfficeClient:
    def __init__(self, settings: IOfficeSettings):
        self.settings = settings
        self.session = make_session(verify=settings.verify)
        self.session.headers["Authorization"] = settings.authorization
        self._retrying = retrying(settings.retry)
        self._crl: _FetchedCrl | None = None
        self._crl_lock = threading.Lock()
        self._crl_session: requests.Session | None = None

    def _call(
        self, method: str, path: str, ok_codes: tuple[int, ...] = (200,), **kwargs: Any
    ) -> dict[str, Any]:
        """One call, retried on transient failures; the body is read up to
        :attr:`IOfficeSettings.max_answer_bytes` and judged after the retries (a garbled, deep or
        oversized answer is not asked again, as it never was: :class:`AnswerTooLarge` and
        :class:`AnswerTooDeep` are raised once)."""

        def attempt() -> requests.Response | AnswerTooLarge:
            try:
                resp = send(
                    self.session,
                    method,
                    self.settings.base_url + path,
                    timeout=self.settings.timeout,
                    max_bytes=self.settings.max_answer_bytes,
                    **kwargs,
                )
            except AnswerTooLarge as exc:
                return exc  # handed out of the retries: asking again fetches as much again
            if resp.status_code not in ok_codes:
                raise_for_status(resp)
            return resp

        answer = self._retrying(attempt)
        if isinstance(answer, AnswerTooLarge):
            raise answer
        return _envelope(answer, ok_codes)

    def push(self, dossier: Dossier, route: Route, now: datetime) -> PushResult:
        """Hand a dossier over for drafting; a repeated push answers "already exists" naming the
        document."""
        return shapes.push_result(
            self._call(
                "POST", PUSH, ok_codes=(200, 409), json=shapes.push_body(dossier, route, now)
            )
        )

    def pending_doc_ids(self, top: int = 500, parent_unit: str | None = None) -> list[str]:
        """Pending result packages under ``parent_unit`` (default: the Connection's), each
        document once even when delivered twice."""
        parent = self.settings.parent_unit if parent_unit is None else parent_unit
        return shapes.pending_doc_ids(
            self._call("GET", PENDING, params=shapes.pending_params(parent, top))
        )

    def get_package(self, doc_id: str) -> Package:
        """The package; one too large or too deeply nested to read comes back as an unreadable
        package (:func:`.ioffice_shapes.unreadable_package`) for the pipeline to quarantine,
        never held whole. Its files' base64 text is measured before it is decoded."""
        try:
            data = self._call("GET", PACKAGE, params={"MaVanBan": doc_id}).get("data") or {}
        except AnswerTooLarge as exc:
            return shapes.unreadable_package(doc_id, shapes.OVERSIZED_PACKAGE, exc.problem)
        except AnswerTooDeep as exc:
            return shapes.unreadable_package(doc_id, shapes.TOO_DEEP, exc.problem)
        return shapes.to_package(doc_id, data, self.settings.max_result_bytes)

    def acknowledge(self, doc_id: str, status: str) -> None:
        self._call("POST", ACKNOWLEDGE, json=shapes.ack_body(doc_id, status))

    def issued_documents(self, date_from: date, date_to: date) -> list[IssuedDocument]:
        body = self._call("GET", DOCUMENTS, params=shapes.document_list_params(date_from, date_to))
        return [shapes.to_issued_document(item) for item in body.get("data") or []]

    def crls(self) -> list[bytes]:
        """The configured CRL as DER (``[]`` when none is configured), fetched once and reused until
        it is due for renewal; :class:`RevocationUnavailable` when it cannot be had."""
        url = self.settings.crl_url
        if not url:
            return []
        with self._crl_lock:
            if self._crl is None or time.time() >= self._crl.fresh_until:
                self._crl = self._fetch_crl(url)
            return [self._crl.der]

    def _fetch_crl(self, url: str) -> _FetchedCrl:
        if self._crl_session is None:  # its own session: iOffice's token must not travel to the CA
            self._crl_session = make_session(verify=self.settings.verify)
        session = self._crl_session

        def attempt() -> bytes:
            resp = send(
                session,
                "GET",
                url,
                timeout=self.settings.timeout,
                max_bytes=self.settings.max_answer_bytes,
            )
            if resp.status_code != 200:
                raise_for_status(resp)
                raise RemoteRefused(resp.status_code, url, "")
            return resp.content

        # Any failure is the same for the caller: no revocation check is possible.
        try:
            body = self._retrying(attempt)
        except RemoteError as exc:
            log.warning("CRL at %s unavailable: %s", url, type(exc).__name__)
            raise RevocationUnavailable(url, f"not fetched ({type(exc).__name__})") from exc
        try:
            der = der_crl(body)
            next_update = CertificateList.load(der)["tbs_cert_list"]["next_update"].native
        except Exception as exc:  # noqa: BLE001 - asn1crypto fails a foreign body in many ways
            log.warning("CRL at %s unreadable: %s", url, type(exc).__name__)
            raise RevocationUnavailable(url, f"not a CRL ({type(exc).__name__})") from exc
        fresh_until = time.time() + self.settings.crl_max_age
        if next_update is not None:
            fresh_until = min(fresh_until, next_update.timestamp())
        return _FetchedCrl(der, fresh_until)

    def close(self) -> None:
        self.session.close()
        if self._crl_session is not None:
            self._crl_session.close()


def der_crl(body: bytes) -> bytes:
    """A CRL as DER, from DER or PEM; ``ValueError`` when it is neither."""
    if body.lstrip().startswith(b"-----BEGIN"):
        if not pem.detect(body):
            raise ValueError("not a PEM CRL")
        _, _, body = pem.unarmor(body.strip())
    tbs = CertificateList.load(body)["tbs_cert_list"]  # lazy: real CRLs can hold 100k entries
    tbs["issuer"].native, tbs["this_update"].native  # a truncated or foreign body fails here
    return body


class IOfficeAsyncClient:
    """The triggerer's view of iOffice: is any result package waiting? One pooled httpx client."""

    def __init__(self, settings: IOfficeSettings):
        self.settings = settings
        self._client = httpx.AsyncClient(
            timeout=settings.timeout,
            verify=settings.verify,
            headers={"Authorization": settings.authorization},
        )

    async def __aenter__(self) -> IOfficeAsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def has_pending(self) -> bool:
        """One poll, no retries (the trigger's loop is the retry); errors are raised as in the sync
        client, as the kinds of :mod:`lienthong.clients.errors`."""
        return bool(await self.pending_ids(1))

    async def pending_ids(self, top: int = 500) -> list[str]:
        """The pending packages' document ids (one poll, no retries)."""
        resp = await asend(
            self._client,
            "GET",
            self.settings.base_url + PENDING,
            params=shapes.pending_params(self.settings.parent_unit, top),
            max_bytes=self.settings.max_answer_bytes,
        )
        raise_for_status(resp)
        body = _envelope(resp, (200,))
        try:
            return shapes.pending_doc_ids(body)
        except (AttributeError, TypeError) as exc:
            problem = f"unreadable list ({type(exc).__name__})"
            raise InvalidResponse(str(resp.url), problem) from None
