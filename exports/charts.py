"""Small inline SVG charts for pages that must read with no network and no script. Every text
that reaches a chart is escaped here."""

from __future__ import annotations

from html import escape

DISPLAY_WIDTH = 200


def benchmark_bar(
    value: float | None,
    lower: float | None,
    median: float | None,
    upper: float | None,
    top: float,
    label: str,
) -> str:
    """The sector's middle half as a band, its median as a line, the body as a dot; drawn on a
    320-wide grid and shown at `DISPLAY_WIDTH`, so that the table it sits in stays narrow."""
    width, height, pad = 320, 34, 10

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * (v / top if top else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{DISPLAY_WIDTH}" height="{DISPLAY_WIDTH * height // width}" '
        f'role="img" aria-label="{escape(label)}">',
        f'<line x1="{pad}" y1="17" x2="{width - pad}" y2="17" stroke="#b1b4b6"/>',
    ]
    if lower is not None and upper is not None:
        parts.append(
            f'<rect x="{x(lower):.1f}" y="9" width="{max(1.0, x(upper) - x(lower)):.1f}" '
            'height="16" fill="#c8d9ef"/>'
        )
    if median is not None:
        parts.append(
            f'<line x1="{x(median):.1f}" y1="6" x2="{x(median):.1f}" y2="28" '
            'stroke="#1d70b8" stroke-width="2"/>'
        )
    if value is not None:
        parts.append(f'<circle cx="{x(value):.1f}" cy="17" r="6" fill="#d4351c"/>')
    parts.append("</svg>")
    return "".join(parts)


def trend_line(points: list[tuple[str, float | None]], label: str, percent: bool) -> str:
    """A monthly series as a line, first and last months labelled."""
    width, height, pad = 420, 140, 30
    values = [v for _, v in points if v is not None]
    if not values:
        return ""
    top = max(max(values), 1e-9) if not percent else 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def y(v: float) -> float:
        return height - pad - (height - 2 * pad) * v / top

    coordinates = " ".join(
        f"{pad + i * step:.1f},{y(v):.1f}" for i, (_, v) in enumerate(points) if v is not None
    )
    top_label = "100%" if percent else f"{top:,.0f}"
    first, last = escape(points[0][0]), escape(points[-1][0])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#b1b4b6"/>'
        f'<text x="2" y="{pad}" font-size="10">{top_label}</text>'
        f'<text x="2" y="{height - pad}" font-size="10">0</text>'
        f'<polyline points="{coordinates}" fill="none" stroke="#1d70b8" stroke-width="2"/>'
        f'<text x="{pad}" y="{height - 8}" font-size="10">{first}</text>'
        f'<text x="{width - pad}" y="{height - 8}" font-size="10" text-anchor="end">'
        f"{last}</text></svg>"
    )
