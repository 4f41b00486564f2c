"""Shared HTTP plumbing: pooled sessions, timeouts, TLS verification, retries with jitter, and the
one place where the HTTP libraries' exceptions become the kinds of :mod:`lienthong.clients.errors`.

Every call goes through :func:`send` (``requests``) or :func:`asend` (``httpx``, the triggerer):
a failure of the library is raised as :class:`~.errors.ConnectionFailed`,
:class:`~.errors.TLSFailed`, :class:`~.errors.MalformedAnswer` or :class:`~.errors.Misconfigured`,
from the library's exception.
:func:`raise_for_status` turns an answer's status into a kind.

Bounds before memory: a caller that names ``max_bytes`` gets the body streamed and read up to that
many bytes, never more (:class:`AnswerTooLarge` at the cap: a hostile or broken answer costs at most
the cap, not its own size); every JSON body is parsed by :func:`parse_json`, which first scans its
nesting depth (:class:`AnswerTooDeep` past :data:`MAX_JSON_DEPTH`: ``json.loads`` would raise
``RecursionError``, which is no kind at all).

Retries use tenacity: transient failures (the :class:`~.errors.Unreachable` and
:class:`~.errors.MalformedAnswer` kinds: connection errors, resets, timeouts, 5xx, garbled bodies)
are retried with exponential backoff and full jitter; refusals never are, because repeating a
refused request cannot make it succeed.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable
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

from lienthong.clients.errors import (
    ConnectionFailed,
    CredentialsRefused,
    MalformedAnswer,
    Misconfigured,
    RemoteError,
    RequestRejected,
    TLSFailed,
    Unreachable,
)
from lienthong.domain.masking import get_logger

log = get_logger(__name__)
AUTH_STATUSES = (401, 403)
MAX_JSON_DEPTH = 64  # no answer of any system the link reads nests half as deep
READ_CHUNK_BYTES = 64 * 1024
# The bytes that make JSON's nesting: quotes (where strings start and end) and brackets; braces
# count as brackets.
_NOT_NESTING = bytes(b for b in range(256) if b not in b'"[]{}')
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
# Told every credential a client obtains at run time (an OIDC token, a national session), so that
# whoever runs the client keeps it out of logs: the hooks pass Airflow's secrets masker. The
# clients know no Airflow; by default nobody is told.
SecretSink = Callable[[str], None]


def no_secret_sink(value: str) -> None:
    """The default :data:`SecretSink`: outside Airflow there is no masker to tell."""


class TransientHTTPError(Unreachable):
    """A 5xx answer, or a token the portal refused right after issuing it (401): the server may
    succeed if asked again. ``status`` says which."""

    def __init__(self, status: int, url: str):
        super().__init__(f"HTTP {status} from {url}", url=url, status=status)


class InvalidResponse(MalformedAnswer):
    """A 2xx answer whose body is not what the API promises (an HTML error page from a proxy, JSON
    cut short, a page that skipped items); ``problem`` says what is wrong, without the body (it may
    hold personal data)."""

    def __init__(self, url: str, problem: str):
        super().__init__(f"invalid response from {url}: {problem}", url=url)
        self.problem = problem


class RemoteRefused(RequestRejected):
    """A 4xx answer that is not an auth problem (401/403 are :class:`~.errors.CredentialsRefused`):
    retrying will not help. ``body`` is the answer's text, for the caller to judge (404, 409)."""

    def __init__(self, status: int, url: str, body: str):
        super().__init__(f"HTTP {status} from {url}: {body[:300]}", url=url, status=status)
        self.body = body


class AnswerTooLarge(InvalidResponse):
    """A body longer than the caller's cap (``limit`` bytes): the read stopped at the cap and the
    rest was never fetched, so an answer of any size costs at most the cap."""

    def __init__(self, url: str, limit: int):
        super().__init__(url, f"answer larger than {limit} bytes; read stopped at the cap")
        self.limit = limit


class AnswerTooDeep(InvalidResponse):
    """JSON nested deeper than ``limit`` levels: refused before ``json.loads``, whose recursion
    would otherwise end in ``RecursionError`` (which no caller handles as a remote failure)."""

    def __init__(self, url: str, limit: int):
        super().__init__(url, f"JSON nested deeper than {limit} levels")
        self.limit = limit


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit``, judged without parsing it and
    in C-speed passes (no Python step per byte or token): escaped backslashes and quotes dropped,
    then all but quotes and brackets, then the strings (brackets inside a string are text); the
    innermost ``[]`` pairs are then removed one level per pass. Brackets that never pair (text cut
    short) are not depth: ``json.loads`` refuses such text next."""
    if b"\\" in raw:  # rare outside text fields; base64 has none
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    nesting = raw.translate(_BRACES_AS_BRACKETS, _NOT_NESTING)
    # Between quotes is string: the odd pieces (an unterminated last string drops with them).
    nesting = b"".join(nesting.split(b'"')[::2])
    for _ in range(limit):
        inner = nesting.replace(b"[]", b"")
        if inner == nesting:
            return False
        nesting = inner
    return b"[]" in nesting


def parse_json(raw: bytes, url: str, content_type: str = "?") -> Any:
    """The JSON of a body, depth first (:class:`AnswerTooDeep`), or :class:`InvalidResponse` saying
    what came instead (no body text: it may hold personal data). The one JSON reader of every
    answer the adapters read."""
    if json_depth_exceeds(raw):
        raise AnswerTooDeep(url, MAX_JSON_DEPTH)
    try:
        return json.loads(raw)
    except RecursionError:  # deep brackets that never close (text cut short): deep all the same
        raise AnswerTooDeep(url, MAX_JSON_DEPTH) from None
    except ValueError:
        kind = content_type.split(";")[0]
        raise InvalidResponse(url, f"not JSON ({kind}, {len(raw)} bytes)") from None


def json_body(resp: requests.Response | httpx.Response) -> Any:
    """The answer's JSON body (:func:`parse_json`)."""
    return parse_json(resp.content, str(resp.url), resp.headers.get("content-type", "?"))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff: float = 0.5
    backoff_max: float = 10.0


def is_auth_refusal(exc: BaseException) -> bool:
    """A wrong or revoked credential (401/403, a refused login); polling again cannot fix it."""
    return isinstance(exc, CredentialsRefused)


def is_transient(exc: BaseException) -> bool:
    """Worth asking again: the :class:`~.errors.Unreachable` and :class:`~.errors.MalformedAnswer`
    kinds (the adapters raise the HTTP libraries' transport failures as these)."""
    return isinstance(exc, (Unreachable, MalformedAnswer))


def is_unsent(exc: BaseException) -> bool:
    """The request surely never reached the server (no connection was made, or the token was
    refused before any work): the only failures after which a write that is not idempotent may be
    sent again. Every other failure of a write leaves its outcome unknown: read back before
    repeating it.

    Judged from the library's exception that :func:`send` keeps as ``__cause__``."""
    if isinstance(exc, TransientHTTPError):
        return exc.status == 401
    cause = exc.__cause__ if isinstance(exc, ConnectionFailed) else None
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if type(cause) is requests.ConnectionError:
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    cause = f" ({type(exc.__cause__).__name__})" if exc and exc.__cause__ else ""
    log.warning(
        "transient failure (attempt %d), retrying: %s%s",
        state.attempt_number,
        type(exc).__name__,
        cause,
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
    """A pooled session; ``verify`` stays on (True or a CA bundle path) unless a test says
    otherwise."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def raise_for_status(resp: requests.Response | httpx.Response) -> None:
    """An error answer as its kind: 5xx :class:`TransientHTTPError`, 401/403
    :class:`~.errors.CredentialsRefused`, any other 4xx :class:`RemoteRefused`."""
    status, url = resp.status_code, str(resp.url)
    if status >= 500:
        raise TransientHTTPError(status, url)
    if status in AUTH_STATUSES:
        raise CredentialsRefused(
            f"HTTP {status} from {url}: {resp.text[:300]}", url=url, status=status
        )
    if status >= 400:
        raise RemoteRefused(status, url, resp.text)


# -- the library boundary ----------------------------------------------------------------------

_REQUESTS_TRANSPORT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_DECODING = (
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.DecodeError,
    httpx.DecodingError,
)
_LIBRARY_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    httpx.HTTPError,
    httpx.InvalidURL,
)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (``__cause__``, ``__context__``, urllib3's ``reason``), outermost
    first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException) and current.args:
            inner = current.args[0] if isinstance(current.args[0], BaseException) else None
        current = (
            inner
            if isinstance(inner, BaseException)
            else (current.__cause__ or current.__context__)
        )
    return chain


def as_remote_error(exc: BaseException, url: str) -> RemoteError:
    """The kind of a ``requests``, ``urllib3`` or ``httpx`` exception met calling ``url``; raise it
    ``from exc`` (:func:`is_unsent` reads the cause). Transport failures are
    :class:`~.errors.ConnectionFailed` (retried, as they always were), a body that cannot be decoded
    :class:`~.errors.MalformedAnswer`, and what stops the request being made at all (a bad URL,
    scheme or header, a redirect loop) :class:`~.errors.Misconfigured`."""
    chain = _causes(exc)
    innermost = str(chain[-1]) or type(chain[-1]).__name__
    message = f"{type(exc).__name__} calling {url}: {innermost[:200]}"
    if any(isinstance(e, (ssl.SSLError, requests.exceptions.SSLError)) for e in chain):
        return TLSFailed(message, url=url)
    if isinstance(exc, _DECODING):
        return MalformedAnswer(message, url=url)
    if isinstance(exc, _REQUESTS_TRANSPORT) or (
        isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.UnsupportedProtocol)
    ):
        return ConnectionFailed(message, url=url)
    if isinstance(exc, urllib3.exceptions.HTTPError) and not isinstance(
        exc, (requests.RequestException, urllib3.exceptions.LocationValueError)
    ):
        return ConnectionFailed(message, url=url)  # raw urllib3 errors are transport errors
    return Misconfigured(message, url=url)


def _declared_over(headers: Any, max_bytes: int) -> bool:
    """The answer announces more than ``max_bytes`` (``Content-Length``): refused unread."""
    declared = str(headers.get("content-length") or "").strip()
    return declared.isdigit() and int(declared) > max_bytes


def _read_capped(resp: requests.Response, url: str, max_bytes: int) -> bytes:
    """The streamed body, at most ``max_bytes`` of it (decoded, so a compressed bomb is capped
    too); :class:`AnswerTooLarge` at the cap, the connection dropped rather than drained."""
    try:
        if _declared_over(resp.headers, max_bytes):
            raise AnswerTooLarge(url, max_bytes)
        body = bytearray()
        for chunk in resp.iter_content(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                raise AnswerTooLarge(url, max_bytes)
        return bytes(body)
    except AnswerTooLarge:
        resp.close()
        raise


def send(
    session: requests.Session, method: str, url: str, *, max_bytes: int | None = None, **kwargs: Any
) -> requests.Response:
    """``session.request(method, url, **kwargs)``; the library's failures raised as their kind.

    ``max_bytes``: the body is streamed and read up to that many bytes (:class:`AnswerTooLarge`
    beyond); the response then holds the body as if read whole (``content``, ``text``)."""
    try:
        if max_bytes is None:
            return session.request(method, url, **kwargs)
        resp = session.request(method, url, stream=True, **kwargs)
        body = _read_capped(resp, url, max_bytes)
    except _LIBRARY_ERRORS as exc:
        raise as_remote_error(exc, url) from exc
    # Where requests keeps a body it has read itself: ``content`` and ``text`` then serve it.
    resp._content, resp._content_consumed = body, True
    return resp


async def _aread_capped(resp: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The async :func:`_read_capped` (decoded bytes, at most ``max_bytes``)."""
    if _declared_over(resp.headers, max_bytes):
        raise AnswerTooLarge(url, max_bytes)
    body = bytearray()
    async for chunk in resp.aiter_bytes(READ_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise AnswerTooLarge(url, max_bytes)
    return bytes(body)


async def asend(
    client: httpx.AsyncClient, method: str, url: str, *, max_bytes: int | None = None, **kwargs: Any
) -> httpx.Response:
    """The async :func:`send` (the triggerer's event loop): ``client.request``, failures as
    kinds; ``max_bytes`` as in :func:`send` (the body streamed, read up to the cap)."""
    try:
        if max_bytes is None:
            return await client.request(method, url, **kwargs)
        async with client.stream(method, url, **kwargs) as resp:
            body = await _aread_capped(resp, url, max_bytes)
    except _LIBRARY_ERRORS as exc:
        raise as_remote_error(exc, url) from exc
    resp._content = body  # where httpx keeps a body it has read itself (``content``, ``text``)
    return resp


def post(url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    """One POST outside the adapters' pooled clients (the alert webhook, Airflow's REST API): no
    retries, TLS verified, failures as kinds; the answer's status is the caller's to judge."""
    with requests.Session() as session:
        return send(session, "POST", url, timeout=timeout, **kwargs)


logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
