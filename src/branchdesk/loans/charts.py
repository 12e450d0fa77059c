"""Plotly figure specs (plain dicts) for the loan portfolio page: exposure by segment, the latest
roll-rate matrix (heatmap) and vintage curves. plotly.js is the copy inside the installed plotly
package, served by ``/quality/plotly.js`` (one route for the whole app, never a CDN)."""

from __future__ import annotations

from typing import Any

from branchdesk.core import i18n
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.loans.rules import BUCKETS
from branchdesk.loans.schemas import PortfolioHistoryRead

_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "height": 340,
    "legend": {"orientation": "h", "y": -0.2},
    "font": {"family": "sans-serif", "size": 13},
}


def _figure(title: str, traces: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    return {"data": traces, "layout": {**_LAYOUT, "title": {"text": title}, **layout}}


def _major(minor: int, currency: str) -> float:
    return float(minor) / float(10 ** CURRENCY_EXPONENTS.get(currency, 2))


def figures(history: PortfolioHistoryRead) -> dict[str, dict[str, Any]]:
    _ = i18n.gettext
    out: dict[str, dict[str, Any]] = {}
    kinds = [r for r in history.exposure if r.dimension == "product_kind"]
    if kinds:
        labels = [f"{_(r.segment)} ({r.currency})" for r in kinds]
        out["exposure"] = _figure(
            _("Exposure by product"),
            [
                {"type": "bar", "name": _("Current"), "x": labels,
                 "y": [_major(r.outstanding_minor - r.overdue_minor, r.currency) for r in kinds]},
                {"type": "bar", "name": _("Past due"), "x": labels,
                 "y": [_major(r.overdue_minor, r.currency) for r in kinds]},
            ],
            barmode="stack",
        )  # fmt: skip
    if history.roll_rates:
        latest = history.roll_rates[-1]
        buckets = [str(b) for b in BUCKETS]
        z = [
            [None if latest.rates[a][b] is None else round(100 * (latest.rates[a][b] or 0), 1)
             for b in buckets]
            for a in buckets
        ]  # fmt: skip
        out["rolls"] = _figure(
            f"{_('Roll rates, share of loans (percent)')}: {latest.from_month} → {latest.to_month}",
            [
                {"type": "heatmap", "x": [_(b) for b in buckets], "y": [_(b) for b in buckets],
                 "z": z, "colorscale": "Reds", "zmin": 0, "zmax": 100, "texttemplate": "%{z}",
                 "hoverongaps": False},
            ],
            xaxis={"title": {"text": _("to bucket")}},
            yaxis={"title": {"text": _("from bucket")}, "autorange": "reversed"},
            margin={"l": 110, "r": 20, "t": 40, "b": 60},
        )  # fmt: skip
    if history.vintages:
        for key, attribute, title in (
            ("vintage30", "dpd30", _("Vintage curves: share ever 30+ days past due (%)")),
            ("vintage90", "dpd90", _("Vintage curves: share ever 90+ days past due (%)")),
        ):
            traces = []
            for v in history.vintages:
                points = getattr(v, attribute)
                traces.append(
                    {"type": "scatter", "mode": "lines+markers",
                     "name": f"{v.cohort} {v.currency}", "x": list(range(len(points))),
                     "y": [None if p is None else round(100 * p, 2) for p in points]}
                )  # fmt: skip
            out[key] = _figure(
                title, traces,
                xaxis={"title": {"text": _("months on book")}, "dtick": 1},
                yaxis={"rangemode": "tozero"},
                height=420,
                margin={"l": 50, "r": 20, "t": 40, "b": 140},
                legend={"orientation": "h", "y": -0.3},
            )  # fmt: skip
    return out
