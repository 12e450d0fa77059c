"""Recommendation reasons as codes with parameters, and the one place that words them.

The model (:func:`.model.reason_parts`) decides *why* (a list of parts, each a ``code`` and its
parameters, JSON-ready); :func:`reason_text` turns the parts into one sentence in a language.
The English msgids below are the wording; ``gettext`` translates them (the customer 360 passes
the crm catalog of the viewer's language, ``recommend batch`` passes none and writes English).

Codes: ``segment_lift`` (age band, asset band, product, lift), ``after_holding`` (held
product), ``popular`` (product), ``fits`` (product), ``risk`` (risk level, tolerance),
``min_assets`` (minimum in base major units).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ReasonPart = dict[str, Any]
Gettext = Callable[[str], str]

AGE_LABELS = ("under 30", "30-39", "40-49", "50-59", "60 and over")
ASSET_LABELS = ("under 100k", "100k-1M", "1M-5M", "5M and over")

# msgid per code; ``{...}`` are filled after translation
WORDING = {
    "segment_lift": "customers aged {age} with assets {assets} open {product} {lift}x as often"
    " as average",
    "after_holding": "often opened by holders of {held}, which you hold",
    "popular": "{product} is one of the most opened products in the last 90 days",
    "fits": "{product} fits your profile and current holdings",
    "risk": "risk R{risk} within your C{tolerance} tolerance",
    "min_assets": "your assets meet the {amount} minimum",
}
SEPARATOR = "; "  # a msgid too: "；" in Chinese


def _identity(message: str) -> str:
    return message


def money(amount: float, gettext: Gettext = _identity) -> str:
    """Short amounts: 500k, 1M in English; 50萬 / 50万 (units of ten thousand) in Chinese."""
    wan = gettext("ten-thousand unit")
    if wan != "ten-thousand unit" and amount >= 10_000:
        return f"{amount / 10_000:g}{wan}"
    if amount >= 1_000_000:
        return f"{amount / 1_000_000:g}M"
    if amount >= 1_000:
        return f"{amount / 1_000:g}k"
    return f"{amount:g}"


def reason_text(
    parts: list[ReasonPart],
    gettext: Gettext = _identity,
    product_name: Callable[[str], str] | None = None,
) -> str:
    """One sentence from the parts; ``product_name`` maps a product code to its shown name
    (default: the name stored in the part)."""

    def name(part: ReasonPart, key: str) -> str:
        code = str(part[f"{key}_code"])
        return product_name(code) if product_name else str(part[key])

    pieces: list[str] = []
    for part in parts:
        code = part["code"]
        template = gettext(WORDING[code])
        if code == "segment_lift":
            piece = template.format(
                age=gettext(AGE_LABELS[int(part["age_band"])]),
                assets=gettext(ASSET_LABELS[int(part["asset_band"])]),
                product=name(part, "product"),
                lift=f"{float(part['lift']):.1f}",
            )
        elif code == "after_holding":
            piece = template.format(held=name(part, "held"))
        elif code in ("popular", "fits"):
            piece = template.format(product=name(part, "product"))
        elif code == "risk":
            piece = template.format(risk=part["risk"], tolerance=part["tolerance"])
        else:  # min_assets
            piece = template.format(amount=money(float(part["amount"]), gettext))
        pieces.append(piece)
    text = gettext(SEPARATOR).join(pieces)
    return text[:1].upper() + text[1:]
