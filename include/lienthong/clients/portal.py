"""Adapter for the one-stop portal (VNPT iGate style): OIDC auth, dossier search, files,
results, steps and status.

Every write is made safe to repeat: it first reads the dossier and does nothing if
the effect is already there, so a task that died after the remote call and before
its local record can simply run again. A write whose answer was lost is read back,
never sent again blindly (``docs/exactly-once.md``).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from lienthong.clients import portal_shapes as shapes
from lienthong.clients.connection_fields import base_url, extra_value, tls_verify
from lienthong.clients.errors import MalformedAnswer, RemoteError
from lienthong.clients.http import (
    RemoteRefused,
    RetryPolicy,
    SecretSink,
    TransientHTTPError,
    is_transient,
    json_body,
    make_session,
    no_secret_sink,
    raise_for_status,
    retrying,
    send,
)
from lienthong.clients.oidc import ClientCredentialsAuth
from lienthong.clients.portal_shapes import format_portal_datetime
from lienthong.domain.dossier import Progress, ResultDocument, Step
from lienthong.domain.masking import get_logger

log = get_logger(__name__)
TIME_STEP = timedelta(
    milliseconds=1
)  # the resolution of the portal's date filters (format_portal_datetime)
TIE_PASSES = 20  # reads of one tie group before the scan gives up loudly
TIE_PAGE_MAX = 1000  # a tie group is asked for in one page up to this size
# A portal ``Date`` further ahead of our own clock than this is a broken server clock, not the
# time: taken, it would pin "the portal's now" in the future (due dates, the future-date check).
# No bound behind: a portal may run behind us (the stand-ins' simulated clock sits in 2022), and a
# late value is replaced by the next answer's.
MAX_CLOCK_AHEAD = timedelta(days=1)


class IncompleteScan(MalformedAnswer):
    """The portal did not let a scan read every dossier of a tie group (its order among them kept
    changing): the listing is not the whole one the API promises. The run fails and nothing is
    skipped; the next run scans again."""


def _unseen(content: list[Any], yielded: set[tuple[Any, ...]]) -> Iterator[dict[str, Any]]:
    """The page's dossiers this scan has not yielded yet (by position; by content when the date is
    broken)."""
    for raw in content:
        key = shapes.sort_key(raw)
        seen = (key,) if key is not None else (shapes.payload_hash(raw),)
        if seen not in yielded:
            yielded.add(seen)
            yield raw


@dataclass(frozen=True)
class PortalSettings:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    token_path: str = "/auth/realms/digo/protocol/openid-connect/token"
    timeout: float = 10.0
    verify: bool | str = True
    page_size: int = 200
    retry: RetryPolicy = RetryPolicy()
    # The most bytes read of any answer: a search page of ``page_size`` dossiers is a few MB, a
    # result file read back is within iOffice's limit (12 MiB by default). One past it is refused
    # at the cap (a malformed answer: read again), never held whole.
    max_answer_bytes: int = 32 * 1024 * 1024

    @classmethod
    def from_connection(cls, conn: Any, **overrides: Any) -> PortalSettings:
        extra = conn.extra_dejson or {}
        values = dict(
            base_url=base_url(conn),
            client_id=conn.login,
            client_secret=conn.password,
            token_path=extra_value(extra, "token_path", cls.token_path),
            timeout=float(extra_value(extra, "timeout", cls.timeout)),
            verify=tls_verify(extra.get("verify")),
            page_size=int(extra_value(extra, "page_size", cls.page_size)),
        )
        values.update(overrides)
        return cls(**values)


class PortalClient:
    """Thread-safe: one pooled session and one cached token shared by a batch's workers."""

    def __init__(self, settings: PortalSettings, *, on_secret: SecretSink = no_secret_sink):
        """``on_secret``: told each OIDC token obtained (the hooks pass Airflow's secrets
        masker)."""
        self.settings = settings
        self.session = make_session(verify=settings.verify)
        self.auth = ClientCredentialsAuth(
            settings.base_url + settings.token_path,
            settings.client_id,
            settings.client_secret,
            timeout=settings.timeout,
            session=self.session,
            on_secret=on_secret,
        )
        self._retrying = retrying(settings.retry)
        self._write_retrying = retrying(settings.retry, only_unsent=True)
        self.server_time: datetime | None = None

    def log_in(self) -> None:
        """Fetch a token now: the cheapest proof that host, TLS and credentials are right."""
        self.auth.fetch_token()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self._call(method, path, lambda resp: resp, **kwargs)

    def _json(self, method: str, path: str, check: Any = None, **kwargs: Any) -> Any:
        """The JSON answer, read inside the retry: a garbled 2xx is retried like a 5xx."""

        def parse(resp: requests.Response) -> Any:
            body = json_body(resp)
            if check is not None:
                check(resp, body)
            return body

        return self._call(method, path, parse, **kwargs)

    def _call(self, method: str, path: str, parse: Any, retry: Any = None, **kwargs: Any) -> Any:
        """One call with retries on transient failures (the auth renews the token once on a 401);
        ``retry``: another retry policy (writes: :meth:`_write`)."""

        def attempt() -> Any:
            resp = send(
                self.session,
                method,
                self.settings.base_url + path,
                timeout=self.settings.timeout,
                auth=self.auth,
                max_bytes=self.settings.max_answer_bytes,
                **kwargs,
            )
            if resp.status_code == 401:
                # A token the endpoint has just issued was refused: a glitch, try again later.
                raise TransientHTTPError(401, resp.url)
            raise_for_status(resp)
            self._note_server_time(resp)
            return parse(resp)

        return (retry or self._retrying)(attempt)

    def _note_server_time(self, resp: requests.Response) -> None:
        """The portal's own clock (HTTP Date): "now" for due-date checks, whatever ours says; a
        Date more than :data:`MAX_CLOCK_AHEAD` ahead of the local clock is ignored (logged), and
        the previous value kept."""
        value = resp.headers.get("Date")
        if not value:
            return
        try:
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        if at.tzinfo is None:  # "-0000": UTC, source unknown (RFC 5322)
            at = at.replace(tzinfo=UTC)
        if at > datetime.now(UTC) + MAX_CLOCK_AHEAD:
            log.warning(
                "portal Date %s is more than %s ahead of the local clock: ignored, the portal's "
                "clock stays at %s",
                at.isoformat(),
                MAX_CLOCK_AHEAD,
                self.server_time.isoformat() if self.server_time else "unknown",
            )
            return
        self.server_time = at

    # -- reads ------------------------------------------------------------------------
    def search(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._json("GET", "/pa/dossier/search", shapes.check_page, params=params)

    def get_dossier(self, dossier_id: str) -> dict[str, Any]:
        return self._json("GET", f"/pa/dossier/{dossier_id}", shapes.check_dossier)

    def find_by_code(self, code: str) -> dict[str, Any] | None:
        content = self.search({"code": code, "page": 0, "size": 5})["content"]
        return next((d for d in content if shapes.code_of(d) == code), None)

    def progress(self, dossier_id: str) -> Progress:
        """The dossier's status now and when it was finished, read fresh from the portal."""
        return shapes.to_progress(self.get_dossier(dossier_id))

    def iter_updated(
        self,
        updated_from: datetime,
        updated_to: datetime | None = None,
        *,
        agency: str | None = None,
        accepted_from: datetime | None = None,
        accepted_to: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every dossier updated in ``[updated_from, updated_to)``, oldest first, none lost whatever
        order the portal gives dossiers that share an ``updatedDate``.

        The portal is asked to sort by ``updatedDate`` only, so ties may come back in any order, and
        in another one on the next call. The scan therefore moves by timestamp alone: each query
        starts at the newest timestamp met so far (inclusive) and skips what this scan has yielded;
        a tie group larger than a page is read whole on its own (:meth:`_tie_group`) before the
        scan moves past it. A dossier updated mid-scan moves past the scan and is met again.
        """
        extra = {
            name: value
            for name, value in (
                ("agency-code", agency),
                ("accepted-from", format_portal_datetime(accepted_from) if accepted_from else None),
                ("accepted-to", format_portal_datetime(accepted_to) if accepted_to else None),
            )
            if value
        }
        lower, page = updated_from, 0
        yielded: set[tuple[Any, ...]] = set()  # a dossier met again unchanged is not new twice
        while True:
            content, size, _ = self._updated_page(lower, updated_to, page, extra)
            yield from _unseen(content, yielded)
            if len(content) < size:
                return
            top = max(
                (key[0] for key in map(shapes.sort_key, content) if key is not None), default=None
            )
            if top is None:  # a whole page of unreadable dates: nothing to move by, step by offset
                page += 1
            elif top > lower:
                lower, page = top, 0
            else:
                # The whole page shares one timestamp: read that tie group whole, then move past it.
                yield from self._tie_group(lower, updated_to, extra, yielded)
                lower, page = lower + TIME_STEP, 0
                if updated_to is not None and lower >= updated_to:
                    return

    def _updated_page(
        self,
        frm: datetime,
        to: datetime | None,
        page: int,
        extra: dict[str, str],
        want: int | None = None,
    ) -> tuple[list[dict[str, Any]], int, int | None]:
        """One search page: its items, the page size the portal applied, its total count (if
        given)."""
        want = want or self.settings.page_size
        params = {
            "sort": "updatedDate,asc",
            "size": want,
            "page": page,
            "updated-from": format_portal_datetime(frm),
            **extra,
        }
        if to is not None:
            params["updated-to"] = format_portal_datetime(to)
        body = self.search(params)
        served = body.get("size")
        size = min(want, served) if isinstance(served, int) and served > 0 else want
        total = body.get("totalElements")
        return body["content"], size, total if isinstance(total, int) else None

    def _tie_group(
        self,
        at: datetime,
        updated_to: datetime | None,
        extra: dict[str, str],
        yielded: set[tuple[Any, ...]],
    ) -> Iterator[dict[str, Any]]:
        """Every dossier updated at exactly ``at``: offset pages over ``[at, at + 1 ms)``, read
        again (the order may change between calls) until as many distinct dossiers were met as the
        portal counts. Raises :class:`IncompleteScan` rather than move on with one missing."""
        to = at + TIME_STEP if updated_to is None else min(at + TIME_STEP, updated_to)
        met: set[str] = set()
        total: int | None = None
        want = self.settings.page_size
        for _ in range(TIE_PASSES):
            before, page = len(met), 0
            while True:
                content, size, total = self._updated_page(at, to, page, extra, want)
                met.update(str(raw.get("id")) for raw in content if isinstance(raw, dict))
                yield from _unseen(content, yielded)
                if len(content) < size:
                    break
                page += 1
            if (total is not None and len(met) >= total) or (total is None and len(met) == before):
                return
            if total is not None:  # the whole group in one page next time, if the portal allows it
                want = max(want, min(total, TIE_PAGE_MAX))
        raise IncompleteScan(
            f"{len(met)} of {total} dossiers updated at {at.isoformat()} read after "
            f"{TIE_PASSES} passes: the portal's order among them keeps changing"
        )

    # -- files and results --------------------------------------------------------------
    def upload_file(
        self, filename: str, content: bytes, content_type: str = "application/pdf"
    ) -> dict[str, Any]:
        resp = self._request(
            "POST", "/fi/file/--multiple", files=[("files", (filename, content, content_type))]
        )
        return json_body(resp)[0]

    def file_url(self, file_id: str) -> str:
        """Where a file is downloaded (the national record links result papers by URL)."""
        return self.settings.base_url + shapes.file_path(file_id)

    def download_file(self, file_id: str) -> bytes:
        return self._request("GET", shapes.file_path(file_id)).content

    def _write(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A write that is not idempotent: retried only when it surely never reached the portal. Any
        other failure leaves its outcome unknown, and the caller reads back before repeating it."""
        return self._call(method, path, lambda resp: resp, retry=self._write_retrying, **kwargs)

    def _unknown_outcome(
        self, what: str, dossier_id: str, attempt: int, exc: BaseException
    ) -> None:
        if not is_transient(exc) or attempt + 1 >= self.settings.retry.attempts:
            raise exc
        log.warning(
            "%s on dossier %s: outcome unknown (%s), reading back",
            what,
            dossier_id,
            type(exc).__name__,
        )
        time.sleep(min(self.settings.retry.backoff * 2**attempt, self.settings.retry.backoff_max))

    def attach_result_once(
        self, dossier_id: str, filename: str, content: bytes, document: ResultDocument
    ) -> tuple[str, bool]:
        """Attach a signed result unless one with the same number/notation is there already.

        Read before every attempt: an attempt whose answer was lost is found attached, never
        repeated blindly. The portal is not trusted to refuse a second one (it may not). Callers
        hold the dossier's claim, so no other process of the link attaches meanwhile.
        Returns (file id, whether this call attached it).
        """
        notation = document.code_notation
        tried = False
        for attempt in range(self.settings.retry.attempts):
            existing = shapes.attachment_with(self.get_dossier(dossier_id), notation)
            if existing:
                return existing, tried
            meta = self.upload_file(filename, content)
            tried = True
            try:
                self._write(
                    "POST",
                    f"/pa/dossier/{dossier_id}/result",
                    json={
                        "fileId": meta["id"],
                        "filename": filename,
                        "document": shapes.result_document_body(document),
                    },
                )
                return meta["id"], True
            except RemoteRefused as exc:
                if exc.status != 409:
                    raise
                existing = shapes.attachment_with(self.get_dossier(dossier_id), notation)
                if not existing:
                    raise
                return existing, False
            except RemoteError as exc:
                self._unknown_outcome("attach", dossier_id, attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises

    def withdraw_result_once(self, dossier_id: str, notation: str) -> bool:
        """Take the result with this number/notation off the dossier, unless it is gone already.

        Read before every attempt, as :meth:`attach_result_once`: a lost answer is found done.
        Returns whether the result was still there when this call began."""
        was_there = False
        for attempt in range(self.settings.retry.attempts):
            file_id = shapes.attachment_with(self.get_dossier(dossier_id), notation)
            if not file_id:
                return was_there
            was_there = True
            try:
                self._write("DELETE", f"/pa/dossier/{dossier_id}/result/{file_id}")
                return True
            except RemoteRefused as exc:
                if exc.status != 404 or attempt + 1 >= self.settings.retry.attempts:
                    raise  # 404 otherwise: gone meanwhile; read again
            except RemoteError as exc:
                self._unknown_outcome("withdraw", dossier_id, attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises

    def add_step_once(self, dossier_id: str, step: Step) -> bool:
        """Record a processing step unless this very step (content and time) is recorded already.

        A step is known by its content and its time, which the caller fixes once (a repeat carries
        the same time); a legitimate second step with the same text has another time and is
        written."""
        for attempt in range(self.settings.retry.attempts):
            if shapes.step_identity(step) in shapes.step_identities(self.get_dossier(dossier_id)):
                return attempt > 0
            try:
                self._write("POST", f"/pa/dossier/{dossier_id}/step", json=shapes.step_body(step))
                return True
            except RemoteError as exc:
                self._unknown_outcome("add step", dossier_id, attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def set_status_once(
        self, dossier_id: str, status: int, step: Step | None = None, beyond: Collection[int] = ()
    ) -> bool:
        """Move the dossier to ``status`` (with a step) unless it is there, or in ``beyond``,
        already.

        ``beyond`` names the statuses the dossier may legitimately have reached since (e.g. the
        desk returned a finished dossier, 9 -> 10, while lienthong was between two calls).
        """
        done = {status, *beyond}
        tried = False
        for attempt in range(self.settings.retry.attempts):
            if shapes.status_of(self.get_dossier(dossier_id)) in done:
                if step:
                    self.add_step_once(dossier_id, step)
                return tried
            body: dict[str, Any] = {"statusId": int(status)}
            if step:
                body["step"] = shapes.step_body(step)
            tried = True
            try:
                self._write("PUT", f"/pa/dossier/{dossier_id}/status", json=body)
                return True
            except RemoteRefused as exc:
                if exc.status == 409 and shapes.status_of(self.get_dossier(dossier_id)) in done:
                    return False
                raise
            except RemoteError as exc:
                self._unknown_outcome("set status", dossier_id, attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.session.close()
