"""The issue's demo path: a complaint from the social webhook runs through acknowledge,
extension approval and closure, with its SLA clock correct across a holiday."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Holiday
from branchdesk.complaints import service
from branchdesk.complaints.models import Case
from branchdesk.complaints.settings import hook_secret, sign
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.conftest import TEST_SECRET
from tests.factories import bearer, make_branch, make_user


def test_social_complaint_acknowledged_extended_and_closed_across_a_holiday(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db, code="SZX1", timezone="Asia/Shanghai")
    teller = make_user(db, Role.teller, (branch,))
    manager = make_user(db, Role.branch_manager, (branch,))
    payload = {
        "delivery_id": "ev-1",
        "sender": {"id": "wx-9"},
        "text": "转账失败",
        "branch_code": "SZX1",
    }
    body = json.dumps(payload).encode()
    signature = sign(body, hook_secret("social_generic", app_secret=TEST_SECRET))
    hooked = client.post(
        "/hooks/social/generic", content=body, headers={"x-branchdesk-signature": signature}
    )
    assert hooked.status_code == 200, hooked.text
    ref = hooked.json()["references"][0]
    case = db.execute(select(Case).where(Case.reference == ref)).scalar_one()
    received_local = case.received_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    # a public holiday on the first business day after receipt
    holiday = received_local
    while True:
        holiday = date.fromordinal(holiday.toordinal() + 1)
        if holiday.weekday() < 5:
            break
    db.add(Holiday(id=new_id(), branch_id=branch.id, on=holiday, name="Public holiday"))
    db.flush()

    def call(path: str, body: dict[str, Any], user: Any = teller) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/complaints/{ref}{path}", json=body, headers=bearer(signer, user)
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    call("/transitions", {"action": "acknowledge"})
    asked = call("/extensions", {"total_days": 60, "reason": "Interbank investigation"})
    decided = call(
        f"/extensions/{asked['extensions'][0]['id']}/decision", {"approve": True}, manager
    )
    due = datetime.fromisoformat(decided["case"]["final_due_at"])
    # 60 business days after receipt, skipping weekends and the holiday
    day, used = received_local, 0
    while used < 60:
        day = date.fromordinal(day.toordinal() + 1)
        if day.weekday() < 5 and day != holiday:
            used += 1
    expected = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert due == expected.astimezone(UTC) + timedelta(days=1)
    call("/transitions", {"action": "start"})
    call("/transitions", {"action": "resolve", "root_cause": "Beneficiary bank outage"})
    closed = call("/transitions", {"action": "close"})
    assert closed["case"]["state"] == "closed"
    kinds = [e["kind"] for e in closed["timeline"]]
    assert kinds[0] == "created"
    assert kinds.count("extension_decided") == 1
    assert any(e["data"].get("notice") == "extension" for e in closed["timeline"])


def test_a_failing_classifier_never_loses_a_complaint(db: Session) -> None:
    def broken(_text: str) -> Any:
        raise RuntimeError("model file missing")

    service.set_classifier(broken)
    branch = make_branch(db)
    case = service.open_case(
        db, channel="web", subject="排隊", body="我在分行排隊等了兩個小時",
        branch_id=branch.id, now=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
    )  # fmt: skip
    assert (case.state, case.predicted_category, case.category) == ("new", None, None)
