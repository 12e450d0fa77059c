"""Hypothesis: any sequence of postings keeps the ledger balanced and within its limits."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import DomainError
from branchdesk.core.security import Signer
from branchdesk.ledger import service
from branchdesk.ledger.models import Account, Posting, PostingStatus
from tests.factories import NOW
from tests.ledger.helpers import ALLOW, assert_ledger_consistent, make_bank, open_account

ACCOUNTS = 4
operation = st.tuples(
    st.sampled_from(["deposit", "withdrawal", "transfer", "fee", "reverse", "replay"]),
    st.integers(min_value=0, max_value=ACCOUNTS - 1),
    st.integers(min_value=0, max_value=ACCOUNTS - 1),
    st.integers(min_value=-5, max_value=10**6),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_any_sequence_of_postings_keeps_the_ledger_balanced(
    fresh_db: Callable[[], AbstractContextManager[Session]],
    signer: Signer,
    operations: list[tuple[str, int, int, int]],
) -> None:
    with fresh_db() as db:
        bank = make_bank(db, signer)
        accounts = [
            open_account(db, bank, overdraft_limit_minor=(50_000 if n == 0 else 0))
            for n in range(ACCOUNTS)
        ]
        expected = {a.id: 0 for a in accounts}
        applied: list[tuple[str, Posting]] = []
        for step, (kind, i, j, amount) in enumerate(operations):
            source, target = accounts[i], accounts[j]
            common = {"amount_minor": amount, "currency": "CNY", "actor": bank.teller,
                      "now": NOW, "compliance": ALLOW, "idempotency_key": f"op-{step}"}  # fmt: skip
            try:
                with db.begin_nested():
                    if kind == "deposit":
                        result = service.post_deposit(db, account=target.number, **common)  # type: ignore[arg-type]
                        changes = {target.id: amount}
                    elif kind == "withdrawal":
                        result = service.post_withdrawal(db, account=source.number, **common)  # type: ignore[arg-type]
                        changes = {source.id: -amount}
                    elif kind == "transfer":
                        result = service.post_transfer(
                            db, from_account=source.number, to_account=target.number, **common
                        )  # type: ignore[arg-type]
                        changes = {source.id: -amount, target.id: amount}
                    elif kind == "fee":
                        result = service.post_fee(db, account=source.number, **common)  # type: ignore[arg-type]
                        changes = {source.id: -amount}
                    elif kind == "reverse" and applied:
                        _, original = applied[i % len(applied)]
                        result = service.reverse_posting(
                            db, posting_id=original.id, idempotency_key=f"op-{step}",
                            actor=bank.teller, now=NOW, compliance=ALLOW,
                        )  # fmt: skip
                        assert result.posting.status == PostingStatus.pending_approval
                        service.approve_posting(
                            db, posting_id=result.posting.id, actor=bank.manager, now=NOW
                        )
                        changes = {}
                        for leg in original.legs:
                            for account in accounts:
                                if str(account.id) == leg["account_id"]:
                                    changes[account.id] = changes.get(account.id, 0) - int(
                                        leg["amount_minor"]
                                    )
                    elif kind == "replay" and applied:
                        key, original = applied[i % len(applied)]
                        again = service.post_deposit(
                            db, account=target.number, amount_minor=max(amount, 1),
                            currency="CNY", idempotency_key=key, actor=bank.teller, now=NOW,
                            compliance=ALLOW,
                        )  # fmt: skip
                        # either a replay of the same request or a refusal (409)
                        assert again.is_replay
                        assert again.posting.id == original.id
                        changes = {}
                        result = again
                    else:
                        continue
            except DomainError:
                continue
            if not result.is_replay and kind not in ("reverse",):
                applied.append((f"op-{step}", result.posting))
            for account_id, change in changes.items():
                expected[account_id] += change
        for account in accounts:
            balance = db.execute(
                select(Account.balance_minor).where(Account.id == account.id)
            ).scalar_one()
            assert balance == expected[account.id]
        assert_ledger_consistent(db)
        keys = db.execute(
            select(Posting.idempotency_key, func.count()).group_by(Posting.idempotency_key)
        ).all()
        assert all(count == 1 for _key, count in keys)
