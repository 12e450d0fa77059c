"""Pure care rules: which occasions fall on a day, follow-up delays, task outcomes, expiry of a
risk assessment. No session, no I/O.

Lunar festivals come from ``lunardate`` (a pure-Python Chinese calendar, offline, 1900-2099):
Spring Festival is lunar 1/1, Dragon Boat 5/5, Mid-Autumn 8/15. Solar ones are fixed dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from lunardate import LunarDate

from branchdesk.analytics.recommend.rules import ASSESSMENT_VALID_DAYS


@dataclass(frozen=True, slots=True)
class Festival:
    code: str
    month: int
    day: int
    is_lunar: bool


FESTIVALS: tuple[Festival, ...] = (
    Festival("spring_festival", 1, 1, True),
    Festival("dragon_boat", 5, 5, True),
    Festival("mid_autumn", 8, 15, True),
    Festival("new_year", 1, 1, False),
    Festival("christmas", 12, 25, False),
)
OCCASIONS = ("birthday", *(f.code for f in FESTIVALS))


def festival_on(festival: Festival, year: int) -> date:
    """The Gregorian date of ``festival`` in Gregorian ``year`` (lunar ones in that year's
    lunar year, which for these three festivals always falls in the same Gregorian year)."""
    if not festival.is_lunar:
        return date(year, festival.month, festival.day)
    solar: date = LunarDate(year, festival.month, festival.day).to_solar_date()
    return solar


def festivals_on(day: date) -> list[str]:
    """Codes of the festivals falling on ``day``."""
    return [f.code for f in FESTIVALS if festival_on(f, day.year) == day]


def birthday_in(birth_on: date, year: int) -> date:
    """The birthday in ``year`` (29 February is kept on the 28th in a common year)."""
    try:
        return birth_on.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def occasion_key(occasion: str, on: date) -> str:
    return f"{occasion}:{on.year}"


# --- follow-up visits (定期回訪) ----------------------------------------------------------------

# event -> days after it that the relationship manager calls or visits
FOLLOW_UP_DAYS: dict[str, int] = {"account_opened": 7, "loan_disbursed": 30, "big_deposit": 3}
# how far back the follow-up job looks for events (it runs every few minutes; a worker that
# was down for a while still catches up, and the dedupe key keeps it to one task per event)
FOLLOW_UP_LOOKBACK_DAYS = 3
# a deposit of at least this much (minor units of its currency) is a "big deposit"
BIG_DEPOSIT_MINOR: dict[str, int] = {
    "CNY": 10_000_000,  # 100,000.00
    "HKD": 10_000_000,
    "TWD": 50_000_000,
    "USD": 1_500_000,
    "EUR": 1_500_000,
}
OUTCOMES = ("reached", "visited", "no_answer", "declined", "not_needed")


def follow_up_due(rule: str, happened_on: date) -> date:
    return happened_on + timedelta(days=FOLLOW_UP_DAYS[rule])


# --- risk tolerance ------------------------------------------------------------------------

TOLERANCES = ("C1", "C2", "C3", "C4", "C5")
TOLERANCE_PATTERN = re.compile(r"^C[1-5]$")


def expires_on(assessed_on: date) -> date:
    """The last day an assessment made on ``assessed_on`` is valid: the recommender's rule
    (``ASSESSMENT_VALID_DAYS``), so suitability and the stored expiry never disagree."""
    return assessed_on + timedelta(days=ASSESSMENT_VALID_DAYS)


def render_text(text: str, *, name: str) -> str:
    """A campaign text with ``{name}`` filled in (no other placeholder is known)."""
    return text.replace("{name}", name)
