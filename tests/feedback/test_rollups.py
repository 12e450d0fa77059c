"""Roll-ups on a constructed data set: every figure is worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.feedback import service
from branchdesk.feedback.schemas import GroupBy, SurveyAnswer, SurveySummary
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from tests.factories import NOW, make_counter, make_service_type, make_ticket, make_user, offer
from tests.factories import principal as principal_of
from tests.feedback.helpers import TOKENS, World, completed_ticket, make_world

D0, D1, D2 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


@dataclass
class Data:
    a: World
    b: World
    t1: User
    t2: User
    t3: User


def _answer(db: Session, ticket_id: object, csat: int, nps: int) -> None:
    service.answer_survey(
        db, tokens=TOKENS, token=TOKENS.token_for(ticket_id),  # type: ignore[arg-type]
        answer=SurveyAnswer(csat=csat, nps=nps), locale="en", now=NOW + timedelta(days=2),
        expiry_days=7,
    )  # fmt: skip


def _data(db: Session) -> Data:
    a = make_world(db, region="North")
    b = make_world(db, region="South")
    t1, t3 = a.teller, b.teller
    t2 = make_user(db, Role.teller, (a.branch,), display_name="Teller Two")
    s2 = make_service_type(db)
    offer(db, a.branch, s2)
    c2 = make_counter(db, a.branch, s2, status="open")
    # Branch A, day 1, T1 at A's counter: 5 completed, 4 answers.
    for csat, nps in ((5, 10), (4, 9), (3, 7), (2, 5), (None, None)):
        ticket = completed_ticket(db, a, business_on=D1)
        if csat is not None:
            _answer(db, ticket.id, csat, nps)  # type: ignore[arg-type]
    # Branch A, day 1, T2 at counter 2, service 2: 3 completed, 2 answers.
    for csat, nps in ((5, 10), (1, 0), (None, None)):
        ticket = completed_ticket(db, a, business_on=D1, counter=c2, teller=t2, service=s2)
        if csat is not None:
            _answer(db, ticket.id, csat, nps)  # type: ignore[arg-type]
    # Branch A, day 2, T1: 2 completed, 1 answer.
    ticket = completed_ticket(db, a, business_on=D2, finished_at=NOW + timedelta(days=1))
    _answer(db, ticket.id, 4, 8)
    completed_ticket(db, a, business_on=D2, finished_at=NOW + timedelta(days=1))
    # Branch B, day 1, T3: 3 completed, 3 answers.
    for csat, nps in ((5, 9), (5, 10), (3, 6)):
        _answer(db, completed_ticket(db, b, business_on=D1).id, csat, nps)
    # Outside the figures: a ticket still being served, and a day before the range.
    make_ticket(db, a.branch, a.service, business_on=D1, state="serving", counter_id=a.counter.id)
    _answer(db, completed_ticket(db, a, business_on=D0).id, 1, 0)
    return Data(a=a, b=b, t1=t1, t2=t2, t3=t3)


def _admin(db: Session) -> Principal:
    return principal_of(db, make_user(db, Role.admin))


def _officer(db: Session, data: Data) -> Principal:
    """Scoped to the two test branches: PostgreSQL runs of the whole suite keep rows that other
    tests committed, so bank-wide totals are asserted only through explicit branches."""
    return principal_of(db, make_user(db, Role.quality_officer, (data.a.branch, data.b.branch)))


def _summary(
    db: Session, actor: Principal, group_by: GroupBy, branch: str | None = None
) -> SurveySummary:
    return service.summarize(
        db, actor=actor, group_by=group_by, from_on=D1, to_on=D2, branch_code=branch
    )


def _figures(summary: SurveySummary) -> dict[str, tuple[object, ...]]:
    return {
        r.label: (r.completed, r.responses, r.response_rate, r.csat_average, r.csat_distribution,
                  r.promoters, r.passives, r.detractors, r.nps)
        for r in summary.rows
    }  # fmt: skip


def test_figures_by_teller_are_exact(db: Session) -> None:
    data = _data(db)
    summary = _summary(db, _officer(db, data), GroupBy.teller)
    assert _figures(summary) == {
        # T1: 7 completed, CSAT 5,4,3,2,4 = 18/5; NPS 10,9,7,5,8: 2 promoters, 1 detractor.
        data.t1.display_name: (7, 5, 0.7143, 3.6, [0, 1, 1, 2, 1], 2, 2, 1, 20.0),
        # T2: 3 completed, CSAT 5,1; NPS 10,0.
        "Teller Two": (3, 2, 0.6667, 3.0, [1, 0, 0, 0, 1], 1, 0, 1, 0.0),
        # T3: CSAT 5,5,3 = 13/3; NPS 9,10,6: 2 promoters, 1 detractor of 3.
        data.t3.display_name: (3, 3, 1.0, 4.33, [0, 0, 1, 0, 2], 2, 0, 1, 33.3),
    }
    total = summary.total
    # 10 answers of 13 completed visits; CSAT 37/10; 5 promoters, 3 detractors of 10.
    assert (total.completed, total.responses, total.response_rate, total.csat_average) == (
        13,
        10,
        0.7692,
        3.7,
    )
    assert (total.csat_distribution, total.promoters, total.detractors, total.nps) == (
        [1, 1, 2, 2, 4],
        5,
        3,
        20.0,
    )


def test_figures_by_region_day_branch_counter_and_service(db: Session) -> None:
    data = _data(db)
    admin = _officer(db, data)
    by_region = _figures(_summary(db, admin, GroupBy.region))
    # North: T1 + T2 = 10 completed, 7 answers, CSAT 24/7, 3 promoters and 2 detractors of 7.
    assert by_region["North"] == (10, 7, 0.7, 3.43, [1, 1, 1, 2, 2], 3, 2, 2, 14.3)
    assert by_region["South"] == (3, 3, 1.0, 4.33, [0, 0, 1, 0, 2], 2, 0, 1, 33.3)
    by_day = _summary(db, admin, GroupBy.day)
    assert [r.key for r in by_day.rows] == ["2026-03-02", "2026-03-03"]
    assert _figures(by_day)["2026-03-03"] == (2, 1, 0.5, 4.0, [0, 0, 0, 1, 0], 0, 1, 0, 0.0)
    assert _figures(by_day)["2026-03-02"][:2] == (11, 9)
    by_branch = _summary(db, admin, GroupBy.branch)
    assert [(r.key, r.completed, r.responses) for r in by_branch.rows] == [
        (str(data.a.branch.id), 10, 7),
        (str(data.b.branch.id), 3, 3),
    ]
    by_counter = _summary(db, admin, GroupBy.counter, branch=data.a.branch.code)
    assert sorted((r.completed, r.responses, r.nps) for r in by_counter.rows) == [
        (3, 2, 0.0),
        (7, 5, 20.0),
    ]
    assert by_counter.branch_code == data.a.branch.code
    by_service = _summary(db, admin, GroupBy.service, branch=data.b.branch.code)
    assert [(r.completed, r.responses, r.csat_average) for r in by_service.rows] == [(3, 3, 4.33)]


def test_the_roll_up_is_scoped_to_the_actors_branches(db: Session) -> None:
    data = _data(db)
    manager_b = principal_of(db, make_user(db, Role.branch_manager, (data.b.branch,)))
    own = _summary(db, manager_b, GroupBy.branch)
    assert [(r.key, r.completed) for r in own.rows] == [(str(data.b.branch.id), 3)]
    with pytest.raises(Forbidden):
        _summary(db, manager_b, GroupBy.teller, branch=data.a.branch.code)
    quality = principal_of(db, make_user(db, Role.quality_officer, (data.a.branch, data.b.branch)))
    assert _summary(db, quality, GroupBy.branch).total.completed == 13
    unassigned = principal_of(db, make_user(db, Role.quality_officer))
    assert _summary(db, unassigned, GroupBy.branch).rows == []
    admin = _admin(db)  # every branch, one at a time
    assert _summary(db, admin, GroupBy.day, branch=data.a.branch.code).total.completed == 10
    assert _summary(db, admin, GroupBy.day, branch=data.b.branch.code).total.completed == 3
    for role in (Role.teller, Role.lobby_manager, Role.risk_officer, Role.compliance_officer):
        with pytest.raises(Forbidden):
            _summary(db, principal_of(db, make_user(db, role, (data.a.branch,))), GroupBy.branch)


def test_a_reversed_or_too_long_range_is_refused(db: Session) -> None:
    admin = _admin(db)
    with pytest.raises(RuleViolation) as reversed_range:
        service.summarize(db, actor=admin, group_by=GroupBy.day, from_on=D2, to_on=D1)
    assert reversed_range.value.field == "to"
    with pytest.raises(RuleViolation) as too_long:
        service.summarize(db, actor=admin, group_by=GroupBy.day, from_on=date(2020, 1, 1), to_on=D1)
    assert too_long.value.field == "from"
