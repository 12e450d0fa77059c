"""KPI figures on a constructed day: every number below is worked out by hand from helpers.py.

Waits (s): 60 120 300 600 900 1200 1800 2400 3000 3600 -> p50 = 5th = 900, p90 = 9th = 3000;
within the 15-minute target: 5 of 10 called. 12 tickets: 1 cancelled before its call, 1 no-show.
Complaints: 3 received -> 3 / 12 x 1000 = 250 per 1,000; 2 answered, 1 by the deadline.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from branchdesk.quality import kpi
from branchdesk.quality.kpi import ALL, Level, Period
from tests.factories import NOW, make_ticket
from tests.quality.helpers import DAY, build_day


def test_branch_figures_are_exact(db: Session) -> None:
    world = build_day(db)
    figures = kpi.combined(
        db, branch_ids=[world.branch.id], from_on=DAY, to_on=DAY, level=Level.branch,
        period=Period.all, now=NOW + timedelta(days=1),
    )  # fmt: skip
    f = figures[(str(world.branch.id), ALL)]
    assert (f.tickets, f.called, f.completed) == (12, 10, 9)
    assert (f.wait_p50_seconds, f.wait_p90_seconds) == (900, 3000)
    assert (f.within_target, f.within_target_share) == (5, 0.5)
    assert (f.abandoned, f.abandonment_rate) == (1, 0.0833)
    assert (f.no_show, f.no_show_rate) == (1, 0.0833)
    assert (f.served, f.service_average_seconds, f.service_p50_seconds) == (9, 500.0, 500)
    assert (f.complaints, f.complaint_rate_per_1000) == (3, 250.0)
    assert (f.answered, f.answered_in_time, f.sla_compliance, f.open_past_due) == (2, 1, 0.5, 1)
    assert set(figures) == {(str(world.branch.id), ALL)}


def test_teller_and_day_buckets(db: Session) -> None:
    world = build_day(db)
    make_ticket(db, world.branch, world.service, business_on=DAY + timedelta(days=1))
    by_teller = kpi.ticket_figures(
        db, branch_ids=[world.branch.id], from_on=DAY, to_on=DAY, level=Level.teller,
        period=Period.all,
    )  # fmt: skip
    served = by_teller[(str(world.teller.id), ALL)]
    assert (served.tickets, served.completed, served.wait_p50_seconds) == (9, 9, 900)
    assert (served.wait_p90_seconds, served.service_p50_seconds) == (
        3000,
        500,
    )  # ceil(0.9 x 9) = 9th
    nobody = by_teller[("", ALL)]
    assert (nobody.tickets, nobody.no_show, nobody.abandoned) == (3, 1, 1)
    by_day = kpi.ticket_figures(
        db, branch_ids=[world.branch.id], from_on=DAY, to_on=DAY + timedelta(days=1),
        level=Level.bank, period=Period.day,
    )  # fmt: skip
    assert {k: v.tickets for k, v in by_day.items()} == {
        (ALL, DAY.isoformat()): 12,
        (ALL, (DAY + timedelta(days=1)).isoformat()): 1,
    }
    by_week = kpi.ticket_figures(
        db, branch_ids=[world.branch.id, world.other.id], from_on=DAY,
        to_on=DAY + timedelta(days=7), level=Level.bank, period=Period.week,
    )  # fmt: skip
    assert {k: v.tickets for k, v in by_week.items()} == {(ALL, DAY.isoformat()): 14}


def test_open_case_not_yet_due_is_not_past_due(db: Session) -> None:
    world = build_day(db)
    figures = kpi.complaint_figures(
        db, branch_ids=[world.branch.id], from_on=DAY, to_on=DAY, level=Level.bank,
        period=Period.all, now=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert figures[(ALL, ALL)].open_past_due == 0
    assert figures[(ALL, ALL)].complaints == 3
