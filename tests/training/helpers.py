"""A small branch for the training tests: cash (no certification) and FX (needs certification FX)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter, CounterStatus, ServiceType
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.training import service
from branchdesk.training.schemas import (
    CertificationCreate,
    CourseCreate,
    StaffCertificationCreate,
)
from tests.factories import NOW, make_branch, make_counter, make_service_type, make_user, offer
from tests.factories import principal as principal_of


def count(db: Session, model: type) -> int:
    return int(db.execute(select(func.count()).select_from(model)).scalar_one())


class World:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.branch: Branch = make_branch(db)
        self.cash: ServiceType = make_service_type(db)
        self.fx: ServiceType = make_service_type(db)
        offer(db, self.branch, self.cash, self.fx)
        self.teller_user: User = make_user(db, Role.teller, (self.branch,))
        self.counter: Counter = make_counter(
            db, self.branch, self.cash, self.fx, status=CounterStatus.open,
            staffed_by_id=self.teller_user.id,
        )  # fmt: skip
        self.officer: Principal = principal_of(
            db, make_user(db, Role.compliance_officer, (self.branch,))
        )
        self.manager: Principal = principal_of(
            db, make_user(db, Role.branch_manager, (self.branch,))
        )
        self.cert_code = f"C{self.fx.code}"[:32]
        service.create_certification(
            db,
            body=CertificationCreate(
                code=self.cert_code, name_zh_hant="外匯", name_zh_hans="外汇", name_en="FX",
                service_code=self.fx.code, validity_months=12,
            ),
            actor=self.officer, now=NOW,
        )  # fmt: skip

    def grant(
        self, issued_on: date, expires_on: date | None = None, user: User | None = None
    ) -> None:
        service.grant_certification(
            self.db,
            body=StaffCertificationCreate(
                username=(user or self.teller_user).username, certification_code=self.cert_code,
                issued_on=issued_on, expires_on=expires_on,
            ),
            actor=self.manager, now=NOW,
        )  # fmt: skip

    def course(self, code: str, *, pass_mark: int = 70, is_annual: bool = True) -> None:
        service.create_course(
            self.db,
            body=CourseCreate(
                code=code, category="compliance", title_zh_hant="年度合規", title_zh_hans="年度合规",  # type: ignore[arg-type]
                title_en="Annual compliance", pass_mark=pass_mark, is_annual=is_annual,
            ),
            actor=self.officer, now=NOW,
        )  # fmt: skip
