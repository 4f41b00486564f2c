"""Shared HTTP plumbing: pooled sessions, timeouts, TLS verification, retries with jitter.

Retries use tenacity: transient failures (connection errors, resets, timeouts, 5xx)
are retried with exponential backoff and full jitter; 4xx never are, because
repeating a refused request cannot make it succeed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from lienthong.domain.masking import get_logger

log = get_logger(__name__)


class TransientHTTPError(Exception):
    """A 5xx answer: the server may succeed if asked again."""

    def __init__(self, status: int, url: str):
        super().__init__(f"HTTP {status} from {url}")
        self.status = status


class InvalidResponse(Exception):
    """A 2xx answer whose body is not what the API promises (an HTML error page from a proxy, JSON cut
    short, a page that skipped items): a glitch on the way, so it is retried, and never taken as data."""

    def __init__(self, url: str, problem: str):
        super().__init__(f"invalid response from {url}: {problem}")
        self.problem = problem


def json_body(resp: requests.Response) -> Any:
    """The JSON body, or :class:`InvalidResponse` saying what came instead (no body text: it may hold
    personal data)."""
    try:
        return resp.json()
    except ValueError:
        kind = resp.headers.get("content-type", "?").split(";")[0]
        raise InvalidResponse(
            str(resp.url), f"not JSON ({kind}, {len(resp.content)} bytes)"
        ) from None


class RemoteRefused(Exception):
    """A 4xx answer that is not an auth problem: retrying will not help."""

    def __init__(self, status: int, url: str, body: str):
        super().__init__(f"HTTP {status} from {url}: {body[:300]}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff: float = 0.5
    backoff_max: float = 10.0


def is_auth_refusal(exc: BaseException) -> bool:
    """401/403: a wrong or revoked credential; polling again cannot fix it."""
    return isinstance(exc, RemoteRefused) and exc.status in (401, 403)


def base_url(conn: Any, path: str = "") -> str:
    """``scheme://host[:port]path`` of an HTTP Connection; https unless the Connection says otherwise."""
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.schema or 'https'}://{conn.host}{port}{path}"


def extra_value(extra: dict[str, Any], key: str, default: Any) -> Any:
    """A Connection extra, with the UI's empty fields (``None``, ``""``) meaning "not set"."""
    value = extra.get(key)
    return default if value is None or (isinstance(value, str) and not value.strip()) else value


def tls_verify(value: Any) -> bool | str:
    """The ``verify`` extra: on unless explicitly ``false``; a string other than true/false is a CA
    bundle path. An empty form field never turns verification off."""
    if (
        value is None
        or value is True
        or (isinstance(value, str) and value.strip().lower() in ("", "true", "1", "yes"))
    ):
        return True
    if value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0", "no")):
        return False
    return str(value)


def is_transient(exc: BaseException) -> bool:
    return isinstance(
        exc,
        (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            TransientHTTPError,
            InvalidResponse,
        ),
    )


def is_unsent(exc: BaseException) -> bool:
    """The request surely never reached the server (no connection was made, or the token was refused
    before any work): the only failures after which a write that is not idempotent may be sent again.
    Every other failure of a write leaves its outcome unknown: read back before repeating it."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, TransientHTTPError) and exc.status == 401:
        return True
    if type(exc) is requests.ConnectionError:
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "transient failure (attempt %d), retrying: %s", state.attempt_number, type(exc).__name__
    )


def retrying(policy: RetryPolicy, only_unsent: bool = False) -> Retrying:
    """Retries of transient failures; ``only_unsent``: of those that surely never reached the server
    (for writes that are not idempotent, see :func:`is_unsent`)."""
    return Retrying(
        retry=retry_if_exception(is_unsent if only_unsent else is_transient),
        wait=wait_random_exponential(multiplier=policy.backoff, max=policy.backoff_max),
        stop=stop_after_attempt(policy.attempts),
        before_sleep=_log_retry,
        reraise=True,
    )


def make_session(pool_size: int = 16, verify: bool | str = True) -> requests.Session:
    """A pooled session; ``verify`` stays on (True or a CA bundle path) unless a test says otherwise."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def raise_for_status(resp: requests.Response | httpx.Response) -> None:
    if resp.status_code >= 500:
        raise TransientHTTPError(resp.status_code, str(resp.url))
    if resp.status_code >= 400:
        raise RemoteRefused(resp.status_code, str(resp.url), resp.text)


logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
