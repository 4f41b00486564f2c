"""Bad variants of an issued result file, for the ``bad_result`` fault.

Each one is a way a real result can reach the link broken: never signed, altered
after signing (bytes flipped, or a later revision that changes the page), signed by
someone we do not trust or with an expired or revoked certificate or by the wrong
person, encrypted, replaced by a proxy's error page, or too large to accept. The
pipeline must refuse every one of them. Variants that need the CA are built in
:mod:`lienthong_standins.ioffice.app`; the byte-level ones live here.
"""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

OVERSIZED_BYTES = 12 * 1024 * 1024 + 64 * 1024  # just over a 12 MiB limit

NOT_PDF = (
    '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>502 Bad Gateway</title>'
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


def modify_after_signing(signed_pdf: bytes) -> bytes:
    """The signed PDF with a later incremental revision that changes what the page shows.

    A red "ĐÃ SỬA" stamp (drawn as Helvetica "DA SUA") is added over the page in a new revision,
    as an editor that saves incrementally would: the signature still verifies for the revision
    it signed, so only a check for later revisions (or pyHanko's difference analysis) stops it.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {
            generic.NameObject("/Font"): generic.DictionaryObject(
                {generic.NameObject("/LtSua"): writer.add_object(font)}
            )
        }
    )
    stamp = generic.StreamObject(
        stream_data=(
            b"q 0.85 0 0 rg 350 760 170 40 re f BT /LtSua 20 Tf 1 1 1 rg 380 773 Td (DA SUA) Tj ET "
            b"Q"
        )
    )
    writer.add_stream_to_page(0, writer.add_object(stamp), resources=resources)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
