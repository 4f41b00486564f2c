"""One error tree: every remote failure leaves ``lienthong.clients`` as a kind of
:mod:`lienthong.clients.errors`, and nothing outside the adapters knows an HTTP library's
exceptions.

Pure tests, and a few against a closed loopback port (marked ``slow``: they open sockets).
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import pkgutil
import re
import socket
import ssl
from pathlib import Path

import httpx
import pytest
import requests
import urllib3

import lienthong.clients
from lienthong.clients import errors
from lienthong.clients.errors import (
    KINDS,
    ConnectionFailed,
    CredentialsRefused,
    MalformedAnswer,
    Misconfigured,
    RemoteError,
    RequestRejected,
    TLSFailed,
    Unreachable,
)
from lienthong.clients.http import (
    RetryPolicy,
    TransientHTTPError,
    as_remote_error,
    asend,
    is_transient,
    is_unsent,
    send,
)
from lienthong.clients.ioffice import IOfficeAsyncClient, IOfficeClient, IOfficeSettings
from lienthong.clients.national import NationalClient, NationalSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from tests.conftest import ROOT

PRODUCT = ROOT / "include" / "lienthong"
ADAPTERS = PRODUCT / "clients"
ONCE = RetryPolicy(attempts=1)


def client_modules() -> list[str]:
    return [f"lienthong.clients.{m.name}" for m in pkgutil.iter_modules(lienthong.clients.__path__)]


def exception_classes() -> list[type[BaseException]]:
    """Every exception class defined (not imported) in a module of ``lienthong/clients``."""
    found: dict[str, type[BaseException]] = {}
    for name in client_modules():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found[f"{name}.{obj.__qualname__}"] = obj
    return list(found.values())


# -- the tree ---------------------------------------------------------------------------------


def test_every_adapter_exception_derives_from_the_base() -> None:
    classes = exception_classes()
    assert len(classes) >= 10, "the scan finds too few classes: it no longer sees the adapters"
    assert [c.__qualname__ for c in classes if not issubclass(c, RemoteError)] == []


def test_every_adapter_exception_is_of_exactly_one_kind() -> None:
    kinds = set(KINDS)
    for cls in exception_classes():
        if cls is RemoteError or cls in kinds:
            continue
        assert [k.__name__ for k in KINDS if issubclass(cls, k)] != [], cls
        assert len([k for k in KINDS if issubclass(cls, k)]) == 1, cls


def test_every_class_in_the_source_is_seen_by_the_import_scan() -> None:
    """``class X(...)`` in the sources of ``clients/``: each is an exception the scan above checks,
    or no exception at all (dataclasses, settings, clients)."""
    seen = {c.__qualname__ for c in exception_classes()}
    for path in ADAPTERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                re.search(r"Error|Exception|Refused|Rejected|Answer|Unreachable|Failed", b)
                for b in map(ast.unparse, node.bases)
            ):
                assert node.name in seen, f"{path.name}: {node.name}"


def test_kinds_say_how_to_treat_them() -> None:
    for cls in (RemoteError, *KINDS, ConnectionFailed, TLSFailed):
        assert cls.__doc__ and len(cls.__doc__.split()) >= 15, cls
    assert is_transient(Unreachable("x")) and is_transient(MalformedAnswer("x"))
    for cls in (CredentialsRefused, RequestRejected, Misconfigured):
        assert not is_transient(cls("x")), cls


# -- the library boundary (pure) -------------------------------------------------------------

URL = "http://127.0.0.1:9/x"
_HTTPX_REQUEST = httpx.Request("GET", URL)


def mapped(exc: BaseException) -> RemoteError:
    """``exc`` raised through the boundary as the adapters raise it (``from exc``)."""
    try:
        raise as_remote_error(exc, URL) from exc
    except RemoteError as remote:
        return remote


def refused_connect() -> requests.ConnectionError:
    """What requests raises for a refused connection: a NewConnectionError inside MaxRetryError."""
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))


# (library exception, kind it becomes, whether the sync retries asked again before the boundary
# existed: their predicate listed requests' ConnectionError, Timeout and ChunkedEncodingError;
# None where that predicate never saw the exception: httpx has no retries, requests wraps urllib3)
BOUNDARY = [
    (refused_connect(), ConnectionFailed, True),
    (requests.exceptions.ConnectTimeout(), ConnectionFailed, True),
    (requests.exceptions.ReadTimeout(), ConnectionFailed, True),
    (requests.exceptions.ChunkedEncodingError(), ConnectionFailed, True),
    (requests.exceptions.ProxyError(), ConnectionFailed, True),
    (requests.exceptions.SSLError("certificate verify failed"), TLSFailed, True),
    (requests.exceptions.MissingSchema(), Misconfigured, False),
    (requests.exceptions.InvalidSchema(), Misconfigured, False),
    (requests.exceptions.InvalidURL(), Misconfigured, False),
    (requests.exceptions.InvalidHeader(), Misconfigured, False),
    (requests.exceptions.TooManyRedirects(), Misconfigured, False),
    (urllib3.exceptions.ProtocolError("reset"), ConnectionFailed, None),
    (httpx.ConnectError("refused", request=_HTTPX_REQUEST), ConnectionFailed, None),
    (httpx.ReadTimeout("slow", request=_HTTPX_REQUEST), ConnectionFailed, None),
    (httpx.RemoteProtocolError("cut", request=_HTTPX_REQUEST), ConnectionFailed, None),
    (httpx.UnsupportedProtocol("ftp", request=_HTTPX_REQUEST), Misconfigured, None),
    (httpx.TooManyRedirects("loop", request=_HTTPX_REQUEST), Misconfigured, None),
    (httpx.DecodingError("gzip", request=_HTTPX_REQUEST), MalformedAnswer, None),
]


@pytest.mark.parametrize(
    ("raw", "kind", "retried_before"), BOUNDARY, ids=[type(b[0]).__name__ for b in BOUNDARY]
)
def test_library_exceptions_become_kinds(raw, kind, retried_before) -> None:
    remote = mapped(raw)
    assert type(remote) is kind and remote.__cause__ is raw and remote.url == URL
    if retried_before is not None:
        assert is_transient(remote) == retried_before  # the sync retries ask again as before


def test_a_body_that_cannot_be_decoded_is_a_malformed_answer() -> None:
    """The one kind change of the boundary: a body whose content-encoding is broken is read like a
    garbled JSON body (a MalformedAnswer, asked again on reads; writes only when unsent)."""
    remote = mapped(requests.exceptions.ContentDecodingError("bad gzip"))
    assert isinstance(remote, MalformedAnswer) and is_transient(remote)
    assert not is_unsent(remote)


def test_tls_is_found_below_an_httpx_connect_error() -> None:
    try:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as tls:
            raise httpx.ConnectError("handshake", request=_HTTPX_REQUEST) from tls
    except httpx.ConnectError as exc:
        assert isinstance(mapped(exc), TLSFailed)


def test_is_unsent_reads_the_library_cause() -> None:
    """Exactly once: only a request that surely never left may be sent again
    (docs/exactly-once.md)."""
    assert is_unsent(mapped(refused_connect()))
    assert is_unsent(mapped(requests.exceptions.ConnectTimeout()))
    assert is_unsent(TransientHTTPError(401, URL))
    assert not is_unsent(mapped(requests.exceptions.ReadTimeout()))
    assert not is_unsent(mapped(requests.ConnectionError("Connection reset by peer")))
    assert not is_unsent(mapped(requests.exceptions.ChunkedEncodingError()))
    assert not is_unsent(mapped(requests.exceptions.SSLError()))
    assert not is_unsent(TransientHTTPError(502, URL))
    assert not is_unsent(ConnectionFailed("no cause"))
    assert not is_unsent(requests.exceptions.ConnectTimeout())  # raw: never seen past the boundary


# -- a refused connection, for real (loopback) ----------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound once by the OS, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_refused(exc: BaseException, library: type[BaseException]) -> None:
    assert isinstance(exc, ConnectionFailed) and isinstance(exc, Unreachable), type(exc)
    assert isinstance(exc.__cause__, library), type(exc.__cause__)
    assert "127.0.0.1" in str(exc)


@pytest.mark.slow
def test_sync_boundary_turns_a_refused_connection_into_unreachable(closed_port) -> None:
    with requests.Session() as session, pytest.raises(Unreachable) as err:
        send(session, "GET", f"http://127.0.0.1:{closed_port}/x", timeout=5)
    assert_refused(err.value, requests.ConnectionError)
    assert is_unsent(err.value), "a refused connection never sent the request"


@pytest.mark.slow
def test_sync_adapters_turn_a_refused_connection_into_unreachable(closed_port) -> None:
    base = f"http://127.0.0.1:{closed_port}"
    portal = PortalClient(
        PortalSettings(base_url=base, client_id="a", client_secret="b", retry=ONCE)
    )
    ioffice = IOfficeClient(IOfficeSettings(base_url=base, token="t", retry=ONCE))
    national = NationalClient(
        NationalSettings(base_url=base, username="u", password="p", retry=ONCE)
    )
    crl = IOfficeClient(IOfficeSettings(base_url=base, token="t", retry=ONCE, crl_url=base + "/c"))
    try:
        for call in (
            portal.log_in,  # the OIDC token
            lambda: portal.get_dossier("d1"),
            ioffice.pending_doc_ids,
            national.log_in,
        ):
            with pytest.raises(Unreachable) as err:
                call()
            assert_refused(err.value, requests.ConnectionError)
        with pytest.raises(Unreachable) as err:  # the CRL: RevocationUnavailable, same kind
            crl.crls()
        assert isinstance(err.value.__cause__, ConnectionFailed)
    finally:
        for client in (portal, ioffice, national, crl):
            client.close()


@pytest.mark.slow
def test_async_boundary_turns_a_refused_connection_into_unreachable(closed_port) -> None:
    async def poll() -> None:
        async with IOfficeAsyncClient(
            IOfficeSettings(base_url=f"http://127.0.0.1:{closed_port}", token="t")
        ) as ioffice:
            await ioffice.has_pending()

    async def raw() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            await asend(client, "GET", f"http://127.0.0.1:{closed_port}/x")

    for run in (poll, raw):
        with pytest.raises(Unreachable) as err:
            asyncio.run(run())
        assert_refused(err.value, httpx.TransportError)


# -- nothing outside the adapters knows the HTTP libraries' exceptions ---------------------------

LIBRARIES = ("requests", "httpx", "urllib3")
# An exception type of an HTTP library, however it is spelled.
LIBRARY_EXCEPTION = re.compile(
    r"\b(requests\.(exceptions\b|RequestException|ConnectionError|Timeout|ConnectTimeout"
    r"|ReadTimeout|HTTPError|TooManyRedirects|JSONDecodeError|SSLError)"
    r"|httpx\.(HTTPError|TransportError|RequestError|HTTPStatusError|TimeoutException"
    r"|ConnectError|ConnectTimeout|ReadTimeout|NetworkError|ProtocolError|RemoteProtocolError"
    r"|InvalidURL|DecodingError)"
    r"|urllib3\.exceptions\b)"
)


def product_files() -> list[Path]:
    return [
        path
        for path in [
            *PRODUCT.rglob("*.py"),
            *(ROOT / "dags").rglob("*.py"),
            *(ROOT / "plugins").rglob("*.py"),
        ]
        if ADAPTERS not in path.parents
    ]


def library_leaks(path: Path) -> list[str]:
    """Where ``path`` names an HTTP library's exception type or imports an HTTP library."""
    text = path.read_text(encoding="utf-8")
    leaks = [
        f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for m in LIBRARY_EXCEPTION.finditer(text)
    ]
    for node in ast.walk(ast.parse(text)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        leaks += [
            f"{path.name}:{node.lineno}: import {name}"
            for name in names
            if name.split(".")[0] in LIBRARIES
        ]
    return leaks


def test_no_module_outside_the_adapters_knows_the_http_libraries() -> None:
    files = product_files()
    assert any(p.name == "hooks.py" for p in files) and any(p.name == "app.py" for p in files)
    assert [leak for path in files for leak in library_leaks(path)] == []


def test_the_scan_sees_a_leak(tmp_path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text(
        "import httpx\nfrom requests.exceptions import Timeout\n"
        "try:\n    pass\nexcept (httpx.TransportError, requests.RequestException):\n    pass\n",
        encoding="utf-8",
    )
    leaks = library_leaks(leaky)
    assert len(leaks) == 5, leaks  # two exception types, the module path, two imports
    assert library_leaks(Path(errors.__file__)) == []  # the kinds import no HTTP library
