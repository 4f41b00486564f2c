"""Seeded, per-endpoint fault injection for the stand-ins.

Real government systems time out, reset connections, expire tokens, deliver twice
and send malformed data. The pipeline must survive all of it, so the stand-ins can
produce every one of those failures on demand and reproducibly (seeded).

Transport-level kinds (``latency``, ``5xx``, ``timeout``, ``reset``,
``expired_token``, ``lost_answer``) are applied by :class:`FaultMiddleware`; all but
``lost_answer`` fail the request before the system acts on it, ``lost_answer`` after:
the request is carried out, then the connection drops before the answer (an outcome the
client cannot know). Content-level kinds
(``duplicate``, ``malformed``, ``bad_result``) are asked for by the endpoints via
:meth:`FaultInjector.pick`, keyed by a stable id so the same item stays bad while
the fault is on (an operator can then replay it once the fault is off).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import threading
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

FaultKind = Literal[
    "latency",
    "5xx",
    "timeout",
    "reset",
    "expired_token",
    "lost_answer",
    "duplicate",
    "malformed",
    "bad_result",
    "bad_page",
    "bad_package",
]
TRANSPORT_KINDS = ("latency", "5xx", "timeout", "reset", "expired_token", "lost_answer")
# Each variant's name is the reason code lienthong must quarantine the item with.
MALFORMED_VARIANTS = (
    "missing_field",
    "invalid_field",
    "broken_date",
    "unknown_procedure",
    "wrong_type",
    "unknown_status",
    "future_date",
    "due_before_received",
    "bad_dossier_code",
    "unknown_agency",
    "too_long",
    "control_characters",
    "markup_in_text",
)
# Only when named: the dossier must have been seen before with its real code to be recognised.
MALFORMED_NAMED_ONLY = ("code_changed",)
BAD_RESULT_VARIANTS = (
    "unsigned",
    "tampered",
    "untrusted",
    "not_pdf",
    "oversized",
    "expired_certificate",
    "revoked_certificate",
    "modified_after_signing",
    "encrypted",
    "wrong_signer",
)
# A search page as a broken proxy or server may serve it (transient: refused, retried, never
# quarantined).
BAD_PAGE_VARIANTS = ("html_200", "truncated_json", "skip", "repeat")
# An iOffice result package whose envelope is broken (the file inside may be fine).
BAD_PACKAGE_VARIANTS = (
    "unknown_outcome",
    "code_mismatch",
    "invalid_base64",
    "no_file",
    "many_files",
    "unsafe_file_name",
    "wrong_extension",
    "empty_file",
)
# Only when named (each is expensive to serve, and refused by size or depth, not by content): a
# package of ``size_mb`` MB, streamed; a package whose JSON nests 50,000 deep.
BAD_PACKAGE_NAMED_ONLY = ("oversized_package", "too_deep")
# Only when named: a search page nested 50,000 deep; one of ``size_mb`` MB, streamed.
BAD_PAGE_NAMED_ONLY = ("too_deep", "oversized")


class FaultRule(BaseModel):
    """One fault: which endpoint (path prefix, ``*`` = all), what, how often."""

    endpoint: str = "*"
    kind: FaultKind
    rate: float = Field(1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0)
    hold_seconds: float = Field(30.0, ge=0.0, description="how long a 'timeout' holds the request")
    status: int = Field(503, ge=500, le=599, description="status code for '5xx'")
    size_mb: int = Field(
        300, ge=1, description="MB streamed: bad_package 'oversized_package', bad_page 'oversized'"
    )
    variant: str | None = Field(
        None,
        description="malformed: one of MALFORMED_VARIANTS (+ code_changed); bad_result: "
        "BAD_RESULT_VARIANTS; "
        "bad_page: BAD_PAGE_VARIANTS (+ BAD_PAGE_NAMED_ONLY); bad_package: BAD_PACKAGE_VARIANTS "
        "(+ BAD_PACKAGE_NAMED_ONLY); None = any, chosen by key",
    )

    def matches(self, path: str) -> bool:
        return self.endpoint == "*" or path.startswith(self.endpoint)


class FaultConfig(BaseModel):
    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)


class FaultInjector:
    """Decides, reproducibly, whether a fault fires; counts what fired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random(0)
        self.fired: Counter[str] = Counter()
        self.requests = 0
        # Content faults actually served, by kind: item key -> variant. Checks outside the
        # process (the cluster test) need to know which items were damaged, not just how many.
        self.served: dict[str, dict[str, str]] = {}

    def count_request(self) -> None:
        """Requests to the system's API (not the control surface): a test can tell who called."""
        with self._lock:
            self.requests += 1

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def _roll(self, rule: FaultRule, key: str | None) -> bool:
        if rule.rate >= 1.0:
            return True
        if rule.rate <= 0.0:
            return False
        if key is not None:
            salt = f"{self.config.seed}:{rule.kind}:{rule.endpoint}:{rule.variant}"
            digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
            return int.from_bytes(digest[:8], "big") / 2**64 < rule.rate
        with self._lock:
            return self._rng.random() < rule.rate

    def pick(self, path: str, kind: str, key: str | None = None) -> FaultRule | None:
        """The first matching rule of ``kind`` that fires for this request/item, if any."""
        for rule in self.config.rules:
            if rule.kind == kind and rule.matches(path) and self._roll(rule, key):
                self.fired[f"{kind}:{path}"] += 1
                self.fired[kind] += 1
                return rule
        return None

    def variant(self, rule: FaultRule, choices: tuple[str, ...], key: str) -> str:
        """The rule's variant, or one chosen stably from ``choices`` by ``key``; remembered as
        served."""
        if rule.variant:
            chosen = rule.variant
        else:
            digest = hashlib.sha256(f"{self.config.seed}:variant:{key}".encode()).digest()
            chosen = choices[digest[0] % len(choices)]
        with self._lock:
            self.served.setdefault(rule.kind, {})[key] = chosen
        return chosen


def _not_injected(record: logging.LogRecord) -> bool:
    """Keep the server log readable: an injected reset is expected, not an error."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (isinstance(exc, ConnectionResetError) and str(exc) == INJECTED_RESET)


INJECTED_RESET = "injected connection reset"
logging.getLogger("uvicorn.error").addFilter(_not_injected)


class FaultMiddleware:
    """ASGI middleware applying transport-level faults to non-admin paths."""

    def __init__(self, app, injector: FaultInjector, token_paths: tuple[str, ...] = ()):
        self.app = app
        self.injector = injector
        self.token_paths = token_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/_admin"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        inj = self.injector
        inj.count_request()
        if rule := inj.pick(path, "latency"):
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule := inj.pick(path, "timeout"):
            await asyncio.sleep(rule.hold_seconds)
        if rule := inj.pick(path, "5xx"):
            await _send_json(send, rule.status, b'{"error":"injected server error"}')
            return
        if not any(path.startswith(p) for p in self.token_paths) and inj.pick(
            path, "expired_token"
        ):
            await _send_json(
                send,
                401,
                b'{"error":"invalid_token","error_description":"Token is not active"}',
                extra=[(b"www-authenticate", b'Bearer error="invalid_token"')],
            )
            return
        if inj.pick(path, "reset"):
            # Announce a body, then drop the connection mid-response: the client
            # sees the connection broken, as with a reset by a proxy.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
            raise ConnectionResetError(INJECTED_RESET)
        if inj.pick(path, "lost_answer"):

            async def swallow(message):  # the system acts; its answer never leaves
                return None

            await self.app(scope, receive, swallow)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
            raise ConnectionResetError(INJECTED_RESET)
        await self.app(scope, receive, send)


async def _send_json(send, status: int, body: bytes, extra: list | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
