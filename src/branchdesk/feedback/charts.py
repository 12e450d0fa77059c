"""Server-rendered inline SVG charts (no JavaScript, no CDN): bars and lines.

Labels are escaped here, so templates may insert the result with ``|safe``.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape

_WIDTH = 640
_BAR = 22
_GAP = 8
_LABEL = 190


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    low: float = 0.0,
    high: float | None = None,
    unit: str = "",
) -> str:
    """Horizontal bars, one per (label, value); a None value is drawn as "–". ``low`` may be
    negative (NPS): the zero line is then inside the chart."""
    values = [v for _, v in items if v is not None]
    top = high if high is not None else max(values, default=1.0) or 1.0
    span = (top - low) or 1.0
    plot = _WIDTH - _LABEL - 60
    height = max(1, len(items)) * (_BAR + _GAP) + 30
    zero_x = _LABEL + plot * (0 - low) / span if low < 0 else _LABEL
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{zero_x:.1f}" y1="4" x2="{zero_x:.1f}" y2="{height - 24}" class="axis"/>',
    ]
    for index, (label, value) in enumerate(items):
        y = 6 + index * (_BAR + _GAP)
        parts.append(
            f'<text x="{_LABEL - 6}" y="{y + _BAR * 0.7:.1f}" text-anchor="end">'
            f"{escape(label[:28])}</text>"
        )
        if value is None:
            parts.append(f'<text x="{zero_x + 4:.1f}" y="{y + _BAR * 0.7:.1f}">–</text>')
            continue
        x_end = _LABEL + plot * (value - low) / span
        x0, x1 = sorted((zero_x, x_end))
        css = "bar neg" if value < 0 else "bar"
        parts.append(
            f'<rect class="{css}" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{_BAR}"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text x="{x1 + 4:.1f}" y="{y + _BAR * 0.7:.1f}">{_fmt(value)}{escape(unit)}</text>'
        )
    parts.append(
        f'<text x="{_LABEL}" y="{height - 8}" class="scale">{_fmt(low)}</text>'
        f'<text x="{_LABEL + plot}" y="{height - 8}" text-anchor="end" class="scale">'
        f"{_fmt(top)}</text></svg>"
    )
    return "".join(parts)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    low: float,
    high: float,
) -> str:
    """One polyline per series over the same x labels (days); gaps where a value is None."""
    height, left, right, top_pad, bottom = 240, 44, 16, 12, 40
    plot_w, plot_h = _WIDTH - left - right, height - top_pad - bottom
    span = (high - low) or 1.0
    count = max(len(labels), 1)

    def x_of(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top_pad + plot_h * (1 - (v - low) / span)

    parts = [
        f'<svg class="chart line" role="img" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
        f'y2="{top_pad + plot_h}"/>',
        f'<text class="scale" x="{left - 4}" y="{top_pad + 4}" text-anchor="end">'
        f"{_fmt(high)}</text>",
        f'<text class="scale" x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">'
        f"{_fmt(low)}</text>",
    ]
    if low < 0 < high:
        parts.append(
            f'<line class="zero" x1="{left}" y1="{y_of(0):.1f}" x2="{left + plot_w}" '
            f'y2="{y_of(0):.1f}"/>'
        )
    step = max(1, count // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == count - 1:
            anchor = "end" if i == count - 1 and count > 1 else "start" if i == 0 else "middle"
            parts.append(
                f'<text class="scale" x="{x_of(i):.1f}" y="{height - 20}" '
                f'text-anchor="{anchor}">{escape(label[-5:])}</text>'
            )
    for index, (name, values) in enumerate(series):
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, value in enumerate(values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x_of(i):.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle class="s{index}" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3">'
                f"<title>{escape(name)} {escape(labels[i])}: {_fmt(value)}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(f'<polyline class="s{index}" points="{" ".join(points)}"/>')
        parts.append(
            f'<text class="legend s{index}" x="{left + 8 + 160 * index}" y="{height - 4}">'
            f"■ {escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
