"""/api/v1/social over HTTP: the maker-checker flow, refusals (status, field, nothing changed,
audited) and the channels as data."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.events import deliver_outbox
from branchdesk.core.security import Signer
from branchdesk.social.models import Post
from branchdesk.social.publisher import RecordingPublisher
from tests.factories import bearer
from tests.social.helpers import count, refusals, team

API = "/api/v1/social/posts"
BODY = {
    "branch_code": "SOC1",
    "channel": "facebook",
    "title": "Mortgage fair",
    "body": "Saturday 10-16.",
}


def test_the_api_runs_draft_submit_approve_publish_and_refuses_the_maker(
    client: TestClient, db: Session, signer: Signer, publisher: RecordingPublisher
) -> None:
    _branch, maker, checker = team(db)
    as_maker, as_checker = bearer(signer, maker), bearer(signer, checker)
    created = client.post(API, json=BODY, headers=as_maker)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    assert created.json()["state"] == "draft"
    assert created.json()["drafted_by"] == maker.username
    edited = client.put(
        f"{API}/{reference}", json={**{k: v for k, v in BODY.items() if k != "branch_code"},
                                    "title": "Mortgage fair on Saturday"},
        headers=as_maker,
    )  # fmt: skip
    assert edited.json()["title"] == "Mortgage fair on Saturday"
    assert client.post(f"{API}/{reference}/submit", headers=as_maker).json()["state"] == (
        "pending_approval"
    )
    own = client.post(f"{API}/{reference}/approve", json={}, headers=as_maker)
    assert own.status_code == 403  # a quality officer does not approve at all
    wrong = client.post(f"{API}/{reference}/publish", headers=as_maker)
    assert (wrong.status_code, wrong.json()["error"]) == (409, "transition_refused")
    assert refusals(db, "social.post_publish") == [
        {"post": reference, "error": "transition_refused",
         "reason": "a post that is pending_approval cannot be published"}
    ]  # fmt: skip
    approved = client.post(f"{API}/{reference}/approve", json={"note": "fine"}, headers=as_checker)
    assert (approved.json()["state"], approved.json()["decided_by"]) == (
        "approved",
        checker.username,
    )
    again = client.post(f"{API}/{reference}/reject", json={"note": "late"}, headers=as_checker)
    assert again.status_code == 409
    done = client.post(f"{API}/{reference}/publish", headers=as_maker)
    assert done.json()["state"] == "published"
    deliver_outbox(db, now=utcnow() + timedelta(seconds=1))
    assert [(r.reference, r.channel) for r in publisher.sent] == [(reference, "facebook")]
    listed = client.get(API, params={"state": "published"}, headers=as_checker).json()
    assert [p["reference"] for p in listed] == [reference]
    assert client.get(API, params={"state": "draft"}, headers=as_checker).json() == []


def test_the_maker_who_may_approve_is_refused_with_409_and_an_audit_row(
    client: TestClient, db: Session, signer: Signer
) -> None:
    _branch, _maker, checker = team(db)
    as_checker = bearer(signer, checker)
    reference = client.post(API, json=BODY, headers=as_checker).json()["reference"]
    client.post(f"{API}/{reference}/submit", headers=as_checker)
    own = client.post(f"{API}/{reference}/approve", json={}, headers=as_checker)
    assert (own.status_code, own.json()["error"]) == (409, "own_approval")
    post = db.execute(select(Post).where(Post.reference == reference)).scalar_one()
    db.refresh(post)
    assert (post.state, post.decided_by_id) == ("pending_approval", None)
    assert [r["error"] for r in refusals(db, "social.post_approve")] == ["own_approval"]


def test_bad_input_is_422_on_the_field_and_writes_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    _branch, maker, _checker = team(db)
    as_maker = bearer(signer, maker)
    cases = [
        ({**BODY, "channel": "myspace"}, "channel"),
        ({**BODY, "channel": "weibo", "body": "長" * 2001}, "body"),
        ({**BODY, "scheduled_at": "2030-01-01T09:00:00"}, "scheduled_at"),  # no time zone
        ({**BODY, "scheduled_at": "2020-01-01T09:00:00+08:00"}, "scheduled_at"),
        ({**BODY, "title": ""}, "title"),
    ]
    for body, field in cases:
        refused = client.post(API, json=body, headers=as_maker)
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text, refused.text
    assert count(db, Post) == 0
    assert [r["error"] for r in refusals(db, "social.post_create")] == ["rule_violation"] * 3
    assert client.get(f"{API}/SP-2026-999999", headers=as_maker).status_code == 404


def test_channels_come_from_data(client: TestClient, db: Session, signer: Signer) -> None:
    _branch, maker, _checker = team(db)
    channels = client.get("/api/v1/social/channels", headers=bearer(signer, maker)).json()
    assert [(c["code"], c["hook"], c["max_length"]) for c in channels] == [
        ("wechat", "wechat", 2000), ("line", "line", 5000), ("facebook", "facebook", 5000),
        ("weibo", "generic", 2000),
    ]  # fmt: skip
