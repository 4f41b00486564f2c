"""Adapter for the one-stop portal (VNPT iGate style): OIDC auth, dossier search, files,
results, steps and status.

Every write is made safe to repeat: it first reads the dossier and does nothing if
the effect is already there, so a task that died after the remote call and before
its local record can simply run again.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from lienthong.clients.http import (extra_value, tls_verify, RemoteRefused, RetryPolicy, TransientHTTPError, base_url,
                                   json_body, make_session, raise_for_status, retrying)
from lienthong.clients import portal_shapes as shapes
from lienthong.clients.oidc import ClientCredentialsAuth
from lienthong.clients.portal_shapes import format_portal_datetime
from lienthong.domain.dossier import Progress, ResultDocument, Step
from lienthong.domain.masking import get_logger

log = get_logger(__name__)


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

    @classmethod
    def from_connection(cls, conn: Any, **overrides: Any) -> "PortalSettings":
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

    def __init__(self, settings: PortalSettings):
        self.settings = settings
        self.session = make_session(verify=settings.verify)
        self.auth = ClientCredentialsAuth(settings.base_url + settings.token_path, settings.client_id,
                                          settings.client_secret, timeout=settings.timeout, session=self.session)
        self._retrying = retrying(settings.retry)
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

    def _call(self, method: str, path: str, parse: Any, **kwargs: Any) -> Any:
        """One call with retries on transient failures (the auth renews the token once on a 401)."""

        def attempt() -> Any:
            resp = self.session.request(method, self.settings.base_url + path, timeout=self.settings.timeout,
                                        auth=self.auth, **kwargs)
            if resp.status_code == 401:
                # A token the endpoint has just issued was refused: a glitch, try again later.
                raise TransientHTTPError(401, resp.url)
            raise_for_status(resp)
            self._note_server_time(resp)
            return parse(resp)

        return self._retrying(attempt)

    def _note_server_time(self, resp: requests.Response) -> None:
        """The portal's own clock (HTTP Date): "now" for due-date checks, whatever ours says."""
        value = resp.headers.get("Date")
        if value:
            try:
                self.server_time = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                pass

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
        self, updated_from: datetime, updated_to: datetime | None = None,
        after: tuple[datetime, str] | None = None, *, agency: str | None = None,
        accepted_from: datetime | None = None, accepted_to: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every dossier updated in the window, oldest first, without gaps while dossiers change.

        Keyset paging on (updatedDate, id): each page restarts from the last item seen
        instead of an offset, so a dossier updated mid-scan moves past the cursor and is
        met again rather than shifting others out of view. ``after`` skips what a
        previous run stored already.
        """
        cursor_ts, cursor_id = after if after else (updated_from, "")
        extra = {name: value for name, value in (
            ("agency-code", agency),
            ("accepted-from", format_portal_datetime(accepted_from) if accepted_from else None),
            ("accepted-to", format_portal_datetime(accepted_to) if accepted_to else None)) if value}
        page = 0
        yielded: set[tuple[Any, ...]] = set()  # a page that repeats an item does not make it new twice
        while True:
            params = {"sort": "updatedDate,asc", "size": self.settings.page_size, "page": page,
                      "updated-from": format_portal_datetime(cursor_ts), **extra}
            if updated_to is not None:
                params["updated-to"] = format_portal_datetime(updated_to)
            content = self.search(params)["content"]
            last: tuple[datetime, str] | None = None
            for raw in content:
                key = shapes.sort_key(raw)
                if key is not None and key <= (cursor_ts, cursor_id):
                    continue
                seen = (key,) if key is not None else (shapes.payload_hash(raw),)
                if seen in yielded:
                    continue
                yielded.add(seen)
                yield raw
                if key is not None:
                    last = key
            if len(content) < self.settings.page_size:
                return
            if last is not None:
                cursor_ts, cursor_id = last
                page = 0
            else:  # nothing on this page moved the cursor (ties, unreadable dates): step by offset
                page += 1

    # -- files and results --------------------------------------------------------------
    def upload_file(self, filename: str, content: bytes, content_type: str = "application/pdf") -> dict[str, Any]:
        resp = self._request("POST", "/fi/file/--multiple", files=[("files", (filename, content, content_type))])
        return resp.json()[0]

    def file_url(self, file_id: str) -> str:
        """Where a file is downloaded (the national record links result papers by URL)."""
        return self.settings.base_url + shapes.file_path(file_id)

    def download_file(self, file_id: str) -> bytes:
        return self._request("GET", shapes.file_path(file_id)).content

    def attach_result_once(self, dossier_id: str, filename: str, content: bytes,
                           document: ResultDocument) -> tuple[str, bool]:
        """Attach a signed result unless one with the same number/notation is there already.

        Returns (file id, whether this call attached it).
        """
        notation = document.code_notation
        existing = shapes.attachment_with(self.get_dossier(dossier_id), notation)
        if existing:
            return existing, False
        meta = self.upload_file(filename, content)
        try:
            self._request("POST", f"/pa/dossier/{dossier_id}/result",
                          json={"fileId": meta["id"], "filename": filename,
                                "document": shapes.result_document_body(document)})
        except RemoteRefused as exc:
            if exc.status != 409:
                raise
            existing = shapes.attachment_with(self.get_dossier(dossier_id), notation)
            if not existing:
                raise
            return existing, False
        return meta["id"], True

    def add_step_once(self, dossier_id: str, step: Step) -> bool:
        """Record a processing step unless the same step (content) is recorded already."""
        if step.content in shapes.step_contents(self.get_dossier(dossier_id)):
            return False
        self._request("POST", f"/pa/dossier/{dossier_id}/step", json=shapes.step_body(step))
        return True

    def set_status_once(self, dossier_id: str, status: int, step: Step | None = None,
                        beyond: Collection[int] = ()) -> bool:
        """Move the dossier to ``status`` (with a step) unless it is there, or in ``beyond``, already.

        ``beyond`` names the statuses the dossier may legitimately have reached since (e.g. the
        desk returned a finished dossier, 9 -> 10, while lienthong was between two calls).
        """
        done = {status, *beyond}
        if shapes.status_of(self.get_dossier(dossier_id)) in done:
            if step:
                self.add_step_once(dossier_id, step)
            return False
        body: dict[str, Any] = {"statusId": int(status)}
        if step:
            body["step"] = shapes.step_body(step)
        try:
            self._request("PUT", f"/pa/dossier/{dossier_id}/status", json=body)
        except RemoteRefused as exc:
            if exc.status == 409 and shapes.status_of(self.get_dossier(dossier_id)) in done:
                return False
            raise
        return True

    def close(self) -> None:
        self.session.close()

