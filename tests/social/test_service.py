"""Posts: draft, maker-checker approval, publishing through the adapter, scheduling, scoping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.events import deliver_outbox
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.ledger.errors import OwnApproval
from branchdesk.social import service
from branchdesk.social.publisher import PublishRequest, RecordingPublisher
from branchdesk.social.schemas import PostContent, PostCreate
from tests.factories import make_branch, make_user, principal
from tests.social.helpers import NOW, draft, team


def _audit(db: Session, reference: str) -> list[tuple[str, str]]:
    rows = db.execute(
        select(AuditEntry.action, AuditEntry.outcome)
        .where(AuditEntry.object_id == reference)
        .order_by(AuditEntry.seq)
    ).all()
    return [(r.action, r.outcome) for r in rows]


def test_a_post_is_drafted_approved_by_a_second_person_and_published_once(
    db: Session, publisher: RecordingPublisher
) -> None:
    branch, _officer, checker = team(db)
    maker = make_user(db, Role.branch_manager, (branch,))  # may approve, but not their own post
    post = draft(db, maker)
    assert (post.reference, post.state) == ("SP-2026-000001", "draft")
    service.submit_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    with pytest.raises(OwnApproval):
        service.approve_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    assert post.state == "pending_approval"
    later = NOW + timedelta(minutes=5)
    service.approve_post(
        db, reference=post.reference, actor=principal(db, checker), now=later, note="OK"
    )
    assert (post.state, post.decided_by_id, post.decision_note) == ("approved", checker.id, "OK")
    service.publish_post(db, reference=post.reference, actor=principal(db, maker), now=later)
    assert (post.state, post.published_at) == ("published", later)
    assert publisher.sent == []  # nothing leaves before the commit
    assert deliver_outbox(db, now=later) >= 1
    assert [(r.reference, r.channel, r.title) for r in publisher.sent] == [
        ("SP-2026-000001", "wechat", "Time deposit 3.1%")
    ]
    assert isinstance(publisher.sent[0], PublishRequest)
    deliver_outbox(db, now=later + timedelta(hours=1))
    assert len(publisher.sent) == 1
    assert _audit(db, post.reference) == [
        ("social.post_create", "ok"),
        ("social.post_submit", "ok"),
        ("social.post_approve", "ok"),
        ("social.post_publish", "ok"),
    ]


def test_forbidden_transitions_are_409_and_change_nothing(db: Session) -> None:
    _branch, maker, checker = team(db)
    post = draft(db, maker)
    as_maker, as_checker = principal(db, maker), principal(db, checker)
    attempts: list[Callable[[], object]] = [
        lambda: service.approve_post(db, reference=post.reference, actor=as_checker, now=NOW),
        lambda: service.publish_post(db, reference=post.reference, actor=as_maker, now=NOW),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as refused:
            attempt()
        assert (refused.value.status_code, refused.value.code) == (409, "transition_refused")
    service.submit_post(db, reference=post.reference, actor=as_maker, now=NOW)
    content = PostContent(channel="line", title="Changed", body="Changed")
    with pytest.raises(DomainError) as refused:
        service.update_post(db, reference=post.reference, data=content, actor=as_maker, now=NOW)
    assert refused.value.status_code == 409
    with pytest.raises(RuleViolation) as no_reason:
        service.reject_post(db, reference=post.reference, actor=as_checker, now=NOW, note=" ")
    assert no_reason.value.field == "note"
    assert (post.state, post.title, post.channel) == (
        "pending_approval",
        "Time deposit 3.1%",
        "wechat",
    )


def test_a_rejected_post_is_rewritten_and_its_editor_becomes_the_maker(db: Session) -> None:
    branch, maker, checker = team(db)
    other = make_user(db, Role.branch_manager, (branch,))
    post = draft(db, maker)
    service.submit_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    service.reject_post(
        db, reference=post.reference, actor=principal(db, checker), now=NOW, note="Rate is 3.0%"
    )
    assert (post.state, post.decision_note) == ("rejected", "Rate is 3.0%")
    content = PostContent(channel="wechat", title="Time deposit 3.0%", body="Now 3.0% a year.")
    service.update_post(
        db, reference=post.reference, data=content, actor=principal(db, checker), now=NOW
    )
    assert (post.state, post.drafted_by_id, post.title) == (
        "draft",
        checker.id,
        "Time deposit 3.0%",
    )
    service.submit_post(db, reference=post.reference, actor=principal(db, checker), now=NOW)
    with pytest.raises(OwnApproval):
        service.approve_post(db, reference=post.reference, actor=principal(db, checker), now=NOW)
    service.approve_post(db, reference=post.reference, actor=principal(db, other), now=NOW)
    assert post.state == "approved"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "myspace"}, "channel"),
        ({"body": "x" * 2001}, "body"),  # WeChat takes 2,000 characters
        ({"link_url": "javascript:alert(1)"}, "link_url"),
        ({"scheduled_at": NOW - timedelta(minutes=1)}, "scheduled_at"),
        ({"branch_code": "NOPE"}, "branch_code"),
    ],
)
def test_bad_content_is_refused_on_its_field(
    db: Session, overrides: dict[str, object], field: str
) -> None:
    _branch, maker, _checker = team(db)
    with pytest.raises(RuleViolation) as refused:
        draft(db, maker, **overrides)
    assert refused.value.field == field
    assert service.list_posts(db, actor=principal(db, maker)) == []


def test_a_scheduled_post_waits_for_its_time_then_the_job_publishes_it(
    db: Session, publisher: RecordingPublisher
) -> None:
    _branch, maker, checker = team(db)
    at = NOW + timedelta(hours=3)
    post = draft(db, maker, scheduled_at=at)
    service.submit_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    service.approve_post(db, reference=post.reference, actor=principal(db, checker), now=NOW)
    with pytest.raises(DomainError) as early:
        service.publish_post(db, reference=post.reference, actor=principal(db, maker), now=NOW)
    assert (early.value.status_code, early.value.code) == (409, "scheduled_later")
    assert service.publish_due(db, at - timedelta(seconds=1)) == 0
    assert post.state == "approved"
    assert service.publish_due(db, at) == 1
    assert (post.state, post.published_at, post.published_by) == ("published", at, "scheduler")
    assert service.publish_due(db, at + timedelta(minutes=1)) == 0
    deliver_outbox(db, now=at)
    assert [r.reference for r in publisher.sent] == [post.reference]


def test_posts_of_another_branch_are_not_seen(db: Session) -> None:
    _branch, maker, _checker = team(db)
    post = draft(db, maker)
    elsewhere = make_branch(db, code="SOC2")
    stranger = make_user(db, Role.branch_manager, (elsewhere,))
    with pytest.raises(DomainError) as hidden:
        service.get_post(db, reference=post.reference, actor=principal(db, stranger))
    assert hidden.value.status_code == 404
    assert service.list_posts(db, actor=principal(db, stranger)) == []
    teller = make_user(db, Role.teller, (elsewhere,))
    with pytest.raises(DomainError) as forbidden:
        service.create_post(
            db,
            data=PostCreate(branch_code="SOC2", channel="line", title="t", body="b"),
            actor=principal(db, teller),
            now=NOW,
        )
    assert forbidden.value.status_code == 403
