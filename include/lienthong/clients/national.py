"""Adapter for the national public-service portal's sync service (DVCQG): session login, dossier
records (``DongBoHoSoMC``), processing steps (``CapNhatTienDoHoSoMC``) and a lookup.

Which writes are safe to repeat decides how each is retried:
* a record is a full snapshot: repeating it is harmless (a repeated create is answered "already
  exists" and is sent again as an update), so records are retried on any transport failure;
* a step is appended each time it arrives: a step write whose answer was lost is never repeated
  blindly; :class:`AmbiguousWrite` hands it to the pipeline, which asks the national side what it
  holds before sending anything again.
An expired session (``error_code`` 1) means nothing was applied: log in again and repeat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import requests

from lienthong.clients import national_shapes as shapes
from lienthong.clients.connection_fields import base_url, extra_value, tls_verify
from lienthong.clients.errors import CredentialsRefused, RemoteError, RequestRejected, Unreachable
from lienthong.clients.http import (
    RetryPolicy,
    SecretSink,
    is_transient,
    json_body,
    make_session,
    no_secret_sink,
    raise_for_status,
    retrying,
    send,
)
from lienthong.domain.dossier import Step
from lienthong.domain.masking import error_text, get_logger
from lienthong.domain.national_record import ItemResult, NationalHolding, NationalRecord, Outcome

log = get_logger(__name__)
DEFAULT_BASE_PATH = "/api/dvcqg"
SESSION_ATTEMPTS = 3  # a session refused this often in a row, each time fresh, is an outage


class SessionExpired(Unreachable):
    """The session was refused even right after a fresh login, :data:`SESSION_ATTEMPTS` times: the
    login works, so the credentials are right, but the national side cannot keep a session. An
    outage of its session store (the Unreachable kind): nothing was applied, the run fails and is
    tried again later."""


class AmbiguousWrite(Unreachable):
    """A step batch was sent but its answer was lost (a transport failure, a 5xx or a garbled
    answer after the request left): some or all of it may be held nationally.

    The Unreachable kind, because the national side could not be heard; but unlike its other
    members it must never be repeated as it was. It is raised outside every retry loop, and the
    pipeline settles it: it asks the national side which steps it holds before sending anything
    again (``docs/exactly-once.md``). A caller that only fails the run on it is safe too: the next
    run settles the outbox first."""


@dataclass(frozen=True)
class NationalSettings:
    base_url: str
    username: str
    password: str = field(repr=False)
    timeout: float = 10.0
    verify: bool | str = True
    batch_size: int = 100
    retry: RetryPolicy = RetryPolicy()

    @classmethod
    def from_connection(cls, conn: Any, **overrides: Any) -> NationalSettings:
        extra = conn.extra_dejson or {}
        values = dict(
            base_url=base_url(conn, str(extra_value(extra, "base_path", DEFAULT_BASE_PATH))),
            username=conn.login,
            password=conn.password,
            timeout=float(extra_value(extra, "timeout", cls.timeout)),
            verify=tls_verify(extra.get("verify")),
            batch_size=int(extra_value(extra, "batch_size", cls.batch_size)),
        )
        values.update(overrides)
        return cls(**values)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class NationalClient:
    """Thread-safe; one pooled session and one national session shared by a run."""

    def __init__(self, settings: NationalSettings, *, on_secret: SecretSink = no_secret_sink):
        """``on_secret``: told each national session obtained (the hooks pass Airflow's secrets
        masker)."""
        self.settings = settings
        self._on_secret = on_secret
        self.http = make_session(verify=settings.verify)
        self._retrying = retrying(settings.retry)
        self._lock = threading.Lock()
        self._session: str | None = None
        self.server_time: datetime | None = None
        self.relogins = 0

    # -- session ------------------------------------------------------------------------
    def log_in(self) -> str:
        """A fresh national session (``{username, password}`` → ``{error_code, message,
        session}``)."""
        body = self._retrying(
            lambda: self._post_raw(
                "/login", {"username": self.settings.username, "password": self.settings.password}
            )
        )
        if shapes.error_code(body) != shapes.OK or not body.get("session"):
            raise CredentialsRefused(
                f"login refused (error_code {body.get('error_code')}): "
                f"{str(body.get('message'))[:200]}",
                url=self.settings.base_url + "/login",
            )
        session = str(body["session"])
        self._on_secret(session)  # before anything can log it
        with self._lock:
            self._session = session
            return session

    def _current_session(self) -> str:
        with self._lock:
            session = self._session
        return session or self.log_in()

    def _post_raw(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        resp = send(
            self.http,
            "POST",
            self.settings.base_url + path,
            json=payload,
            timeout=self.settings.timeout,
        )
        raise_for_status(resp)
        self._note_server_time(resp)
        body = json_body(resp)
        shapes.check_envelope(resp, body)
        return body

    def _service(
        self, service: str, payload: dict[str, Any], *, repeatable: bool
    ) -> dict[str, Any]:
        """Call a service with the session; on "session expired" log in again and repeat
        (bounded)."""
        for attempt in range(1, SESSION_ATTEMPTS + 1):
            session = self._current_session()
            call = partial(self._post_raw, f"/{service}", {"session": session, **payload})
            if repeatable:
                body = self._retrying(call)
            else:
                try:
                    body = call()
                except RemoteError as exc:
                    if is_transient(exc):
                        raise AmbiguousWrite(f"{service}: {error_text(exc)}") from exc
                    raise
            if shapes.error_code(body) != shapes.SESSION_INVALID:
                return body
            log.info("national session expired (attempt %d); logging in again", attempt)
            with self._lock:
                if self._session == session:
                    self._session = None
            self.relogins += 1
        raise SessionExpired(
            f"{service}: session refused {SESSION_ATTEMPTS} times, each right after a login"
        )

    def _note_server_time(self, resp: requests.Response) -> None:
        """The national side's clock (HTTP Date): when a write was confirmed, for sync lag."""
        value = resp.headers.get("Date")
        if value:
            try:
                self.server_time = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                pass

    # -- writes -------------------------------------------------------------------------
    def sync_records(
        self, bodies: Sequence[dict[str, Any]], known: Sequence[bool]
    ) -> list[ItemResult]:
        """Send record snapshots in order: as updates where the national side is known to hold the
        dossier, else as creates; "already exists" is sent again as an update, and an update of a
        dossier the national side lost is sent again as a create."""
        results: list[ItemResult | None] = [None] * len(bodies)
        pending = list(range(len(bodies)))
        updating = {i: known[i] for i in pending}
        recreated: set[int] = set()
        for _ in range(3):  # create → exists → update (or update → unknown → create): at most twice
            if not pending:
                break
            retry: list[int] = []
            for flag in (False, True):
                batch = [i for i in pending if updating[i] == flag]
                for chunk in _chunks(batch, self.settings.batch_size):
                    body = self._service(
                        shapes.RECORD_SERVICE,
                        {
                            "isUpdating": "true" if flag else "false",
                            "data": [bodies[i] for i in chunk],
                        },
                        repeatable=True,
                    )
                    self._top_level_ok(body)
                    for i, (code, message) in zip(
                        chunk,
                        shapes.item_results(self.settings.base_url, body, len(chunk)),
                        strict=True,  # item_results answers one result per item sent
                    ):
                        if code == shapes.OK:
                            results[i] = ItemResult(Outcome.OK, recreated=i in recreated)
                        elif code == shapes.ALREADY_EXISTS and not flag:
                            updating[i] = True
                            retry.append(i)
                        elif code == shapes.UNKNOWN_DOSSIER and flag:
                            updating[i] = False
                            recreated.add(i)
                            retry.append(i)
                        else:
                            results[i] = shapes.refusal(code, message)
            pending = retry
        for i in pending:
            results[i] = shapes.refusal(-1, "create and update both refused")
        return [r if r is not None else shapes.refusal(-1, "no answer") for r in results]

    def add_steps(self, bodies: Sequence[dict[str, Any]]) -> list[ItemResult]:
        """Append steps in order, one batch per call; a lost answer raises :class:`AmbiguousWrite`
        (earlier batches' results are then lost with it: the caller settles all of them)."""
        out: list[ItemResult] = []
        for chunk in _chunks(list(bodies), self.settings.batch_size):
            body = self._service(shapes.STEP_SERVICE, {"data": list(chunk)}, repeatable=False)
            self._top_level_ok(body)
            out.extend(
                ItemResult(Outcome.OK) if code == shapes.OK else shapes.refusal(code, message)
                for code, message in shapes.item_results(self.settings.base_url, body, len(chunk))
            )
        return out

    def _top_level_ok(self, body: dict[str, Any]) -> None:
        code = shapes.error_code(body)
        if code != shapes.OK:
            # The whole request was refused (not one item): a defect of this adapter or a changed
            # service.
            raise RequestRejected(
                f"{self.settings.base_url} error_code {code}: {str(body.get('message'))[:200]}",
                url=self.settings.base_url,
            )

    # -- reads --------------------------------------------------------------------------
    def held(self, codes: Sequence[str], chunk: int = 200) -> dict[str, NationalHolding]:
        """What the national side holds for these dossiers (absent: not there)."""
        out: dict[str, NationalHolding] = {}
        for part in _chunks(list(dict.fromkeys(codes)), chunk):
            body = self._service(shapes.LOOKUP_SERVICE, {"MaHoSo": list(part)}, repeatable=True)
            self._top_level_ok(body)
            for holding in shapes.holdings(self.settings.base_url, body):
                out[holding.code] = holding
        return out

    # -- bodies (rendered once, stored in the outbox, sent later) ---------------------
    @staticmethod
    def record_body(record: NationalRecord) -> dict[str, Any]:
        return shapes.record_body(record)

    @staticmethod
    def step_body(step: Step) -> dict[str, Any]:
        return shapes.step_body(step)

    @staticmethod
    def step_digest(body: dict[str, Any]) -> str:
        return shapes.step_digest(body)

    @staticmethod
    def record_digest(body: dict[str, Any]) -> str:
        return shapes.record_digest(body)

    @staticmethod
    def settled_body(body: dict[str, Any]) -> dict[str, Any]:
        return shapes.without_personal_data(body)

    @staticmethod
    def applicant_names(body: dict[str, Any]) -> tuple[str, ...]:
        return shapes.applicant_names(body)

    def close(self) -> None:
        self.http.close()
