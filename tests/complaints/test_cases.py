"""The case state machine, assignment, replies, category corrections and extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Holiday
from branchdesk.complaints import service
from branchdesk.complaints.models import Extension, Pause, TimelineEntry, TimelineIsAppendOnly
from branchdesk.core.errors import Conflict, Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.core.ids import new_id
from branchdesk.identity.roles import Role
from branchdesk.textanalysis.models import TextCorrection
from tests.complaints.helpers import NOW, count, open_web_case, timeline_kinds
from tests.factories import make_branch, make_user, principal


@pytest.fixture
def world(db: Session) -> dict[str, object]:
    branch = make_branch(db, timezone="Asia/Shanghai")
    teller = principal(db, make_user(db, Role.teller, (branch,)))
    manager = principal(db, make_user(db, Role.branch_manager, (branch,)))
    return {"branch": branch, "teller": teller, "manager": manager}


def test_full_flow_acknowledge_wait_resume_resolve_close_reopen(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"])
    teller = world["teller"]
    ref = case.reference
    t = NOW
    for action in ("acknowledge", "start", "wait"):
        t += timedelta(hours=1)
        service.transition(db, reference=ref, action=action, actor=teller, now=t)
    assert case.state == "waiting_on_customer"
    assert count(db, Pause, Pause.case_id == case.id, Pause.ended_at.is_(None)) == 1
    # The customer answers five days later (Sat 7 March in Shanghai): the clock resumes.
    service.append_customer_message(
        db, case, body="Here is my card number", now=NOW + timedelta(days=5), source="email"
    )
    assert case.state == "in_progress"
    # the paused business days Tue 3 .. Fri 6 (Monday is day 0) are not counted: 4 more days
    assert case.final_due_at == datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    t = NOW + timedelta(days=6)
    with pytest.raises(RuleViolation) as info:
        service.transition(db, reference=ref, action="resolve", actor=teller, now=t)
    assert info.value.field == "root_cause"
    service.transition(
        db, reference=ref, action="resolve", actor=teller, now=t, root_cause="ATM firmware",
        resolution="Card returned",
    )  # fmt: skip
    service.transition(db, reference=ref, action="close", actor=teller, now=t)
    service.transition(db, reference=ref, action="reopen", actor=teller, now=t)
    assert (case.state, case.root_cause, case.closed_at) == ("reopened", "ATM firmware", None)
    assert timeline_kinds(db, case) == [
        "created", "state_changed", "state_changed", "state_changed", "message_in",
        "state_changed", "state_changed", "state_changed", "state_changed",
    ]  # fmt: skip
    assert (
        count(db, Event, Event.aggregate_id == case.id, Event.type.like("complaint.state.%")) == 7
    )


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ((), "start"),
        ((), "resolve"),
        ((), "close"),
        ((), "reopen"),
        (("acknowledge",), "acknowledge"),
        (("acknowledge",), "wait"),
        (("acknowledge", "start"), "close"),
        (("acknowledge", "start", "wait"), "wait"),
    ],
)
def test_refused_transitions_change_nothing(
    db: Session, world: dict, setup: tuple[str, ...], action: str
) -> None:
    case = open_web_case(db, world["branch"])
    for step in setup:
        service.transition(
            db, reference=case.reference, action=step, actor=world["teller"], now=NOW
        )
    state, entries = case.state, count(db, TimelineEntry, TimelineEntry.case_id == case.id)
    with pytest.raises(service.TransitionRefused):
        service.transition(
            db, reference=case.reference, action=action, actor=world["teller"], now=NOW,
            root_cause="x",
        )  # fmt: skip
    assert case.state == state
    assert count(db, TimelineEntry, TimelineEntry.case_id == case.id) == entries


def test_reply_marks_the_interim_reply_and_is_refused_before_acknowledgement(
    db: Session, world: dict
) -> None:
    case = open_web_case(db, world["branch"])
    with pytest.raises(service.TransitionRefused):
        service.reply(db, reference=case.reference, text="hi", actor=world["teller"], now=NOW)
    service.transition(
        db, reference=case.reference, action="acknowledge", actor=world["teller"], now=NOW
    )
    later = NOW + timedelta(hours=2)
    service.reply(
        db, reference=case.reference, text="We are on it", actor=world["teller"], now=later
    )
    service.reply(
        db,
        reference=case.reference,
        text="Update",
        actor=world["teller"],
        now=later + timedelta(hours=1),
    )
    assert case.first_reply_at == later
    entries = [e for e in service.timeline(db, case) if e.kind == "message_out"]
    assert [(e.body, e.data["sent_to"]) for e in entries] == [
        ("We are on it", "email"),
        ("Update", "email"),
    ]


def test_assign_only_to_someone_who_may_handle_complaints_there(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"])
    elsewhere = make_user(db, Role.teller, (make_branch(db),))
    risk = make_user(db, Role.risk_officer, (world["branch"],))
    for user in (elsewhere, risk):
        with pytest.raises(RuleViolation):
            service.assign(
                db, reference=case.reference, assignee_id=user.id, actor=world["manager"], now=NOW
            )
    assert case.assignee_id is None
    service.assign(
        db,
        reference=case.reference,
        assignee_id=world["teller"].user_id,
        actor=world["manager"],
        now=NOW,
    )
    assert case.assignee_id == world["teller"].user_id


def test_staff_outside_the_branch_cannot_see_or_handle(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"])
    stranger = principal(db, make_user(db, Role.teller, (make_branch(db),)))
    with pytest.raises(Forbidden):
        service.get_case(db, reference=case.reference, actor=stranger)
    with pytest.raises(Forbidden):
        service.transition(
            db, reference=case.reference, action="acknowledge", actor=stranger, now=NOW
        )
    assert case.state == "new"


def test_prediction_is_stored_and_a_correction_is_kept(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"], body="I had to wait two hours")
    assert (case.category, case.predicted_category, case.predicted_category_confidence) == (
        "waiting_time", "waiting_time", 0.8,
    )  # fmt: skip
    assert (case.predicted_sentiment, case.detected_language) == ("negative", "en")
    service.correct_category(
        db, reference=case.reference, category="staff_attitude", actor=world["teller"], now=NOW
    )
    assert case.category == "staff_attitude"
    entry = next(e for e in service.timeline(db, case) if e.kind == "category_changed")
    assert entry.data == {
        "from": "waiting_time", "to": "staff_attitude", "predicted": "waiting_time",
        "sent_to_textanalysis": True,
    }  # fmt: skip
    query = select(TextCorrection).where(TextCorrection.source_id == str(case.id))
    corrections = db.execute(query).scalars().all()
    assert [(c.field, c.predicted, c.corrected) for c in corrections] == [
        ("category", "waiting_time", "staff_attitude")
    ]
    # a label the classifier does not know is kept on the case only
    service.correct_category(
        db, reference=case.reference, category="atm_card", actor=world["teller"], now=NOW
    )
    assert case.category == "atm_card"
    assert len(db.execute(query).scalars().all()) == 1


def test_extension_needs_a_second_person_and_notifies_the_customer(
    db: Session, world: dict
) -> None:
    branch = world["branch"]
    db.add(Holiday(id=new_id(), branch_id=branch.id, on=date(2026, 3, 10), name="Holiday"))
    db.flush()
    case = open_web_case(db, branch)
    teller, manager = world["teller"], world["manager"]
    # 15 business days, one holiday: end of Tuesday 24 March
    assert case.final_due_at == datetime(2026, 3, 24, 16, 0, tzinfo=UTC)
    service.set_complex(
        db,
        reference=case.reference,
        is_complex=True,
        reason="Several accounts",
        actor=teller,
        now=NOW,
    )
    assert case.final_due_at == datetime(2026, 4, 14, 16, 0, tzinfo=UTC)  # 30 business days
    with pytest.raises(RuleViolation) as info:
        service.request_extension(
            db, reference=case.reference, total_days=61, reason="x", actor=teller, now=NOW
        )
    assert info.value.field == "total_days"
    extension = service.request_extension(
        db,
        reference=case.reference,
        total_days=60,
        reason="Waiting for the card network",
        actor=manager,
        now=NOW,
    )
    with pytest.raises(Conflict):
        service.request_extension(
            db, reference=case.reference, total_days=45, reason="y", actor=teller, now=NOW
        )
    # the requester cannot approve, nor can a teller
    with pytest.raises(Forbidden) as refused:
        service.decide_extension(
            db,
            reference=case.reference,
            extension_id=extension.id,
            approve=True,
            actor=manager,
            now=NOW,
        )
    assert refused.value.code == "maker_checker"
    with pytest.raises(Forbidden):
        service.decide_extension(
            db,
            reference=case.reference,
            extension_id=extension.id,
            approve=True,
            actor=teller,
            now=NOW,
        )
    assert (extension.status, case.extended_final_days) == ("pending", None)
    other_manager = principal(db, make_user(db, Role.branch_manager, (branch,)))
    service.decide_extension(
        db,
        reference=case.reference,
        extension_id=extension.id,
        approve=True,
        actor=other_manager,
        now=NOW,
    )
    assert extension.status == "approved"
    assert extension.customer_notified_at == NOW
    assert case.final_due_at == datetime(
        2026, 5, 26, 16, 0, tzinfo=UTC
    )  # 60 business days + holiday
    notice = [e for e in service.timeline(db, case) if e.data.get("notice") == "extension"]
    assert len(notice) == 1
    assert notice[0].data["sent_to"] == "email"
    assert notice[0].data["due_on"] == "2026-05-26"  # the last local day of the deadline
    with pytest.raises(Conflict):
        service.decide_extension(
            db,
            reference=case.reference,
            extension_id=extension.id,
            approve=False,
            actor=other_manager,
            now=NOW,
        )
    assert count(db, Extension, Extension.case_id == case.id) == 1


def test_the_timeline_is_append_only(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"])
    entry = service.timeline(db, case)[0]
    entry.body = "rewritten"
    with pytest.raises(TimelineIsAppendOnly):
        db.flush()
    db.rollback()


def test_resolving_while_waiting_closes_the_pause(db: Session, world: dict) -> None:
    case = open_web_case(db, world["branch"])
    for action in ("acknowledge", "start", "wait"):
        service.transition(
            db, reference=case.reference, action=action, actor=world["teller"], now=NOW
        )
    later = NOW + timedelta(days=3)
    service.transition(
        db, reference=case.reference, action="resolve", actor=world["teller"], now=later,
        root_cause="Customer found the card",
    )  # fmt: skip
    assert count(db, Pause, Pause.case_id == case.id, Pause.ended_at.is_(None)) == 0
    assert count(db, Pause, Pause.case_id == case.id, Pause.ended_at == later) == 1
