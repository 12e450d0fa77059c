from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog import service
from branchdesk.catalog.models import Counter, ServiceStandardVersion
from branchdesk.catalog.schemas import (
    BranchCreate,
    BranchServiceIn,
    CounterCreate,
    CounterUpdate,
    HolidayIn,
    OpeningHoursIn,
    ServiceTypeCreate,
    ServiceTypeUpdate,
)
from branchdesk.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from tests.factories import NOW, make_branch, make_counter, make_service_type, make_user, offer
from tests.factories import principal as principal_of
from tests.queue.sqlcount import count_statements


def test_admin_creates_a_branch_with_hours_and_a_duplicate_code_is_409(db: Session) -> None:
    admin = principal_of(db, make_user(db, Role.admin))
    data = BranchCreate(
        code="KHH01", name_zh_hant="高雄分行", name_zh_hans="高雄分行", name_en="Kaohsiung",
        timezone="Asia/Taipei",
        opening_hours=[OpeningHoursIn(weekday=0, opens_at=time(9), closes_at=time(15, 30))],
    )  # fmt: skip
    branch = service.create_branch(db, data=data, actor=admin, now=NOW)
    read = service.branch_read(db, branch)
    assert [(h.weekday, h.opens_at, h.closes_at) for h in read.opening_hours] == [
        (0, time(9), time(15, 30))
    ]
    with pytest.raises(Conflict):
        service.create_branch(db, data=data, actor=admin, now=NOW)


def test_branch_reads_give_each_branch_its_own_hours_in_one_query(db: Session) -> None:
    admin = principal_of(db, make_user(db, Role.admin))
    created = []
    for n, weekdays in enumerate(([1, 0], [], [4, 2, 3])):
        data = BranchCreate(
            code=f"RD{n:03d}", name_zh_hant="分行", name_zh_hans="分行", name_en=f"Branch {n}",
            timezone="Asia/Taipei",
            opening_hours=[
                OpeningHoursIn(weekday=d, opens_at=time(9 + n), closes_at=time(15))
                for d in weekdays
            ],
        )  # fmt: skip
        created.append(service.create_branch(db, data=data, actor=admin, now=NOW))
    with count_statements(db.connection()) as statements:
        reads = service.branch_reads(db, list(reversed(created)))
    assert len(statements) == 1
    assert [r.code for r in reads] == ["RD002", "RD001", "RD000"]
    assert [[(h.weekday, h.opens_at) for h in r.opening_hours] for r in reads] == [
        [(2, time(11)), (3, time(11)), (4, time(11))],
        [],
        [(0, time(9)), (1, time(9))],
    ]
    assert service.branch_reads(db, []) == []


def test_bad_time_zone_and_hours_are_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BranchCreate(
            code="X1", name_zh_hant="a", name_zh_hans="a", name_en="a", timezone="Mars/Base"
        )
    with pytest.raises(ValueError, match="closes_at must be after opens_at"):
        OpeningHoursIn(weekday=1, opens_at=time(17), closes_at=time(9))


def test_manager_manages_counters_only_in_their_branch(db: Session) -> None:
    mine, other = make_branch(db), make_branch(db)
    cash = make_service_type(db, code="CASHX", ticket_prefix="Q")
    loan = make_service_type(db, code="LOANX", ticket_prefix="R")
    offer(db, mine, cash)
    manager = principal_of(db, make_user(db, Role.branch_manager, (mine,)))
    created = service.create_counter(
        db, code=mine.code, data=CounterCreate(code="W1", name="Window 1", service_codes=["cashx"]),
        actor=manager, now=NOW,
    )  # fmt: skip
    assert (created.code, created.status, created.service_codes) == ("W1", "closed", ["CASHX"])
    with pytest.raises(RuleViolation) as not_offered:
        service.update_counter(
            db, code=mine.code, counter_code="W1",
            data=CounterUpdate(service_codes=["CASHX", "LOANX"]), actor=manager, now=NOW,
        )  # fmt: skip
    assert not_offered.value.field == "service_codes"
    assert (
        loan.code not in service.list_counters(db, code=mine.code, actor=manager)[0].service_codes
    )
    before = db.execute(select(func.count()).select_from(Counter)).scalar_one()
    with pytest.raises(Forbidden):
        service.create_counter(
            db, code=other.code, data=CounterCreate(code="W9", name="x"), actor=manager, now=NOW
        )
    assert db.execute(select(func.count()).select_from(Counter)).scalar_one() == before
    with pytest.raises(NotFound):
        service.get_branch(db, code="NOPE", actor=manager)
    opened = service.update_counter(
        db, code=mine.code, counter_code="w1", data=CounterUpdate(status="open"),  # type: ignore[arg-type]
        actor=manager, now=NOW,
    )  # fmt: skip
    assert opened.status == "open"


def test_teller_cannot_change_a_counter(db: Session) -> None:
    branch = make_branch(db)
    make_counter(db, branch, code="T1")
    teller = principal_of(db, make_user(db, Role.teller, (branch,)))
    with pytest.raises(Forbidden):
        service.update_counter(
            db, code=branch.code, counter_code="T1", data=CounterUpdate(name="mine"),
            actor=teller, now=NOW,
        )  # fmt: skip


def test_service_standard_changes_are_versioned_with_who_and_when(db: Session) -> None:
    admin_user = make_user(db, Role.admin, username="std.admin")
    admin = principal_of(db, admin_user)
    created = service.create_service_type(
        db,
        data=ServiceTypeCreate(
            code="FXS", name_zh_hant="外幣", name_zh_hans="外币", name_en="FX", ticket_prefix="X",
            standard_handling_minutes=6, target_max_wait_minutes=15,
            required_documents=["ID", " ", "Form A"], script="v1",
        ),
        actor=admin, now=NOW,
    )  # fmt: skip
    assert created.required_documents == ["ID", "Form A"]
    service.update_service_type(
        db, code="FXS", data=ServiceTypeUpdate(script="v2", change_note="new greeting"),
        actor=admin, now=NOW,
    )  # fmt: skip
    service.update_service_type(
        db, code="FXS", data=ServiceTypeUpdate(name_en="Foreign exchange"), actor=admin, now=NOW
    )
    versions = service.list_standard_versions(db, code="FXS", actor=admin)
    assert [(v.version, v.script, v.change_note, v.changed_by) for v in versions] == [
        (2, "v2", "new greeting", "std.admin (admin)"),
        (1, "v1", "created", "std.admin (admin)"),
    ]
    assert created.current_version == 2
    assert created.name_en == "Foreign exchange"
    count = db.execute(
        select(func.count()).select_from(ServiceStandardVersion)
        .where(ServiceStandardVersion.service_type_id == created.id)
    ).scalar_one()  # fmt: skip
    assert count == 2
    with pytest.raises(Conflict) as prefix:
        service.create_service_type(
            db,
            data=ServiceTypeCreate(
                code="FXT", name_zh_hant="a", name_zh_hans="a", name_en="a", ticket_prefix="X",
                standard_handling_minutes=1, target_max_wait_minutes=1,
            ),
            actor=admin, now=NOW,
        )  # fmt: skip
    assert prefix.value.field == "ticket_prefix"


def test_withdrawing_a_service_still_served_by_a_counter_is_409(db: Session) -> None:
    branch = make_branch(db)
    cash = make_service_type(db)
    offer(db, branch, cash)
    make_counter(db, branch, cash, code="S1")
    manager = principal_of(db, make_user(db, Role.branch_manager, (branch,)))
    with pytest.raises(Conflict) as busy:
        service.set_branch_service(
            db, code=branch.code, service_code=cash.code, data=BranchServiceIn(is_enabled=False),
            actor=manager, now=NOW,
        )  # fmt: skip
    assert "S1" in busy.value.detail
    local = service.set_branch_service(
        db, code=branch.code, service_code=cash.code,
        data=BranchServiceIn(is_enabled=True, target_max_wait_minutes=8), actor=manager, now=NOW,
    )  # fmt: skip
    assert (local.is_enabled, local.target_max_wait_minutes, local.has_local_target) == (
        True,
        8,
        True,
    )


def test_holidays_feed_business_day_calendars(db: Session) -> None:
    branch = make_branch(db)
    manager = principal_of(db, make_user(db, Role.branch_manager, (branch,)))
    service.add_holiday(
        db, code=branch.code, data=HolidayIn(on=date(2026, 10, 10), name="國慶日"),
        actor=manager, now=NOW,
    )  # fmt: skip
    with pytest.raises(Conflict):
        service.add_holiday(
            db, code=branch.code, data=HolidayIn(on=date(2026, 10, 10), name="again"),
            actor=manager, now=NOW,
        )  # fmt: skip
    assert service.holidays_between(
        db, branch_id=branch.id, start=date(2026, 10, 1), end=date(2026, 10, 31)
    ) == {date(2026, 10, 10)}
    actions = db.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
    assert actions[-1] == "branch.holiday_add"


def test_the_latest_business_day_is_the_newest_local_date_of_any_branch(db: Session) -> None:
    from datetime import UTC, datetime

    evening_utc = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # 00:30 on the 30th in Taipei
    assert service.latest_business_day(db, evening_utc) == date(2026, 11, 29)  # no branch yet
    make_branch(db, code="LON01", timezone="Europe/London")
    assert service.latest_business_day(db, evening_utc) == date(2026, 11, 29)
    make_branch(db, code="TPE09", timezone="Asia/Taipei")
    assert service.latest_business_day(db, evening_utc) == date(2026, 11, 30)
    morning_utc = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert service.latest_business_day(db, morning_utc) == date(2026, 11, 29)
