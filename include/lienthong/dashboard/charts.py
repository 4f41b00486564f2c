"""Server-side SVG bar charts: the machines are offline, so no JavaScript or CDN libraries.

Horizontal bars read well with long Vietnamese agency names and need no rotated labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

ROW_H = 22
LABEL_W = 300
BAR_W = 360
VALUE_W = 120


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Callable[[float], str],
    colour: str = "#1f6feb",
) -> str:
    """An accessible inline ``<svg>``: one row per label, the value printed at the bar's end."""
    width = LABEL_W + BAR_W + VALUE_W
    height = 28 + ROW_H * max(len(labels), 1)
    top = max(values, default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not labels:
        parts.append('<text x="0" y="44" class="chart-empty">Không có dữ liệu trong kỳ</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 28 + i * ROW_H
        w = max(BAR_W * (value / top), 1 if value else 0)
        short = label if len(label) <= 42 else label[:41] + "…"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        parts.append(
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
            f'fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 15}" class="chart-value">'
            f"{escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
