"""Concurrent portal transfers of one customer cannot both squeeze under the daily limit
(PostgreSQL: the login row is locked; SQLite has one writer anyway)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import Account
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.portal import service
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import PortalLogin
from branchdesk.portal.service.common import customer_principal
from tests.concurrency import race
from tests.factories import NOW, make_branch, make_customer, make_user, principal

THREADS = 6


@pytest.mark.postgres
def test_concurrent_transfers_respect_the_daily_limit(database: Database, signer: Signer) -> None:
    run = uuid.uuid4().hex[:6].upper()
    settings = PortalSettings(daily_transfer_limit_minor=100_000)
    with database.unit_of_work() as db:
        branch = make_branch(db, code=f"P{run}")
        teller = principal(db, make_user(db, Role.teller, (branch,), username=f"portal.{run}"))
        customer = make_customer(db, signer, home_branch_id=branch.id, phone="+886900000001")
        payee = make_customer(db, signer, home_branch_id=branch.id)
        numbers = []
        for holder in (customer, payee):
            account = ledger.open_account(
                db, data=AccountOpen(customer_number=holder.customer_number, currency="CNY",
                                     branch_code=branch.code), actor=teller, now=NOW,
            )  # fmt: skip
            numbers.append(account.number)
        ledger.post_deposit(
            db, account=numbers[0], amount_minor=1_000_000, currency="CNY",
            idempotency_key=f"portal-conc-{run}", actor=teller, now=NOW, compliance=AllowAll(),
        )  # fmt: skip
        service.enrol(
            db, customer_number=customer.customer_number, actor=None, signer=signer,
            settings=settings, now=NOW, password="concurrent-pass-1",
        )  # fmt: skip
        login = db.execute(
            select(PortalLogin).where(PortalLogin.customer_id == customer.id)
        ).scalar_one()
        acting = customer_principal(customer, login)

    def pay(worker: int) -> Callable[[], object]:
        def call() -> object:
            with database.unit_of_work() as db:
                return service.make_transfer(
                    db, customer=acting, from_account=numbers[0], to_account=numbers[1],
                    amount_minor=30_000, currency="CNY", idempotency_key=f"{run}-{worker}",
                    memo="", now=utcnow(), compliance=AllowAll(), settings=settings,
                )  # fmt: skip

        return call

    outcomes = race([pay(n) for n in range(THREADS)], ok="posted")
    assert outcomes == ["daily_limit_exceeded"] * 3 + ["posted"] * 3
    with database.unit_of_work() as db:
        balances = [
            db.execute(select(Account.balance_minor).where(Account.number == n)).scalar_one()
            for n in numbers
        ]
    assert balances == [910_000, 90_000]
