"""A form submitted several times at once (double click, impatient retry) posts exactly once:
real commits on PostgreSQL, one thread per submit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from branchdesk.catalog.models import Branch, Counter
from branchdesk.core.clock import utcnow
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.identity.models import User
from branchdesk.ledger.models import Account, Posting
from branchdesk.ledger.service.compliance import AllowAll
from branchdesk.teller import service
from branchdesk.teller.models import CounterPosting
from branchdesk.teller.schemas import CounterForm
from tests.factories import principal
from tests.teller.helpers import make_desk

SUBMITS = 4


@pytest.mark.postgres
def test_simultaneous_submits_of_one_form_post_once(database: Database, signer: Signer) -> None:
    with database.unit_of_work() as db:
        desk = make_desk(db, signer)
        branch_id, counter_id, teller_id = desk.branch.id, desk.counter.id, desk.teller.id
        ticket_id, number = desk.ticket.id, desk.current.number
    key = service.new_form_key()
    form = CounterForm(
        ticket_id=str(ticket_id), idempotency_key=key, account=number, amount="10", currency="CNY"
    )
    barrier = threading.Barrier(SUBMITS)
    replays: list[bool] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def submit() -> None:
        barrier.wait()
        try:
            with database.unit_of_work() as db:
                branch, counter = db.get(Branch, branch_id), db.get(Counter, counter_id)
                teller = db.get(User, teller_id)
                assert branch is not None
                assert counter is not None
                assert teller is not None
                outcome = service.counter_transaction(
                    db, actor=principal(db, teller), branch=branch, counter=counter,
                    action="deposit", data=form, compliance=AllowAll(), now=utcnow(),
                )  # fmt: skip
            with lock:
                replays.append(outcome.is_replay)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(SUBMITS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(replays) == [False] + [True] * (SUBMITS - 1)
    with database.unit_of_work() as db:
        posting_ids = list(
            db.execute(select(Posting.id).where(Posting.idempotency_key == key)).scalars()
        )
        assert len(posting_ids) == 1
        links = db.execute(
            select(func.count())
            .select_from(CounterPosting)
            .where(CounterPosting.posting_id == posting_ids[0])
        ).scalar_one()
        assert links == 1
        balance = db.execute(
            select(Account.balance_minor).where(Account.number == number)
        ).scalar_one()
        assert balance == 1_000_000 + 1_000
