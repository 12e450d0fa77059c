"""The JSON API: open, transitions (409 with nothing changed), extension approval, actions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints.models import Case, TimelineEntry
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from tests.complaints.helpers import count
from tests.factories import (
    bearer,
    make_branch,
    make_customer,
    make_service_type,
    make_ticket,
    make_user,
)


def test_counter_complaint_through_acknowledge_extension_and_closure(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="SHA9", timezone="Asia/Shanghai")
    teller = make_user(db, Role.teller, (branch,))
    manager = make_user(db, Role.branch_manager, (branch,))
    customer = make_customer(db, signer, email="li@example.com")
    created = client.post(
        "/api/v1/complaints",
        json={"branch_code": "SHA9", "channel": "counter", "subject": "Queue",
              "body": "Waited 90 minutes", "customer_number": customer.customer_number},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    case = created.json()["case"]
    ref = case["reference"]
    assert (case["state"], case["policy_code"], case["allowed_actions"]) == (
        "new", "cn-banking-2020", ["acknowledge"],
    )  # fmt: skip
    assert case["customer_id"] == str(customer.id)

    refused = client.post(
        f"/api/v1/complaints/{ref}/transitions", json={"action": "close"},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert (refused.status_code, refused.json()["error"]) == (409, "transition_refused")
    row = db.execute(select(Case).where(Case.reference == ref)).scalar_one()
    db.refresh(row)
    assert row.state == "new"
    assert count(db, TimelineEntry, TimelineEntry.case_id == row.id) == 1
    assert db.execute(
        select(AuditEntry.outcome).where(
            AuditEntry.object_id == ref, AuditEntry.action == "complaint.close"
        )
    ).scalars().all() == ["refused"]

    ack = client.post(
        f"/api/v1/complaints/{ref}/transitions", json={"action": "acknowledge"},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert ack.json()["case"]["state"] == "acknowledged"
    asked = client.post(
        f"/api/v1/complaints/{ref}/extensions", json={"total_days": 45, "reason": "Card network"},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    extension_id = asked.json()["extensions"][0]["id"]
    by_teller = client.post(
        f"/api/v1/complaints/{ref}/extensions/{extension_id}/decision", json={"approve": True},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert by_teller.status_code == 403
    approved = client.post(
        f"/api/v1/complaints/{ref}/extensions/{extension_id}/decision", json={"approve": True},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["case"]["extended_final_days"] == 45
    assert body["extensions"][0]["status"] == "approved"
    assert body["extensions"][0]["customer_notified_at"] is not None
    for action, extra in (("start", {}), ("resolve", {"root_cause": "Staffing"}), ("close", {})):
        step = client.post(
            f"/api/v1/complaints/{ref}/transitions", json={"action": action, **extra},
            headers=bearer(signer, teller),
        )  # fmt: skip
        assert step.status_code == 200, step.text
    final = client.get(f"/api/v1/complaints/{ref}", headers=bearer(signer, teller)).json()
    assert final["case"]["state"] == "closed"
    assert final["case"]["root_cause"] == "Staffing"
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds.count("extension_decided") == 1
    listed = client.get("/api/v1/complaints?state=closed", headers=bearer(signer, teller)).json()
    assert [c["reference"] for c in listed] == [ref]


def test_list_filters_and_branch_scope(client: TestClient, db: Session, signer: Signer) -> None:
    mine = make_branch(db, code="MINE")
    other = make_branch(db, code="OTHR")
    teller = make_user(db, Role.teller, (mine,))
    admin = make_user(db, Role.admin)
    for code in ("MINE", "OTHR"):
        response = client.post(
            "/api/v1/complaints", json={"branch_code": code, "body": "x", "channel": "phone"},
            headers=bearer(signer, admin),
        )  # fmt: skip
        assert response.status_code == 201
    seen = client.get("/api/v1/complaints", headers=bearer(signer, teller)).json()
    assert {c["branch_id"] for c in seen} == {str(mine.id)}
    assert (
        client.get(
            "/api/v1/complaints?branch_code=OTHR", headers=bearer(signer, teller)
        ).status_code
        == 403
    )
    assert client.get("/api/v1/complaints?channel=web", headers=bearer(signer, admin)).json() == []
    assert (
        len(client.get("/api/v1/complaints?overdue=true", headers=bearer(signer, admin)).json())
        == 0
    )
    refused = client.post(
        "/api/v1/complaints",
        json={"branch_code": "OTHR", "body": "x"},
        headers=bearer(signer, teller),
    )
    assert refused.status_code == 403
    assert other.id != mine.id


def test_improvement_action_from_a_case_with_measured_effect(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="IMP1")
    manager = make_user(db, Role.branch_manager, (branch,), username="imp.manager")
    created = client.post(
        "/api/v1/complaints", json={"branch_code": "IMP1", "body": "Long queue"},
        headers=bearer(signer, manager),
    ).json()  # fmt: skip
    ref = created["case"]["reference"]
    action = client.post(
        "/api/v1/improvement-actions",
        json={"title": "Open a third counter at noon", "owner": "imp.manager", "due_on": "2026-06-30",
              "kpi": "share of waits under 15 min (%)", "case_reference": ref, "baseline_value": 62.5},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert action.status_code == 201, action.text
    action_id = action.json()["id"]
    not_yet = client.patch(
        f"/api/v1/improvement-actions/{action_id}", json={"status": "done"},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert (not_yet.status_code, not_yet.json()["field"]) == (422, "measured_value")
    done = client.patch(
        f"/api/v1/improvement-actions/{action_id}", json={"status": "done", "measured_value": 80},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert done.json()["effect"] == 17.5
    assert done.json()["case_reference"] == ref
    no_topic = client.post(
        "/api/v1/improvement-actions",
        json={"title": "t", "owner": "imp.manager", "due_on": "2026-06-30", "kpi": "k"},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert (no_topic.status_code, no_topic.json()["field"]) == (422, "topic")


def test_related_ticket_must_exist_at_the_branch(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="REL1")
    teller = make_user(db, Role.teller, (branch,))
    before = count(db, Case)
    for field in ("related_ticket_id", "related_posting_id"):
        response = client.post(
            "/api/v1/complaints",
            json={
                "branch_code": "REL1",
                "body": "x",
                field: "00000000-0000-4000-8000-000000000001",
            },
            headers=bearer(signer, teller),
        )
        assert (response.status_code, response.json()["field"]) == (422, field)
    assert count(db, Case) == before
    ticket = make_ticket(db, branch, make_service_type(db))
    linked = client.post(
        "/api/v1/complaints",
        json={"branch_code": "REL1", "body": "x", "related_ticket_id": str(ticket.id)},
        headers=bearer(signer, teller),
    )
    assert linked.status_code == 201
    assert linked.json()["case"]["related_ticket_id"] == str(ticket.id)


def test_nul_in_lookups_is_a_miss_not_an_error(
    client: TestClient, db: Session, signer: Signer
) -> None:
    admin = make_user(db, Role.admin)
    assert client.get("/api/v1/complaints/CMP%00", headers=bearer(signer, admin)).status_code == 404
    listed = client.get(
        "/api/v1/complaints?state=new%00&channel=%00", headers=bearer(signer, admin)
    )
    assert (listed.status_code, listed.json()) == (200, [])
    created = client.post(
        "/api/v1/complaints", json={"branch_code": "\u0000", "body": "x"},
        headers=bearer(signer, admin),
    )  # fmt: skip
    assert (created.status_code, created.json()["field"]) == (422, "branch_code")


def test_policies_are_listed_and_a_branch_can_switch_jurisdiction(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="JUR1", timezone="Asia/Shanghai")
    manager = make_user(db, Role.branch_manager, (branch,))
    teller = make_user(db, Role.teller, (branch,))
    policies = client.get("/api/v1/complaint-policies", headers=bearer(signer, teller)).json()
    finals = {
        p["jurisdiction"]: (p["rules"][0]["final"]["days"], p["rules"][0]["final"]["unit"])
        for p in policies
    }
    assert finals == {"CN": (15, "business"), "UK": (56, "calendar"), "HK": (30, "calendar")}
    refused = client.put(
        "/api/v1/branches/JUR1/complaint-jurisdiction", json={"jurisdiction": "HK"},
        headers=bearer(signer, teller),
    )  # fmt: skip
    assert refused.status_code == 403
    unknown = client.put(
        "/api/v1/branches/JUR1/complaint-jurisdiction", json={"jurisdiction": "FR"},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert (unknown.status_code, unknown.json()["field"]) == (422, "jurisdiction")
    switched = client.put(
        "/api/v1/branches/JUR1/complaint-jurisdiction", json={"jurisdiction": "hk"},
        headers=bearer(signer, manager),
    )  # fmt: skip
    assert switched.json() == {
        "branch_code": "JUR1",
        "jurisdiction": "HK",
        "policy_code": "hk-30-days",
    }
    case = client.post(
        "/api/v1/complaints",
        json={"branch_code": "JUR1", "body": "x"},
        headers=bearer(signer, teller),
    ).json()["case"]
    assert (case["jurisdiction"], case["policy_code"]) == ("HK", "hk-30-days")
