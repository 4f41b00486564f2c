"""Bad variants of an issued result file, for the ``bad_result`` fault.

Each one is a way a real result can reach the link broken: never signed, altered
after signing, signed by someone we do not trust, replaced by a proxy's error page,
or too large to accept. The pipeline must refuse every one of them.
"""

from __future__ import annotations

import re

OVERSIZED_BYTES = 12 * 1024 * 1024 + 64 * 1024  # just over a 12 MiB limit

NOT_PDF = (
    "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>502 Bad Gateway</title>"
    "</head>\n<body><h1>Lỗi hệ thống</h1><p>Không thể tải tệp đính kèm. Vui lòng thử lại sau.</p>"
    "<hr><address>nginx</address></body></html>\n"
).encode()


def tamper(signed_pdf: bytes) -> bytes:
    """Change one byte inside the first signed byte range (the document body).

    A letter of the producer string is flipped so the file still parses and only
    the signature check can tell.
    """
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", signed_pdf)
    if m is None:
        raise ValueError("not a signed PDF")
    first_end = int(m.group(1)) + int(m.group(2))
    i = signed_pdf.find(b"ReportLab")
    if not 0 <= i < first_end:
        i = first_end // 2
    out = bytearray(signed_pdf)
    out[i] ^= 0x20
    return bytes(out)


def oversized(signed_pdf: bytes) -> bytes:
    """The signed PDF followed by PDF comment lines up to just over 12 MiB.

    It repeats the last ``startxref`` and ``%%EOF`` so it still parses: only a size
    check (or the entire-file coverage check) stops it.
    """
    xref = re.findall(rb"startxref\s+(\d+)", signed_pdf)[-1]
    line = b"%" + b"0" * 1022 + b"\n"
    count = (OVERSIZED_BYTES - len(signed_pdf)) // len(line) + 1
    return signed_pdf + b"\n" + line * count + b"startxref\n" + xref + b"\n%%EOF\n"
