"""The one due-date function: calendar and business days, holidays, pauses, extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from branchdesk.complaints import rules
from branchdesk.complaints.rules import due_at, final_days, policy_book

# Monday 2 March 2026, 10:00 in Shanghai.
RECEIVED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SH = "Asia/Shanghai"


def cn_rule() -> rules.Rule:
    return policy_book().policy("CN").rule_for(channel="web", severity="normal")


def test_cn_final_answer_is_15_business_days() -> None:
    # Mar 3-6 (4), 9-13 (9), 16-20 (14), 23 (15): due at the end of Monday 23 March, local.
    assert due_at(RECEIVED, days=15, unit="business", timezone=SH) == datetime(
        2026, 3, 23, 16, 0, tzinfo=UTC
    )


def test_a_holiday_moves_a_business_deadline_by_one_day() -> None:
    assert due_at(
        RECEIVED, days=15, unit="business", timezone=SH, holidays=[date(2026, 3, 10)]
    ) == datetime(2026, 3, 24, 16, 0, tzinfo=UTC)
    # a holiday on a Saturday changes nothing
    assert due_at(
        RECEIVED, days=15, unit="business", timezone=SH, holidays=[date(2026, 3, 7)]
    ) == datetime(2026, 3, 23, 16, 0, tzinfo=UTC)


def test_cn_complex_case_gets_30_and_an_extension_at_most_60() -> None:
    rule = cn_rule()
    assert final_days(rule, is_complex=False, extended_days=None) == 15
    assert final_days(rule, is_complex=True, extended_days=None) == 30
    assert final_days(rule, is_complex=True, extended_days=45) == 45
    assert final_days(rule, is_complex=False, extended_days=90) == 60
    dues = rules.case_due_dates(
        rule, received_at=RECEIVED, timezone=SH, holidays=[], pauses=[], is_complex=True,
        extended_days=60, as_of=RECEIVED,
    )  # fmt: skip
    # 60 business days after Mon 2 March is Mon 25 May (12 full weeks)
    assert dues.final == datetime(2026, 5, 25, 16, 0, tzinfo=UTC)
    assert dues.acknowledge == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_uk_final_response_within_8_weeks_calendar_across_dst() -> None:
    policy = policy_book().policy("UK")
    rule = policy.rule_for(channel="email", severity="high")
    assert (rule.final.days, rule.final.unit) == (56, "calendar")
    received = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    due = due_at(received, days=56, unit="calendar", timezone="Europe/London",
                 holidays=[date(2026, 4, 3)])  # fmt: skip
    # end of Monday 27 April in London (BST) = 23:00 UTC; holidays do not count for calendar days
    assert due == datetime(2026, 4, 27, 23, 0, tzinfo=UTC)


def test_hk_final_reply_within_30_calendar_days() -> None:
    rule = policy_book().policy("HK").rule_for(channel="counter", severity="normal")
    due = due_at(RECEIVED, days=rule.final.days, unit=rule.final.unit, timezone="Asia/Hong_Kong")
    assert due == datetime(2026, 4, 1, 16, 0, tzinfo=UTC)


def test_waiting_on_the_customer_pauses_the_clock() -> None:
    tz = ZoneInfo(SH)
    # waited from Wednesday 4 March 10:00 to Monday 9 March 10:00: Wed, Thu, Fri do not count
    pause = (
        datetime(2026, 3, 4, 10, tzinfo=tz).astimezone(UTC),
        datetime(2026, 3, 9, 10, tzinfo=tz).astimezone(UTC),
    )
    assert due_at(RECEIVED, days=15, unit="business", timezone=SH, pauses=[pause]) == datetime(
        2026, 3, 26, 16, 0, tzinfo=UTC
    )
    # an open pause counts up to as_of
    open_pause = (pause[0], None)
    assert due_at(
        RECEIVED, days=15, unit="business", timezone=SH, pauses=[open_pause], as_of=pause[1]
    ) == datetime(2026, 3, 26, 16, 0, tzinfo=UTC)
    # a pause begun and ended on the same day costs nothing
    same_day = (pause[0], pause[0] + timedelta(hours=3))
    assert due_at(RECEIVED, days=15, unit="business", timezone=SH, pauses=[same_day]) == datetime(
        2026, 3, 23, 16, 0, tzinfo=UTC
    )


def test_most_specific_rule_wins() -> None:
    cn = policy_book().policy("CN")
    assert cn.rule_for(channel="web", severity="critical").acknowledge.unit == "calendar"
    assert cn.rule_for(channel="web", severity="low").acknowledge.unit == "business"


def test_jurisdiction_from_timezone() -> None:
    book = policy_book()
    assert book.jurisdiction_for_timezone("Asia/Hong_Kong") == "HK"
    assert book.jurisdiction_for_timezone("Europe/London") == "UK"
    assert book.jurisdiction_for_timezone("Asia/Shanghai") == "CN"
    assert book.policy("CN").version == book.version == 1


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        due_at(RECEIVED, days=-1, unit="calendar", timezone=SH)


days_in_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


@settings(max_examples=60, deadline=None)
@given(
    offset_hours=st.integers(min_value=0, max_value=24 * 300),
    days=st.integers(min_value=1, max_value=60),
    unit=st.sampled_from(["calendar", "business"]),
    holidays=st.lists(days_in_2026, max_size=15),
    extra_holiday=days_in_2026,
    pause_start=st.integers(min_value=0, max_value=24 * 20),
    pause_hours=st.integers(min_value=0, max_value=24 * 10),
)
def test_due_date_invariants(
    offset_hours: int,
    days: int,
    unit: rules.Unit,
    holidays: list[date],
    extra_holiday: date,
    pause_start: int,
    pause_hours: int,
) -> None:
    received = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=offset_hours)
    base = due_at(received, days=days, unit=unit, timezone=SH, holidays=holidays)
    tz = ZoneInfo(SH)
    local_due = (base - timedelta(seconds=1)).astimezone(tz).date()
    # the deadline is after receipt and at least `days` local days later
    assert local_due >= received.astimezone(tz).date() + timedelta(days=days)
    if unit == "business":
        assert local_due.weekday() < 5
        assert local_due not in holidays
    # one more day never moves it earlier; one more holiday or a pause never moves it earlier
    assert due_at(received, days=days + 1, unit=unit, timezone=SH, holidays=holidays) > base
    more = due_at(received, days=days, unit=unit, timezone=SH, holidays=[*holidays, extra_holiday])
    assert more >= base
    start = received + timedelta(hours=pause_start)
    paused = due_at(received, days=days, unit=unit, timezone=SH, holidays=holidays,
                    pauses=[(start, start + timedelta(hours=pause_hours))])  # fmt: skip
    assert paused >= base
    # and the deadline is always a local midnight
    assert base.astimezone(tz).time().hour == 0
