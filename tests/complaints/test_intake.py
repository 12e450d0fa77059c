from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.complaints import service
from branchdesk.complaints.models import Case, TimelineEntry
from branchdesk.core.errors import RuleViolation
from tests.factories import make_branch

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_open_case_gives_a_yearly_reference_policy_and_timeline(db: Session) -> None:
    branch = make_branch(db, timezone="Asia/Shanghai")
    first = service.open_case(
        db,
        channel="counter",
        subject="Long wait",
        body="I waited 2 hours",
        branch_id=branch.id,
        now=NOW,
    )
    second = service.open_case(
        db, channel="phone", subject="Fee", body="Wrong fee", branch_id=branch.id, now=NOW
    )
    assert first.reference.startswith("CMP-2026-")
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1
    assert (first.state, first.jurisdiction, first.policy_code) == ("new", "CN", "cn-banking-2020")
    # 15 business days from Monday 2 March 2026 (no holidays) end on Monday 23 March, local midnight
    assert first.final_due_at == datetime(2026, 3, 23, 16, 0, tzinfo=UTC)
    entries = (
        db.execute(select(TimelineEntry).where(TimelineEntry.case_id == first.id)).scalars().all()
    )
    assert [e.kind for e in entries] == ["created"]


def test_open_case_is_idempotent_on_channel_and_source_ref(db: Session) -> None:
    branch = make_branch(db)
    one = service.open_case(
        db,
        channel="survey",
        subject="Detractor",
        body="NPS 2",
        branch_id=branch.id,
        now=NOW,
        source_ref="survey:abc",
    )
    again = service.open_case(
        db,
        channel="survey",
        subject="Detractor",
        body="NPS 2",
        branch_id=branch.id,
        now=NOW,
        source_ref="survey:abc",
    )
    assert again.id == one.id
    assert db.scalar(select(func.count()).select_from(Case).where(Case.branch_id == branch.id)) == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [("channel", {"channel": "fax"}), ("severity", {"severity": "huge"}), ("branch_id", {})],
)
def test_open_case_refuses_bad_input(db: Session, field: str, kwargs: dict[str, str]) -> None:
    branch = make_branch(db)
    values = {"channel": "web", "subject": "s", "body": "b", "branch_id": branch.id, "now": NOW}
    if field == "branch_id":
        values["branch_id"] = __import__("uuid").uuid4()
    values.update(kwargs)
    before = db.scalar(select(func.count()).select_from(Case))
    with pytest.raises(RuleViolation) as info:
        service.open_case(db, **values)  # type: ignore[arg-type]
    assert info.value.field == field
    assert db.scalar(select(func.count()).select_from(Case)) == before


def test_the_reference_year_is_the_branch_s_local_year(db: Session) -> None:
    branch = make_branch(db, timezone="Asia/Shanghai")
    new_year_eve_utc = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 2027 in Shanghai
    case = service.open_case(
        db, channel="phone", subject="s", body="b", branch_id=branch.id, now=new_year_eve_utc
    )
    assert case.reference.startswith("CMP-2027-")
