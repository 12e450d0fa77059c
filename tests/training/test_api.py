"""Training over HTTP: exact answers, refusals with nothing changed, the counter's services."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.training.models import Course, StaffCertification
from tests.factories import bearer, make_user
from tests.training.helpers import World, count

COURSE = {
    "code": "svc-101", "category": "service_awareness", "title_zh_hant": "服務意識",
    "title_zh_hans": "服务意识", "title_en": "Service awareness", "pass_mark": 75,
}  # fmt: skip


def test_course_create_duplicate_and_bad_input(
    client: TestClient, db: Session, signer: Signer
) -> None:
    officer = make_user(db, Role.compliance_officer)
    auth = bearer(signer, officer)
    made = client.post("/api/v1/training/courses", json=COURSE, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["code"] == "SVC-101"
    assert made.json()["is_annual"] is False
    before = (count(db, Course), count(db, AuditEntry))
    again = client.post("/api/v1/training/courses", json=COURSE, headers=auth)
    assert again.status_code == 409
    assert again.json()["error"] == "duplicate_code"
    bad = client.post("/api/v1/training/courses", json={**COURSE, "code": "X2", "pass_mark": 101},
                      headers=auth)  # fmt: skip
    assert bad.status_code == 422
    unknown = client.post(
        "/api/v1/training/assignments",
        json={"course_code": "NOPE", "role": "teller", "due_on": "2026-12-31"}, headers=auth,
    )  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "course_code"
    assert (count(db, Course), count(db, AuditEntry)) == before
    listed = client.get("/api/v1/training/courses", headers=auth).json()
    assert [c["code"] for c in listed] == ["SVC-101"]


def test_counter_loses_fx_when_the_tellers_certification_expired(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = World(db)
    today = utcnow().date()
    w.grant(date(today.year - 2, 1, 1), date(today.year - 1, 1, 1))  # long expired
    url = f"/api/v1/branches/{w.branch.code}/counters/{w.counter.code}/certified-services"
    auth = bearer(signer, w.teller_user)
    answer = client.get(url, headers=auth)
    assert answer.status_code == 200
    assert answer.json() == {
        "counter_code": w.counter.code, "staffed_by": w.teller_user.username,
        "counter_services": sorted([w.cash.code, w.fx.code]), "served_services": [w.cash.code],
        "removed": [w.fx.code],
    }  # fmt: skip
    manager = bearer(signer, make_user(db, Role.branch_manager, (w.branch,)))
    granted = client.post(
        "/api/v1/training/staff-certifications",
        json={"username": w.teller_user.username, "certification_code": w.cert_code,
              "issued_on": today.isoformat()},
        headers=manager,
    )  # fmt: skip
    assert granted.status_code == 201, granted.text
    assert client.get(url, headers=auth).json()["removed"] == []
    matrix = client.get(f"/api/v1/branches/{w.branch.code}/training/skills-matrix", headers=manager)
    row = next(r for r in matrix.json() if r["username"] == w.teller_user.username)
    assert [c["is_valid"] for c in row["certifications"]] == [True]


def test_grant_to_unknown_person_changes_nothing(
    client: TestClient, db: Session, signer: Signer
) -> None:
    w = World(db)
    manager = bearer(signer, make_user(db, Role.branch_manager, (w.branch,)))
    before = (count(db, StaffCertification), count(db, AuditEntry))
    answer = client.post(
        "/api/v1/training/staff-certifications",
        json={"username": "nobody.here", "certification_code": w.cert_code,
              "issued_on": "2026-01-01"},
        headers=manager,
    )  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["field"] == "username"
    assert (count(db, StaffCertification), count(db, AuditEntry)) == before
