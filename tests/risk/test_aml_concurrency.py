"""Held postings of one customer at two counters at the same moment (real commits, PostgreSQL):
one case, one alert per posting."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.ledger import service
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service.compliance import ComplianceDecision, FixedDecision, Verdict
from branchdesk.risk.cases.models import AmlAlert, AmlCase
from tests.factories import NOW, make_branch, make_counter, make_customer, make_user, principal

ROUNDS = 6


@pytest.mark.postgres
def test_concurrent_holds_of_one_customer_open_one_case(database: Database, signer: Signer) -> None:
    run = uuid.uuid4().hex[:8]
    hold = FixedDecision(ComplianceDecision(Verdict.hold, "structuring: cash just under the line"))
    with database.unit_of_work() as db:
        branch = make_branch(db, code=f"K{run[:6].upper()}")
        for code in ("T1", "T2"):
            make_counter(db, branch, code=code, status="open")
        teller = principal(db, make_user(db, Role.teller, (branch,), username=f"aml.{run}"))
        customers = [make_customer(db, signer, home_branch_id=branch.id) for _ in range(ROUNDS)]
        accounts = [
            [
                service.open_account(
                    db,
                    data=AccountOpen(
                        customer_number=c.customer_number, currency="CNY", branch_code=branch.code
                    ),
                    actor=teller,
                    now=NOW,
                ).number
                for _ in range(2)
            ]
            for c in customers
        ]
        customer_ids = [c.id for c in customers]
    failures: list[BaseException] = []
    for round_number, pair in enumerate(accounts):
        barrier = threading.Barrier(2)

        def post(number: str, counter: str, key: str, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait(timeout=10)
                with database.unit_of_work() as db:
                    service.post_deposit(
                        db, account=number, amount_minor=4_900_000, currency="CNY",
                        idempotency_key=key, actor=teller, now=NOW, compliance=hold,
                        branch_code=branch.code, counter_code=counter,
                    )  # fmt: skip
            except BaseException as exc:
                failures.append(exc)

        threads = [
            threading.Thread(target=post, args=(number, counter, f"{run}-{round_number}-{i}"))
            for i, (number, counter) in enumerate(zip(pair, ("T1", "T2"), strict=True))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    with database.read_only() as db:
        for customer_id in customer_ids:
            cases = db.scalar(
                select(func.count()).select_from(AmlCase).where(AmlCase.customer_id == customer_id)
            )
            alerts = db.execute(
                select(AmlAlert.case_id).where(AmlAlert.customer_id == customer_id)
            ).scalars()
            assert cases == 1
            assert len(set(alerts)) == 1
