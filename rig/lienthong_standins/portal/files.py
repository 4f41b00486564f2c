"""Filed documents of generated dossiers: tiny valid PDFs rebuilt on demand from a recipe,
so a year of dossiers costs a few bytes each in the store instead of real scans."""

from __future__ import annotations

import hashlib
import json

from lienthong_standins.district import ascii_fold


def _escape(text: str) -> str:
    return ascii_fold(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def form_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF showing ``title`` and ``lines`` (ASCII-folded: base-14 fonts only)."""
    text = ["BT /F1 14 Tf 50 780 Td (" + _escape(title) + ") Tj ET"]
    for i, line in enumerate(lines):
        text.append(f"BT /F1 10 Tf 50 {750 - 16 * i} Td (" + _escape(line) + ") Tj ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def recipe_bytes(recipe: str) -> bytes:
    data = json.loads(recipe)
    return form_pdf(data["title"], data["lines"])


def describe(data: bytes) -> tuple[int, str]:
    return len(data), hashlib.sha256(data).hexdigest()
