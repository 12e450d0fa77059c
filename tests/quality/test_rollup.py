"""The per-day roll-up gives the dashboard the same figures as the raw tickets.

Counts are exact; wait and service-time percentiles are the lower edge of the 15-second bucket
holding the exact nearest-rank value (so raw - rolled is 0..14 s). Four days at two branches:
the first three are closed at NOW (10:00 in Taipei on DAY) and held by the roll-up, DAY itself is
counted live and merged.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.db import Database
from branchdesk.core.ids import new_id
from branchdesk.core.jobs import jobs
from branchdesk.feedback import service as feedback
from branchdesk.feedback.models import SurveyResponse
from branchdesk.feedback.schemas import GroupBy
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.migrations import upgrade
from branchdesk.quality import kpi, rollup
from branchdesk.quality import service as quality
from branchdesk.quality.cli import quality_app
from branchdesk.quality.kpi import Level, Period
from branchdesk.quality.models import DailyFigures, RollupDay
from branchdesk.queue.models import Ticket
from tests.factories import (
    NOW,
    make_branch,
    make_counter,
    make_service_type,
    make_ticket,
    make_user,
    offer,
)
from tests.quality.helpers import make_case

DAY = date(2026, 3, 2)  # NOW's business day in Taipei: still open, so counted live
FIRST = DAY - timedelta(days=3)
COUNT_FIELDS = (
    "tickets", "called", "completed", "abandoned", "no_show", "within_target", "served",
    "service_seconds_sum",
)  # fmt: skip


@dataclass
class Bank:
    branches: list[Branch]
    ids: list[uuid.UUID]
    service: ServiceType


def _history(db: Session, *, per_day: int = 12) -> Bank:
    rng = random.Random(5)
    fast = make_service_type(db, target_max_wait_minutes=10)
    slow = make_service_type(db, target_max_wait_minutes=20)
    branches = [make_branch(db, region="North"), make_branch(db, region="South")]
    offer(db, branches[0], fast, slow)
    offer(db, branches[1], fast, slow)
    for branch in branches:
        desks = [
            (make_counter(db, branch, fast, slow), make_user(db, Role.teller, (branch,)))
            for _ in range(2)
        ]
        for day_index in range(4):
            business_on = FIRST + timedelta(days=day_index)
            opens = datetime.combine(business_on, time(1), tzinfo=UTC)
            for n in range(per_day):
                arrived = opens + timedelta(minutes=7 * n, seconds=rng.randrange(60))
                wait = rng.randrange(0, 2400)
                called = arrived + timedelta(seconds=wait)
                counter, teller = desks[n % 2]
                service = fast if n % 3 else slow
                fate = n % 6
                common = {
                    "business_on": business_on, "issued_at": arrived, "queued_at": arrived,
                    "checked_in_at": arrived,
                }  # fmt: skip
                if fate == 0:
                    make_ticket(db, branch, service, state="cancelled", **common)
                elif fate == 1:
                    make_ticket(
                        db, branch, service, state="no_show", called_at=called,
                        counter_id=counter.id, **common,
                    )  # fmt: skip
                else:
                    ticket = make_ticket(
                        db, branch, service, state="completed", called_at=called,
                        started_at=called, counter_id=counter.id, served_by_id=teller.id,
                        finished_at=called + timedelta(seconds=rng.randrange(60, 1200)),
                        **common,
                    )  # fmt: skip
                    if fate != 2:
                        _answer(db, ticket, branch, csat=rng.randrange(1, 6), nps=rng.randrange(11))
    return Bank(branches=branches, ids=[b.id for b in branches], service=fast)


def _answer(db: Session, ticket: Ticket, branch: Branch, *, csat: int, nps: int) -> None:
    db.add(
        SurveyResponse(
            id=new_id(),
            ticket_id=ticket.id,
            branch_id=branch.id,
            region=branch.region,
            service_type_id=ticket.service_type_id,
            counter_id=ticket.counter_id,
            teller_id=ticket.served_by_id,
            business_on=ticket.business_on,
            csat=csat,
            nps=nps,
            comment="",
            locale="en",
            is_detractor=nps <= 6 or csat <= 2,
            answered_at=ticket.finished_at + timedelta(minutes=5),
        )
    )
    db.flush()


def _admin(ids: list[uuid.UUID]) -> Principal:
    return Principal(
        user_id=uuid.UUID(int=0), username="t", display_name="t", role=Role.admin,
        branch_ids=frozenset(ids),
    )  # fmt: skip


def _assert_same(raw: kpi.Figures, rolled: kpi.Figures, where: object) -> None:
    for name in COUNT_FIELDS:
        assert getattr(rolled, name) == getattr(raw, name), (where, name)
    for name in ("wait_p50_seconds", "wait_p90_seconds", "service_p50_seconds"):
        exact, bucketed = getattr(raw, name), getattr(rolled, name)
        assert (exact is None) == (bucketed is None), (where, name)
        if exact is not None:
            assert 0 <= exact - bucketed < rollup.BUCKET_SECONDS, (where, name, exact, bucketed)


@pytest.mark.parametrize("level", list(Level))
def test_rolled_up_figures_equal_the_raw_ones(db: Session, level: Level) -> None:
    bank = _history(db)
    result = rollup.rollup(db, now=NOW, since=FIRST)
    assert (result.days_checked, result.days_recomputed) == (6, 6)  # 2 branches x 3 closed days
    held = db.execute(select(RollupDay.business_on).distinct().order_by(RollupDay.business_on))
    assert list(held.scalars()) == [FIRST, FIRST + timedelta(days=1), FIRST + timedelta(days=2)]
    by_day = rollup.Source(db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY)
    for period in Period:
        raw = kpi.ticket_figures(
            db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY, level=level, period=period
        )
        summed = rollup.Source(db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY, grain=period)
        for source in (summed, by_day):  # summed in SQL by the period, or by day then in numpy
            rolled = source.aggregate(level, period).figures
            assert set(rolled) == set(raw), period
            for key, figures in raw.items():
                _assert_same(figures, rolled[key], (period, key))
    groups = {Level.bank: 1, Level.region: 2, Level.branch: 2, Level.service: 2}
    # two tellers and two counters per branch, plus "none" (cancelled; no-shows have no teller)
    assert len(raw) == groups.get(level, 5)


@pytest.mark.parametrize(
    ("level", "group_by"),
    [
        (Level.region, GroupBy.region), (Level.branch, GroupBy.branch),
        (Level.service, GroupBy.service), (Level.teller, GroupBy.teller),
        (Level.counter, GroupBy.counter),
    ],
)  # fmt: skip
def test_survey_tallies_equal_the_feedback_summary(
    db: Session, level: Level, group_by: GroupBy
) -> None:
    bank = _history(db)
    rollup.rollup(db, now=NOW, since=FIRST)
    summary = feedback.summarize(
        db, actor=_admin(bank.ids), group_by=group_by, from_on=FIRST, to_on=DAY
    )
    tallies = rollup.Source(db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY).aggregate(
        level, Period.all
    ).tallies  # fmt: skip
    expected = {
        r.key: (r.completed, r.responses, r.csat_average, r.nps, r.promoters, r.detractors)
        for r in summary.rows
    }
    got = {
        key: (t.completed, t.responses, t.csat_average, t.nps, t.promoters, t.detractors)
        for (key, _), t in tallies.items()
        if t.completed or t.responses
    }
    assert got == expected
    assert sum(r.responses for r in summary.rows) == 2 * 4 * 6  # fates 3, 4, 5 of 12 a day


def test_dashboard_page_matches_the_raw_computation(db: Session) -> None:
    bank = _history(db)
    rollup.rollup(db, now=NOW, since=FIRST)
    board = quality.dashboard(
        db, actor=_admin(bank.ids), branch_code=None, from_on=FIRST, to_on=DAY,
        period=Period.day, now=NOW,
    )  # fmt: skip
    assert board.percentile_bucket_seconds == 15
    raw = kpi.combined(
        db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY, level=Level.bank, period=Period.day,
        now=NOW,
    )  # fmt: skip
    for row in board.series:
        exact = raw[(kpi.ALL, row.bucket)]
        assert (row.tickets, row.called, row.abandoned, row.no_show) == (
            exact.tickets, exact.called, exact.abandoned, exact.no_show,
        )  # fmt: skip
        assert row.wait_p90_seconds is not None
        assert exact.wait_p90_seconds is not None
        assert 0 <= exact.wait_p90_seconds - row.wait_p90_seconds < 15
    assert board.total.tickets == 2 * 4 * 12
    assert board.total.responses == 2 * 4 * 6
    assert [b.level for b in board.breakdowns] == [Level.region, Level.branch, Level.service]


@pytest.mark.parametrize("level", [Level.bank, Level.region, Level.branch])
def test_complaint_figures_match_the_raw_ones(db: Session, level: Level) -> None:
    bank = _history(db, per_day=2)
    for n, branch in enumerate(bank.branches * 3):
        received = datetime.combine(FIRST + timedelta(days=n % 4), time(3), tzinfo=UTC)
        resolved = None if n == 5 else received + timedelta(days=n % 3, hours=2)
        make_case(db, branch, received=received, resolved=resolved, due=received + timedelta(1))
    rollup.rollup(db, now=NOW, since=FIRST)
    for grain in Period:
        source = rollup.Source(db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY, grain=grain)
        periods = [grain, Period.all] + ([Period.week] if grain == Period.day else [])
        for period in periods:
            raw = kpi.combined(
                db, branch_ids=bank.ids, from_on=FIRST, to_on=DAY, level=level, period=period,
                now=NOW,
            )  # fmt: skip
            rolled = source.combined(level, period, NOW).figures
            cases = {
                k: (f.complaints, f.answered, f.answered_in_time, f.open_past_due)
                for k, f in raw.items()
            }
            assert {k: (f.complaints, f.answered, f.answered_in_time, f.open_past_due)
                    for k, f in rolled.items()} == cases, (grain, period)  # fmt: skip
    assert sum(c[0] for c in cases.values()) == 6


def test_rerun_is_a_no_op_and_a_late_answer_recounts_its_day(db: Session) -> None:
    bank = _history(db)
    rollup.rollup(db, now=NOW, since=FIRST)
    rows = db.execute(select(func.count()).select_from(DailyFigures)).scalar_one()
    again = rollup.rollup(db, now=NOW, since=FIRST)
    assert (again.days_checked, again.days_recomputed, again.rows_written) == (6, 0, 0)
    assert db.execute(select(func.count()).select_from(DailyFigures)).scalar_one() == rows

    branch = bank.branches[1]
    unanswered = db.execute(
        select(Ticket).where(
            Ticket.branch_id == branch.id, Ticket.business_on == FIRST,
            Ticket.state == "completed", Ticket.id.not_in(select(SurveyResponse.ticket_id)),
        ).limit(1)
    ).scalar_one()  # fmt: skip

    def responses() -> int:
        tally = rollup.Source(db, branch_ids=[branch.id], from_on=FIRST, to_on=FIRST).aggregate(
            Level.branch, Period.all
        ).tallies[(str(branch.id), kpi.ALL)]  # fmt: skip
        return tally.responses

    assert responses() == 6
    _answer(db, unanswered, branch, csat=1, nps=0)
    assert responses() == 6  # the day is held: the late answer waits for the next run
    late = rollup.rollup(db, now=NOW + timedelta(hours=1), since=FIRST)
    assert (late.days_checked, late.days_recomputed) == (6, 1)
    assert responses() == 7
    computed = db.execute(
        select(RollupDay.computed_at).where(
            RollupDay.branch_id == branch.id, RollupDay.business_on == FIRST
        )
    ).scalar_one()
    assert computed == NOW + timedelta(hours=1)


def test_the_job_is_registered_and_fills_history_then_rechecks_recent_days(db: Session) -> None:
    job = next(j for j in jobs() if j.name == "quality.rollup")
    assert job.every == timedelta(hours=1)
    bank = _history(db, per_day=3)
    old = make_ticket(
        db, bank.branches[0], bank.service, business_on=DAY - timedelta(days=100),
        state="cancelled",
    )  # fmt: skip
    result = job.run(db, NOW)
    assert isinstance(result, rollup.RollupResult)
    assert result.days_recomputed == result.days_checked == 2 * 100  # empty days are held too
    held = db.execute(
        select(func.count()).select_from(RollupDay).where(
            RollupDay.business_on == old.business_on
        )
    ).scalar_one()  # fmt: skip
    assert held == 2
    recheck = job.run(db, NOW + timedelta(hours=1))
    assert isinstance(recheck, rollup.RollupResult)
    assert (recheck.days_checked, recheck.days_recomputed) == (2 * rollup.LATE_DAYS, 0)


def test_cli_rollup_counts_closed_days_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/rollup.db"
    upgrade(url)
    database = Database(url)
    with database.unit_of_work() as db:
        branch = make_branch(db, region="")
        service = make_service_type(db)
        closed = datetime.now(UTC).astimezone(ZoneInfo(branch.timezone)).date() - timedelta(days=1)
        for _ in range(3):
            make_ticket(db, branch, service, business_on=closed, state="cancelled")
    runner = CliRunner()
    first = runner.invoke(quality_app, ["rollup", "--url", url])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "checked 1 branch days, recounted 1, wrote 3 rows"
    again = runner.invoke(quality_app, ["rollup", "--url", url, "--since", str(closed)])
    assert again.output.strip() == "checked 1 branch days, recounted 0, wrote 0 rows"
    forced = runner.invoke(quality_app, ["rollup", "--url", url, "--recount"])
    assert forced.output.strip() == "checked 1 branch days, recounted 1, wrote 3 rows"
    bad = runner.invoke(quality_app, ["rollup", "--url", url, "--since", "yesterday"])
    assert bad.exit_code == 2
    with database.read_only() as db:
        tickets = db.execute(
            select(DailyFigures.tickets).where(DailyFigures.dimension == "service")
        ).scalar_one()
    assert tickets == 3
    database.dispose()


def test_a_bucket_count_above_uint16_is_split_and_added_back() -> None:
    blob = rollup.encode(Counter({3: 70_000, 900: 2}))
    _, buckets, counts = rollup._decode([blob])
    assert buckets.tolist() == [3, 3, 900]
    assert counts.tolist() == [65_535, 4_465, 2]
    assert rollup.percentile(np.bincount(buckets, weights=counts)[None, :], 90) == [45]
    assert rollup.bucket_of(-5) == 0
    assert rollup.bucket_of(10**6) == rollup.BUCKETS - 1
