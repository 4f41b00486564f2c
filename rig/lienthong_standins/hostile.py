"""Answers built to cost their reader memory or recursion, for the bounds tests: a JSON string of
hundreds of MB streamed from a generator (the stand-in never holds it), and JSON nested far deeper
than any API's.

The stand-ins render the answer they would send with :data:`MARKER` (a JSON string) where the
hostile part goes, then swap it in: the rest of the answer stays genuine.
"""

from __future__ import annotations

from collections.abc import Iterator

MARKER = "@@lienthong-hostile@@"
DEPTH = 50_000  # nested arrays in a ``too_deep`` answer
MB = 1024 * 1024
_BLOCK = b"A" * MB  # valid base64 (zero bytes), so a file body stays well-formed to its end


def _split(rendered: bytes) -> tuple[bytes, bytes]:
    head, found, tail = rendered.partition(f'"{MARKER}"'.encode())
    if not found:
        raise ValueError("the rendered answer carries no marker")
    return head, tail


def padding(size_bytes: int) -> Iterator[bytes]:
    """``size_bytes`` of base64 text, 1 MiB at a time."""
    left = size_bytes
    while left > 0:
        yield _BLOCK[: min(left, MB)]
        left -= MB


def huge_string(rendered: bytes, size_bytes: int) -> Iterator[bytes]:
    """The answer with the marker replaced by a string of ``size_bytes`` characters, streamed."""
    head, tail = _split(rendered)
    yield head + b'"'
    yield from padding(size_bytes)
    yield b'"' + tail


def deep(rendered: bytes, depth: int = DEPTH) -> bytes:
    """The answer with the marker replaced by ``depth`` nested arrays (``[[[…]]]``)."""
    head, tail = _split(rendered)
    return head + b"[" * depth + b"]" * depth + tail
