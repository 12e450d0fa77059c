"""Pure calculations of the programme: points of an event, FIFO allocation, expiry dates, tiers."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from branchdesk.loyalty.config import Tier


@dataclass(frozen=True)
class RuleTerms:
    unit_minor: int  # 0: points per event
    points: int
    multiplier_bp: int


def to_base_minor(amount_minor: int, currency: str, fx_ppm: dict[str, int]) -> int:
    """|amount| in base-currency minor units, rounded down (integers only)."""
    return abs(amount_minor) * fx_ppm[currency] // 1_000_000


def points_for(terms: RuleTerms, base_minor: int) -> int:
    """points per whole unit (or per event), times the multiplier, rounded down."""
    units = 1 if terms.unit_minor == 0 else base_minor // terms.unit_minor
    return units * terms.points * terms.multiplier_bp // 10_000


def plus_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Lot:
    id: object
    remaining: int


def allocate_fifo(lots: Sequence[Lot], points: int) -> list[tuple[object, int]]:
    """Take ``points`` from ``lots`` (already oldest first); raises ValueError when short."""
    taken: list[tuple[object, int]] = []
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot.id, take))
            left -= take
    if left:
        raise ValueError(f"{left} points short")
    return taken


def tier_for(window_points: int, tiers: Iterable[Tier]) -> Tier:
    """The highest tier whose threshold the points reach (tiers listed highest first)."""
    ordered = sorted(tiers, key=lambda t: -t.min_points)
    return next((t for t in ordered if window_points >= t.min_points), ordered[-1])


def next_tier(window_points: int, tiers: Iterable[Tier]) -> tuple[Tier | None, int]:
    """The next tier up and the points still needed for it (None, 0 at the top)."""
    above = sorted((t for t in tiers if t.min_points > window_points), key=lambda t: t.min_points)
    if not above:
        return None, 0
    return above[0], above[0].min_points - window_points
