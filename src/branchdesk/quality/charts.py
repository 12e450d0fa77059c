"""Plotly figure specs (plain dicts) for the dashboard; plotly.js draws them as SVG in the page.

The JavaScript is the copy inside the installed ``plotly`` Python package, served by
``/quality/plotly.js`` with long cache headers (never a CDN).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from branchdesk.core import i18n
from branchdesk.quality.schemas import Dashboard, KpiRow

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 60},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "sans-serif", "size": 13},
}


@functools.cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]  # plotly has no stubs

    return str(get_plotlyjs())


def plotly_version() -> str:
    import plotly  # type: ignore[import-untyped]  # plotly has no stubs

    return str(plotly.__version__)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _figure(title: str, traces: list[dict[str, Any]], **axes: Any) -> dict[str, Any]:
    layout = dict(_LAYOUT, title={"text": title})
    layout.update(axes)
    return {"data": traces, "layout": layout}


def _line(name: str, x: Sequence[str], y: Sequence[float | None]) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": list(x), "y": list(y)}


def _bar(name: str, x: Sequence[str], y: Sequence[float | None]) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": list(x), "y": list(y)}


def figures(board: Dashboard) -> dict[str, dict[str, Any]]:
    _ = i18n.gettext
    series: list[KpiRow] = board.series
    x = [r.bucket for r in series]
    minutes = _("minutes")
    out = {
        "waits": _figure(
            _("Wait p50 / p90 (minutes)"),
            [
                _line("p50", x, [_minutes(r.wait_p50_seconds) for r in series]),
                _line("p90", x, [_minutes(r.wait_p90_seconds) for r in series]),
            ],
            yaxis={"title": {"text": minutes}, "rangemode": "tozero"},
        ),
        "within": _figure(
            _("Served within the target wait (%)"),
            [_line(_("Within target"), x, [_percent(r.within_target_share) for r in series])],
            yaxis={"range": [0, 100]},
        ),
        "abandonment": _figure(
            _("Abandonment and no-show (%)"),
            [
                _line(_("Abandonment"), x, [_percent(r.abandonment_rate) for r in series]),
                _line(_("No-show"), x, [_percent(r.no_show_rate) for r in series]),
            ],
            yaxis={"rangemode": "tozero"},
        ),
        "csat": _figure(
            "CSAT / NPS",
            [
                _line(_("CSAT average"), x, [r.csat_average for r in series]),
                {**_line("NPS", x, [r.nps for r in series]), "yaxis": "y2"},
            ],
            yaxis={"range": [1, 5], "title": {"text": "CSAT"}},
            yaxis2={"range": [-100, 100], "overlaying": "y", "side": "right", "title": "NPS"},
        ),
        "complaints": _figure(
            _("Complaints per 1,000 tickets"),
            [_bar(_("Complaint rate"), x, [r.complaint_rate_per_1000 for r in series])],
        ),
        "sla": _figure(
            _("Complaint SLA compliance (%)"),
            [_line(_("Answered by the deadline"), x, [_percent(r.sla_compliance) for r in series])],
            yaxis={"range": [0, 100]},
        ),
    }
    for breakdown in board.breakdowns:
        if breakdown.level.value == "service":
            labels = [r.label for r in breakdown.rows]
            average = [_minutes(r.service_average_seconds) for r in breakdown.rows]
            median = [_minutes(r.service_p50_seconds) for r in breakdown.rows]
            out["service"] = _figure(
                _("Service time per service (minutes)"),
                [_bar(_("Average"), labels, average), _bar("p50", labels, median)],
            )
    return out
