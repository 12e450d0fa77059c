"""Answering a survey: once, within its validity, for a completed visit; detractors followed up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.complaints.models import Case
from branchdesk.core.events import Event
from branchdesk.feedback import service
from branchdesk.feedback.models import SurveyInvitation, SurveyResponse
from branchdesk.feedback.schemas import SurveyAnswer
from tests.factories import NOW, make_customer, make_ticket
from tests.feedback.helpers import DAY, TOKENS, completed_ticket, make_world

LATER = NOW + timedelta(hours=2)
FAR = datetime(2031, 5, 5, 2, 0, tzinfo=UTC)


def _answer(db: Session, token: str, csat: int = 5, nps: int = 10, comment: str = "", **kw: object):  # type: ignore[no-untyped-def]
    return service.answer_survey(
        db, tokens=TOKENS, token=token, answer=SurveyAnswer(csat=csat, nps=nps, comment=comment),
        locale="zh-Hant", now=kw.get("now", LATER), expiry_days=int(kw.get("days", 7)),  # type: ignore[arg-type]
    )  # fmt: skip


def _events(db: Session, kind: str) -> int:
    return db.execute(
        select(func.count()).select_from(Event).where(Event.type == kind)
    ).scalar_one()


def test_an_answer_copies_the_visit_dimensions(db: Session) -> None:
    world = make_world(db, region="South")
    ticket = completed_ticket(db, world)
    response = _answer(db, TOKENS.token_for(ticket.id), csat=4, nps=8, comment="  quick  ")
    stored = db.get(SurveyResponse, response.id)
    assert stored is not None
    assert (stored.ticket_id, stored.branch_id, stored.region) == (
        ticket.id,
        world.branch.id,
        "South",
    )
    assert (stored.service_type_id, stored.counter_id, stored.teller_id) == (
        world.service.id,
        world.counter.id,
        world.teller.id,
    )
    assert (stored.business_on, stored.csat, stored.nps, stored.comment) == (DAY, 4, 8, "quick")
    assert stored.locale == "zh-Hant"
    assert stored.is_detractor is False
    assert stored.follow_up_case_id is None
    assert stored.answered_at == LATER
    assert _events(db, "feedback.answered") == 1
    assert _events(db, "feedback.detractor") == 0


def test_a_second_answer_is_refused_and_changes_nothing(db: Session) -> None:
    world = make_world(db)
    ticket = completed_ticket(db, world)
    token = TOKENS.token_for(ticket.id)
    first = _answer(db, token, csat=5, nps=10, comment="great")
    with pytest.raises(service.SurveyAlreadyAnswered):
        _answer(db, token, csat=1, nps=0, comment="changed my mind")
    rows = db.execute(select(SurveyResponse)).scalars().all()
    assert [(r.id, r.csat, r.nps, r.comment) for r in rows] == [(first.id, 5, 10, "great")]
    assert _events(db, "feedback.answered") == 1
    assert _events(db, "feedback.detractor") == 0
    page = service.survey_page(db, tokens=TOKENS, token=token, now=LATER, expiry_days=7)
    assert page.status == "answered"


def test_the_link_expires_after_the_configured_days(db: Session) -> None:
    world = make_world(db)
    ticket = completed_ticket(db, world, finished_at=NOW)
    token = TOKENS.token_for(ticket.id)
    with pytest.raises(service.SurveyExpired):
        _answer(db, token, now=NOW + timedelta(days=3), days=3)
    assert db.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 0
    page = service.survey_page(
        db, tokens=TOKENS, token=token, now=NOW + timedelta(days=3), expiry_days=3
    )
    assert page.status == "expired"
    _answer(db, token, now=NOW + timedelta(days=3) - timedelta(seconds=1), days=3)
    assert db.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 1


def test_a_visit_not_completed_cannot_be_rated_yet(db: Session) -> None:
    world = make_world(db)
    serving = make_ticket(
        db, world.branch, world.service, state="serving", counter_id=world.counter.id
    )
    token = TOKENS.token_for(serving.id)
    assert (
        service.survey_page(db, tokens=TOKENS, token=token, now=LATER, expiry_days=7).status
        == "not_completed"
    )
    with pytest.raises(service.SurveyNotOpen):
        _answer(db, token)
    assert db.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 0


def test_tampered_and_unknown_links_are_not_found(db: Session) -> None:
    world = make_world(db)
    ticket = completed_ticket(db, world)
    other = completed_ticket(db, world)
    head, mac = TOKENS.token_for(ticket.id).split(".")
    other_head = TOKENS.token_for(other.id).split(".")[0]
    for bad in (
        f"{other_head}.{mac}",
        f"{head}.{mac[:-2]}xx",
        "garbage",
        TOKENS.token_for(world.teller.id),
    ):
        with pytest.raises(service.InvalidSurveyLink):
            _answer(db, bad)
    assert db.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 0


@pytest.mark.parametrize(
    ("csat", "nps", "detractor"),
    [(5, 6, True), (2, 10, True), (1, 0, True), (3, 7, False), (5, 9, False), (3, 10, False)],
)
def test_a_detractor_opens_exactly_one_follow_up(
    db: Session, csat: int, nps: int, detractor: bool
) -> None:
    world = make_world(db)
    ticket = completed_ticket(db, world)
    token = TOKENS.token_for(ticket.id)
    response = _answer(db, token, csat=csat, nps=nps)
    assert response.is_detractor is detractor
    assert _events(db, "feedback.detractor") == (1 if detractor else 0)
    with pytest.raises(service.SurveyAlreadyAnswered):
        _answer(db, token, csat=1, nps=0)
    assert _events(db, "feedback.detractor") == (1 if detractor else 0)
    cases = db.execute(select(Case).where(Case.related_ticket_id == ticket.id)).scalars().all()
    if not detractor:
        assert cases == []
        assert response.follow_up_case_id is None
        return
    event = db.execute(select(Event).where(Event.type == "feedback.detractor")).scalar_one()
    assert event.payload["response"] == str(response.id)
    assert event.payload["ticket"] == str(ticket.id)
    assert [(c.id, c.source_ref, c.related_ticket_id, c.branch_id) for c in cases] == [
        (response.follow_up_case_id, str(response.id), ticket.id, world.branch.id)
    ]
    assert event.payload["case"] == str(response.follow_up_case_id)
    # Opening the follow-up again (a retried job) finds the same case.
    again = service.open_follow_up(
        db, response=response, ticket=ticket, branch=world.branch, now=LATER
    )
    assert again == response.follow_up_case_id
    same = select(func.count()).select_from(Case).where(Case.source_ref == str(response.id))
    assert db.execute(same).scalar_one() == 1


def test_remote_tickets_with_a_contact_get_one_invitation(db: Session, signer) -> None:  # type: ignore[no-untyped-def]
    # A time of its own: PostgreSQL runs of the whole suite keep rows other tests committed.
    done, now = FAR, FAR + timedelta(hours=2)
    world = make_world(db)
    customer = make_customer(
        db, signer, home_branch_id=world.branch.id, email="lin@example.com", phone=""
    )
    by_phone = completed_ticket(db, world, channel="remote", contact_phone="0912 000 111",
                                finished_at=done)  # fmt: skip
    by_mail = completed_ticket(db, world, channel="remote", customer_id=customer.id,
                               finished_at=done)  # fmt: skip
    mine = [by_phone.id, by_mail.id]
    mine.append(completed_ticket(db, world, channel="remote", finished_at=done).id)  # no contact
    mine.append(completed_ticket(db, world, channel="kiosk", contact_phone="0912 000 222",
                                 finished_at=done).id)  # fmt: skip  # not remote
    mine.append(completed_ticket(db, world, channel="remote", contact_phone="0912 000 333",
                                 finished_at=done - timedelta(days=8)).id)  # fmt: skip  # expired
    answered = completed_ticket(db, world, channel="remote", contact_phone="0912 000 444",
                                finished_at=done)  # fmt: skip
    mine.append(answered.id)
    _answer(db, TOKENS.token_for(answered.id), now=now)
    sent = service.send_invitations(
        db, tokens=TOKENS, base_url="https://bank.example/", now=now, expiry_days=7
    )
    assert sent == 2
    messages = (
        db.execute(
            select(Event)
            .where(Event.type == "notify.requested", Event.aggregate_id.in_(mine))
            .order_by(Event.seq)
        )
        .scalars()
        .all()
    )
    assert [(m.aggregate_id, m.payload["to_phone"], m.payload["to_email"]) for m in messages] == [
        (by_phone.id, "0912 000 111", ""),
        (by_mail.id, "", "lin@example.com"),
    ]
    assert (
        messages[0].payload["values"]["url"]
        == f"https://bank.example/s/{TOKENS.token_for(by_phone.id)}"
    )
    assert messages[0].payload["template"] == service.INVITE_TEMPLATE
    invitations = db.execute(
        select(SurveyInvitation.ticket_id, SurveyInvitation.sent_to).where(
            SurveyInvitation.ticket_id.in_(mine)
        )
    ).all()
    assert sorted(invitations) == sorted([(by_phone.id, "sms"), (by_mail.id, "email")])
    again = service.send_invitations(
        db, tokens=TOKENS, base_url="https://bank.example", now=now, expiry_days=7
    )
    assert again == 0


def test_seeded_history_is_deterministic_and_opens_no_cases(db: Session) -> None:
    from branchdesk.feedback.seed import seed_responses

    world = make_world(db)
    tickets = [completed_ticket(db, world, business_on=FAR.date()) for _ in range(40)]
    make_ticket(db, world.branch, world.service, state="waiting")
    written = seed_responses(db, seed=3, share=0.5, since=FAR.date())
    rows = db.execute(
        select(SurveyResponse.ticket_id, SurveyResponse.csat, SurveyResponse.nps)
    ).all()
    assert written == len(rows)
    assert 8 <= written <= 32  # about half of 40
    assert {r.ticket_id for r in rows} <= {t.id for t in tickets}
    assert all(1 <= r.csat <= 5 and 0 <= r.nps <= 10 for r in rows)
    assert (
        seed_responses(db, seed=3, share=0.5, since=FAR.date()) == 0
    )  # answered tickets are skipped
    assert (
        db.execute(
            select(func.count()).select_from(Case).where(Case.channel == "survey")
        ).scalar_one()
        == 0
    )
    first = sorted((r.ticket_id, r.csat, r.nps) for r in rows)
    db.execute(SurveyResponse.__table__.delete())
    seed_responses(db, seed=3, share=0.5, since=FAR.date())
    again = db.execute(
        select(SurveyResponse.ticket_id, SurveyResponse.csat, SurveyResponse.nps)
    ).all()
    assert sorted((r.ticket_id, r.csat, r.nps) for r in again) == first


def test_a_submission_that_loses_the_race_is_refused_by_the_database(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(db)
    ticket = completed_ticket(db, world)
    token = TOKENS.token_for(ticket.id)
    first = _answer(db, token, csat=4, nps=9)
    # The second request read "open" before the first one's row existed.
    monkeypatch.setattr(service, "_status", lambda *_args: "open")
    with pytest.raises(service.SurveyAlreadyAnswered):
        _answer(db, token, csat=1, nps=0)
    rows = db.execute(select(SurveyResponse.id, SurveyResponse.csat)).all()
    assert [tuple(r) for r in rows] == [(first.id, 4)]  # the session is still usable
    assert _events(db, "feedback.answered") == 1
