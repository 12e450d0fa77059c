"""The care-task worklist: branch scope, completing (audited), refusals change nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.analytics.models import CareTask
from branchdesk.analytics.pipeline import run_pipeline
from branchdesk.core.errors import Conflict, NotFound
from branchdesk.core.security import Signer
from branchdesk.crm.service import complete_care_task, list_care_tasks
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from tests.analytics.bank import AS_OF, build_bank
from tests.factories import NOW, bearer, make_branch, make_user, principal


def test_worklist_is_scoped_and_a_task_is_done_once(db: Session, signer: Signer) -> None:
    bank = build_bank(db, signer)
    run_pipeline(db, engine_name="duckdb", as_of=AS_OF, now=NOW, branch_ids=[bank.branch.id])
    manager = make_user(db, Role.relationship_manager, (bank.branch,))
    tasks = list_care_tasks(db, actor=principal(db, manager))
    assert [(t.rule_code, t.customer_number) for t in tasks] == [
        ("detractor", bank.hk.customer_number),
        ("birthday", bank.new.customer_number),
        ("complaint_closed", bank.new.customer_number),
        ("id_expiring", bank.new.customer_number),
        ("dormant", bank.hk.customer_number),
    ]
    outsider = make_user(db, Role.relationship_manager, (make_branch(db),))
    assert list_care_tasks(db, actor=principal(db, outsider)) == []
    first = tasks[0]
    with pytest.raises(NotFound):
        complete_care_task(db, task_id=first.id, actor=principal(db, outsider), now=NOW)
    assert db.get(CareTask, first.id).status == "open"  # type: ignore[union-attr]
    done = complete_care_task(db, task_id=first.id, actor=principal(db, manager), now=NOW)
    assert done.status == "done"
    audits = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "care_task.complete", AuditEntry.object_id == str(first.id))
    )
    assert audits == 1
    with pytest.raises(Conflict):
        complete_care_task(db, task_id=first.id, actor=principal(db, manager), now=NOW)
    still_open = list_care_tasks(db, actor=principal(db, manager))
    assert [t.rule_code for t in still_open][:1] == ["birthday"]
    assert [t.id for t in list_care_tasks(db, actor=principal(db, manager), status="done")] == [
        first.id
    ]


def test_care_task_api(client: TestClient, db: Session, signer: Signer) -> None:
    bank = build_bank(db, signer)
    run_pipeline(db, engine_name="duckdb", as_of=AS_OF, now=NOW, branch_ids=[bank.branch.id])
    teller = make_user(db, Role.teller, (bank.branch,))
    listed = client.get("/api/v1/care-tasks", headers=bearer(signer, teller))
    assert listed.status_code == 200
    assert len(listed.json()) == 5
    task_id = listed.json()[0]["id"]
    done = client.post(f"/api/v1/care-tasks/{task_id}/done", headers=bearer(signer, teller))
    assert done.status_code == 200
    again = client.post(f"/api/v1/care-tasks/{task_id}/done", headers=bearer(signer, teller))
    assert again.status_code == 409
    bad = client.get("/api/v1/care-tasks?status=later", headers=bearer(signer, teller))
    assert bad.status_code == 422
