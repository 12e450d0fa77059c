"""Follow-up visits after events: one task per event for the customer's relationship manager,
in the worklist (mine / branch), done with an outcome once; refusals change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CareTask
from branchdesk.care.service.followups import make_follow_ups
from branchdesk.care.service.worklist import complete_task, worklist
from branchdesk.core.errors import Conflict, NotFound
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.loans import service as loans
from tests.factories import NOW, bearer, make_branch, make_customer, make_user, principal
from tests.loans.helpers import ALLOW, GOOD, application_body, key, make_world

LATER = NOW + timedelta(days=1)


def test_events_make_one_task_each_for_the_relationship_manager(
    db: Session, signer: Signer, client: TestClient
) -> None:
    world = make_world(db, signer)  # account opened at NOW with CNY 10,000.00 (not big)
    rm = make_user(db, Role.relationship_manager, (world.branch,))
    world.customer.relationship_manager_id = rm.id
    ledger.post_deposit(
        db, account=world.account.number, amount_minor=15_000_000, currency="CNY",
        idempotency_key=key("big"), actor=world.teller, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    application, _ = loans.create_application(
        db, data=application_body(world, GOOD), actor=world.teller, now=NOW
    )
    loan, _ = loans.disburse(
        db, application_id=application.id, account=world.account.number,
        idempotency_key=key("dis"), actor=world.teller, now=NOW, compliance=ALLOW,
    )  # fmt: skip
    # another customer of the branch without a manager: a branch task, not in the RM's list
    walk_in = make_customer(db, signer, home_branch_id=world.branch.id)
    other_account = ledger.open_account(
        db, data=ledger_open(walk_in.customer_number, world.branch.code), actor=world.teller,
        now=NOW,
    )  # fmt: skip

    assert make_follow_ups(db, now=LATER) == 4
    tasks = {
        (t.rule_code, t.customer_id): t
        for t in db.execute(select(CareTask).order_by(CareTask.dedupe_key)).scalars()
    }
    assert sorted(
        (rule, t.due_on, t.assignee_id == rm.id, t.run_id) for (rule, _c), t in tasks.items()
    ) == [
        ("account_opened", date(2026, 3, 9), False, None),
        ("account_opened", date(2026, 3, 9), True, None),
        ("big_deposit", date(2026, 3, 5), True, None),
        ("loan_disbursed", date(2026, 4, 1), True, None),
    ]
    assert tasks[("account_opened", walk_in.id)].assignee_id is None
    assert tasks[("big_deposit", world.customer.id)].detail == (
        f"deposit of CNY 150,000.00 to {world.account.number}"
    )
    assert tasks[("loan_disbursed", world.customer.id)].detail == f"loan {loan.number} disbursed"
    assert make_follow_ups(db, now=LATER + timedelta(hours=1)) == 0  # once per event

    mine = worklist(db, actor=principal(db, rm), today=date(2026, 3, 6))
    assert [(t.rule_code, t.is_overdue, t.assignee) for t in mine] == [
        ("big_deposit", True, rm.username),
        ("account_opened", False, rm.username),
        ("loan_disbursed", False, rm.username),
    ]
    branch = worklist(db, actor=principal(db, rm), today=date(2026, 3, 6), scope="branch")
    assert len(branch) == 4
    assert other_account.number in {t.detail.split()[2] for t in branch}

    outsider = principal(db, make_user(db, Role.relationship_manager, (make_branch(db),)))
    task = mine[0]
    with pytest.raises(NotFound):
        complete_task(db, task_id=task.id, outcome="reached", note="", actor=outsider, now=LATER)
    assert db.get(CareTask, task.id).status == "open"  # type: ignore[union-attr]

    headers = bearer(signer, rm)
    bad = client.post(f"/api/v1/care/tasks/{task.id}/done", json={"outcome": "maybe"},
                      headers=headers)  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["field"] == "outcome"
    assert db.get(CareTask, task.id).status == "open"  # type: ignore[union-attr]
    done = client.post(f"/api/v1/care/tasks/{task.id}/done",
                       json={"outcome": "visited", "note": "moved funds to a time deposit"},
                       headers=headers)  # fmt: skip
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"], done.json()["outcome_note"]) == (
        "done",
        "visited",
        "moved funds to a time deposit",
    )
    again = client.post(f"/api/v1/care/tasks/{task.id}/done", json={"outcome": "reached"},
                        headers=headers)  # fmt: skip
    assert again.status_code == 409
    row = db.get(CareTask, task.id, populate_existing=True)
    assert row is not None
    assert (row.outcome, row.completed_by_id) == ("visited", rm.id)
    audits = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "care_task.complete", AuditEntry.object_id == str(task.id))
    )
    assert audits == 1
    listed = client.get("/api/v1/care/worklist?status=done", headers=headers)
    assert [t["id"] for t in listed.json()] == [str(task.id)]
    with pytest.raises(Conflict):
        complete_task(db, task_id=task.id, outcome="reached", note="", actor=principal(db, rm),
                      now=LATER)  # fmt: skip


def ledger_open(customer_number: str, branch_code: str) -> object:
    from branchdesk.ledger.schemas import AccountOpen

    return AccountOpen(customer_number=customer_number, currency="CNY", branch_code=branch_code)


def test_worklist_page_marks_a_task_done(db: Session, signer: Signer, client: TestClient) -> None:
    from tests.factories import browser_session

    world = make_world(db, signer, funds_minor=0)
    rm = make_user(db, Role.relationship_manager, (world.branch,))
    world.customer.relationship_manager_id = rm.id
    make_follow_ups(db, now=LATER)
    cookie, csrf = browser_session(signer, rm)
    client.cookies.set("bd_session", cookie)
    client.cookies.set("bd_lang", "zh-Hant")
    page = client.get("/care/worklist")
    assert page.status_code == 200
    assert "開戶回訪" in page.text
    assert world.customer.customer_number in page.text
    task = db.execute(select(CareTask)).scalar_one()
    posted = client.post(f"/care/tasks/{task.id}/done",
                         data={"csrf_token": csrf, "outcome": "reached", "note": "ok"},
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303
    assert db.get(CareTask, task.id, populate_existing=True).outcome == "reached"  # type: ignore[union-attr]
    done = client.get("/care/worklist?status=done")
    assert "已聯絡" in done.text
