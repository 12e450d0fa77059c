"""Campaigns to a segment: drafted, submitted, approved by someone else, sent once at the
scheduled time, only with consent and the offers setting, in each customer's language;
results counted; refusals change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import AnalyticsRun, CustomerSegment
from branchdesk.care.models import Campaign, CampaignRecipient
from branchdesk.care.service.campaigns import send_due_campaigns
from branchdesk.core.events import deliver_outbox
from branchdesk.core.ids import new_id
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.customers.models import Customer
from branchdesk.identity.roles import Role
from branchdesk.portal.models import NotificationPreference
from tests.factories import NOW, bearer, make_branch, make_customer, make_user


def segment(db: Session, customers: list[Customer], kind: str, name: str) -> None:
    run = AnalyticsRun(
        id=new_id(), run_on=NOW.date(), engine="duckdb", rule_version="test",
        customer_count=len(customers), milliseconds=1, profile={}, started_at=NOW,
        finished_at=NOW,
    )  # fmt: skip
    db.add(run)
    db.flush()
    for customer in customers:
        db.add(
            CustomerSegment(id=new_id(), customer_id=customer.id, kind=kind, segment=name,
                            valid_from=NOW.date(), valid_to=None, run_id=run.id)
        )  # fmt: skip
    db.flush()


def body(branch_code: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "Time deposit week", "branch_code": branch_code, "segment_kind": "asset_tier",
        "segment": "affluent", "text_zh_hant": "{name}，本週定存加息。",
        "text_zh_hans": "{name}，本周定存加息。", "text_en": "{name}, time deposit rates are up.",
        "scheduled_at": (NOW + timedelta(hours=2)).isoformat(),
    }  # fmt: skip
    values.update(overrides)
    return values


def test_campaign_flow_counts_results_and_respects_consent(
    db: Session, signer: Signer, client: TestClient, notifier: RecordingNotifier
) -> None:
    branch = make_branch(db)
    elsewhere = make_branch(db)
    rm = make_user(db, Role.relationship_manager, (branch,))
    manager = make_user(db, Role.branch_manager, (branch,))
    ann = make_customer(db, signer, home_branch_id=branch.id, has_marketing_consent=True,
                        phone="+886912000201", full_name="林安")  # fmt: skip
    bob = make_customer(db, signer, home_branch_id=branch.id, has_marketing_consent=True,
                        preferred_locale="en", latin_name="LEE Bob", email="bob@example.com")  # fmt: skip
    cat = make_customer(db, signer, home_branch_id=branch.id, phone="+886912000203")  # no consent
    dan = make_customer(db, signer, home_branch_id=branch.id, has_marketing_consent=True,
                        phone="+886912000204")  # fmt: skip
    db.add(NotificationPreference(
        customer_id=dan.id, transaction_alerts_sms=True, transaction_alerts_email=False,
        appointment_reminders_sms=True, appointment_reminders_email=True,
        queue_come_back_sms=True, queue_come_back_email=False, greetings_sms=True,
        greetings_email=False, offers_sms=False, offers_email=False, updated_at=NOW,
    ))  # fmt: skip
    eve = make_customer(db, signer, home_branch_id=branch.id, has_marketing_consent=True)
    far = make_customer(db, signer, home_branch_id=elsewhere.id, has_marketing_consent=True,
                        phone="+886912000206")  # fmt: skip
    segment(db, [ann, bob, cat, dan, eve, far], "asset_tier", "affluent")
    segment(db, [ann], "asset_tier", "private")
    rm_auth, manager_auth = bearer(signer, rm), bearer(signer, manager)

    sizes = client.get(f"/api/v1/care/segments?branch_code={branch.code}", headers=rm_auth)
    assert sizes.json() == [
        {"kind": "asset_tier", "segment": "affluent", "customers": 5},
        {"kind": "asset_tier", "segment": "private", "customers": 1},
    ]
    for bad, field in (
        (body(branch.code, segment="nobody"), "segment"),
        (body(branch.code, text_en="{name} {balance}"), "text_en"),
        (body("NOPE"), "branch_code"),
        (body(branch.code, scheduled_at="2026-03-02T10:00:00"), "scheduled_at"),
    ):
        refused = client.post("/api/v1/care/campaigns", json=bad, headers=rm_auth)
        assert (refused.status_code, refused.json()["field"]) == (422, field)
    teller = make_user(db, Role.teller, (branch,))
    assert client.post("/api/v1/care/campaigns", json=body(branch.code),
                       headers=bearer(signer, teller)).status_code == 403  # fmt: skip
    assert db.scalar(select(func.count()).select_from(Campaign)) == 0

    made = client.post("/api/v1/care/campaigns", json=body(branch.code), headers=rm_auth)
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    assert made.json()["status"] == "draft"
    early = client.post(f"/api/v1/care/campaigns/{campaign_id}/approve", json={},
                        headers=manager_auth)  # fmt: skip
    assert early.status_code == 409
    submitted = client.post(f"/api/v1/care/campaigns/{campaign_id}/submit", headers=rm_auth)
    assert submitted.json()["status"] == "pending_approval"
    own = client.post("/api/v1/care/campaigns", json=body(branch.code), headers=manager_auth)
    client.post(f"/api/v1/care/campaigns/{own.json()['id']}/submit", headers=manager_auth)
    self_approval = client.post(f"/api/v1/care/campaigns/{own.json()['id']}/approve", json={},
                                headers=manager_auth)  # fmt: skip
    assert self_approval.status_code == 403
    held = db.get(Campaign, uuid.UUID(own.json()["id"]), populate_existing=True)
    assert held is not None
    assert held.status == "pending_approval"
    approved = client.post(f"/api/v1/care/campaigns/{campaign_id}/approve",
                           json={"note": "fine"}, headers=manager_auth)  # fmt: skip
    assert (approved.json()["status"], approved.json()["decided_by"]) == (
        "approved",
        manager.username,
    )

    assert send_due_campaigns(db, now=NOW + timedelta(hours=1)) == {}  # not yet due
    sent = send_due_campaigns(db, now=NOW + timedelta(hours=2))
    assert {str(k): v for k, v in sent.items()} == {
        campaign_id: {"sent": 2, "no_consent": 1, "opted_out": 1, "no_contact": 1}
    }
    assert send_due_campaigns(db, now=NOW + timedelta(hours=3)) == {}  # once
    assert db.scalar(select(func.count()).select_from(CampaignRecipient)) == 5
    read = client.get(f"/api/v1/care/campaigns/{campaign_id}", headers=rm_auth).json()
    assert (read["status"], read["targeted"], read["results"]) == (
        "sent",
        5,
        {"sent": 2, "no_consent": 1, "opted_out": 1, "no_contact": 1},
    )
    assert notifier.sent == []
    deliver_outbox(db, now=NOW + timedelta(hours=2))
    assert sorted((m.to_phone, m.to_email, m.text) for m in notifier.sent) == [
        ("", "bob@example.com", "LEE Bob, time deposit rates are up."),
        ("+886912000201", "", "林安，本週定存加息。"),
    ]
    del far
