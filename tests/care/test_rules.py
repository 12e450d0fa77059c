"""Occasions from the lunar calendar, birthdays, follow-up delays and assessment expiry."""

from __future__ import annotations

from datetime import date

import pytest

from branchdesk.care.rules import (
    FESTIVALS,
    birthday_in,
    expires_on,
    festival_on,
    festivals_on,
    follow_up_due,
    render_text,
)


@pytest.mark.parametrize(
    ("year", "code", "expected"),
    [
        (2026, "spring_festival", date(2026, 2, 17)),
        (2026, "dragon_boat", date(2026, 6, 19)),
        (2026, "mid_autumn", date(2026, 9, 25)),
        (2027, "spring_festival", date(2027, 2, 6)),
        (2027, "dragon_boat", date(2027, 6, 9)),
        (2027, "mid_autumn", date(2027, 9, 15)),
        (2026, "new_year", date(2026, 1, 1)),
        (2026, "christmas", date(2026, 12, 25)),
    ],
)
def test_festival_dates_come_from_the_lunar_calendar(year: int, code: str, expected: date) -> None:
    festival = next(f for f in FESTIVALS if f.code == code)
    assert festival_on(festival, year) == expected


def test_festivals_on_a_day() -> None:
    assert festivals_on(date(2026, 9, 25)) == ["mid_autumn"]
    assert festivals_on(date(2026, 9, 24)) == []
    assert festivals_on(date(2027, 1, 1)) == ["new_year"]


def test_a_leap_day_birthday_is_kept_on_the_28th_in_a_common_year() -> None:
    assert birthday_in(date(2000, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_in(date(2000, 2, 29), 2028) == date(2028, 2, 29)
    assert birthday_in(date(1980, 5, 17), 2026) == date(2026, 5, 17)


def test_follow_up_delays_and_expiry() -> None:
    assert follow_up_due("account_opened", date(2026, 3, 1)) == date(2026, 3, 8)
    assert follow_up_due("loan_disbursed", date(2026, 3, 1)) == date(2026, 3, 31)
    assert follow_up_due("big_deposit", date(2026, 3, 1)) == date(2026, 3, 4)
    # the recommender's rule: valid for 365 days after the assessment day
    assert expires_on(date(2026, 3, 1)) == date(2027, 3, 1)
    assert render_text("{name}，您好", name="陳大文") == "陳大文，您好"
