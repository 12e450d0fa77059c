"""Counter transactions through the console's forms: real HTTP, session cookie and CSRF."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.ledger import service as ledger
from branchdesk.ledger.models import (
    Account,
    AccountStatus,
    AccountType,
    Posting,
    PostingKind,
    PostingStatus,
)
from branchdesk.ledger.schemas import AccountStatusChange, ApprovalLimitSet
from branchdesk.ledger.service.compliance import (
    ComplianceDecision,
    FixedDecision,
    PrePostingCheck,
    Verdict,
)
from branchdesk.teller.models import CounterIdentification, CounterPosting
from tests.factories import NOW, make_customer, principal
from tests.teller.helpers import (
    balance,
    counts,
    login,
    make_desk,
    open_account,
    refusals,
    submit,
)


def _link(db: Session, posting_id: object) -> CounterPosting:
    return db.execute(
        select(CounterPosting).where(CounterPosting.posting_id == posting_id)
    ).scalar_one()


def _only_new_posting(db: Session, before: set[object]) -> Posting:
    postings = [p for p in db.execute(select(Posting)).scalars() if p.id not in before]
    assert len(postings) == 1
    return postings[0]


def _posting_ids(db: Session) -> set[object]:
    return set(db.execute(select(Posting.id)).scalars())


def test_console_shows_accounts_balances_and_forms(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    login(client, signer, desk.teller, "zh-Hant")
    page = client.get(desk.console)
    assert page.status_code == 200
    text = page.text
    assert "櫃檯交易" in text
    assert desk.customer.customer_number in text
    assert desk.current.number in text
    assert "CNY 10,000.00" in text  # the current account's balance
    assert "CNY 5,000.00" in text
    for form in ("deposit", "withdrawal", "transfer", "remittance", "time-deposit", "fee"):
        assert f'id="form-{form}"' in text
    # every render gives each form its own fresh key
    keys = {chunk[:40] for chunk in text.split('name="idempotency_key" value="')[1:]}
    assert len(keys) == 6


def test_each_transaction_type_posts_once_and_is_linked(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    cur, sav = desk.current, desk.savings
    steps = [
        ("deposit", {"account": cur.number, "amount": "1,234.50", "currency": "CNY"},
         PostingKind.deposit, {cur.id: 123_450}),
        ("withdrawal", {"account": cur.number, "amount": "200", "currency": "CNY"},
         PostingKind.withdrawal, {cur.id: -20_000}),
        ("transfer", {"account": cur.number, "to_account": sav.number, "amount": "300.00",
                      "currency": "CNY"}, PostingKind.transfer, {cur.id: -30_000, sav.id: 30_000}),
        ("remittance", {"account": sav.number, "beneficiary": "王小明 ICBC 6222000011112222",
                        "country": "cn", "amount": "50", "currency": "CNY"}, PostingKind.remittance,
         {sav.id: -5_000}),
        ("fee", {"account": cur.number, "amount": "15", "currency": "CNY", "memo": "stamp"},
         PostingKind.fee, {cur.id: -1_500}),
        ("time-deposit", {"account": sav.number, "term_months": "12", "amount": "1000"},
         PostingKind.transfer, {sav.id: -100_000}),
    ]  # fmt: skip
    for action, fields, kind, changes in steps:
        before_balances = {a.id: balance(db, a) for a in (cur, sav)}
        before = _posting_ids(db)
        response = submit(client, desk, csrf, action, **fields)
        assert response.status_code == 303, response.text[:500]
        assert response.headers["location"] == f"{desk.console}#teller"
        posting = _only_new_posting(db, before)
        assert posting.kind == kind
        assert posting.status == PostingStatus.posted
        assert posting.branch_id == desk.branch.id
        for account in (cur, sav):
            assert balance(db, account) == before_balances[account.id] + changes.get(account.id, 0)
        link = _link(db, posting.id)
        assert (link.ticket_id, link.counter_id, link.teller_id, link.customer_id, link.action) == (
            desk.ticket.id, desk.counter.id, desk.teller.id, desk.customer.id, action,
        )  # fmt: skip
        assert link.reference.startswith(f"{desk.branch.code}-")
    # the deposit and withdrawal went against this counter's cash till
    till = db.execute(
        select(Account).where(
            Account.type == AccountType.till, Account.counter_id == desk.counter.id
        )
    ).scalar_one()
    assert balance(db, till) == -(123_450 - 20_000)
    # the placement opened a 12-month time deposit at the product rate, holding the money
    deposit = db.execute(
        select(Account).where(
            Account.customer_id == desk.customer.id, Account.type == AccountType.time_deposit
        )
    ).scalar_one()
    assert (deposit.term_months, deposit.rate_bps, balance(db, deposit)) == (12, 165, 100_000)
    # early withdrawal of that time deposit pays principal plus demand-rate interest (0 days: 0)
    before = _posting_ids(db)
    savings_before = balance(db, sav)
    response = submit(
        client, desk, csrf, "time-deposit-withdrawal",
        account=deposit.number, to_account=sav.number,
    )  # fmt: skip
    assert response.status_code == 303, response.text[:500]
    posting = _only_new_posting(db, before)
    assert posting.kind == PostingKind.time_deposit_withdrawal
    assert balance(db, sav) == savings_before + posting.amount_minor
    assert posting.amount_minor >= 100_000
    db.refresh(deposit)
    assert deposit.status == AccountStatus.closed
    page = client.get(desk.console).text
    assert page.count('data-status="posted"') == 7


def test_double_submit_replays_instead_of_posting_twice(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    page = client.get(desk.console).text
    fields = {"account": desk.current.number, "amount": "100", "currency": "CNY"}
    first = submit(client, desk, csrf, "deposit", page=page, **fields)
    after_first = counts(db)
    again = submit(client, desk, csrf, "deposit", page=page, **fields)
    assert (first.status_code, again.status_code) == (303, 303)
    assert counts(db) == after_first
    assert balance(db, desk.current) == 1_000_000 + 10_000
    # the same key with another amount is refused, not posted
    changed = submit(client, desk, csrf, "deposit", page=page, **{**fields, "amount": "101"})
    assert changed.status_code == 422
    assert 'data-code="idempotency_key_reused"' in changed.text
    assert counts(db) == after_first


def test_time_deposit_placement_replays_on_double_submit(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    page = client.get(desk.console).text
    fields = {"account": desk.savings.number, "term_months": "6", "amount": "100"}
    assert submit(client, desk, csrf, "time-deposit", page=page, **fields).status_code == 303
    after_first = counts(db)
    assert submit(client, desk, csrf, "time-deposit", page=page, **fields).status_code == 303
    assert counts(db) == after_first  # no second time deposit account, no second posting
    assert balance(db, desk.savings) == 500_000 - 10_000


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("insufficient", "insufficient_funds"),
        ("frozen", "account_frozen"),
        ("currency", "currency_mismatch"),
        ("amount", "invalid_amount"),
        ("not_own", "not_own_account"),
    ],
)
def test_refusals_answer_422_write_nothing_and_are_audited(
    client: TestClient,
    db: Session,
    signer: Signer,
    compliance: list[PrePostingCheck],
    case: str,
    code: str,
) -> None:
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    page = client.get(desk.console).text
    account, amount, currency, action = desk.current.number, "100", "CNY", "withdrawal"
    if case == "insufficient":
        amount = "10,000.01"
    elif case == "frozen":
        ledger.change_account_status(
            db, ref=desk.current.number, data=AccountStatusChange(status=AccountStatus.frozen),
            actor=principal(db, desk.manager), now=NOW,
        )  # fmt: skip
        action = "deposit"
    elif case == "currency":
        currency = "USD"
        action = "deposit"
    elif case == "amount":
        amount = "1.005"
    else:
        stranger = make_customer(db, signer, home_branch_id=desk.branch.id)
        account = open_account(db, desk.branch, desk.teller, stranger).number
    before = counts(db)
    balances = (balance(db, desk.current), balance(db, desk.savings))
    response = submit(
        client, desk, csrf, action, page=page, account=account, amount=amount, currency=currency
    )
    assert response.status_code == 422
    assert f'data-code="{code}"' in response.text, response.text[response.text.find("<main>") :][
        :1500
    ]
    assert counts(db) == before
    assert (balance(db, desk.current), balance(db, desk.savings)) == balances
    audited = refusals(db, f"counter.{action}")
    assert len(audited) == 1
    assert audited[0].detail["error"] == code
    assert audited[0].actor_id == desk.teller.id


def test_large_withdrawal_waits_for_approval_then_shows_posted(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    ledger.set_approval_limit(
        db,
        data=ApprovalLimitSet(
            branch_code=desk.branch.code, kind="withdrawal", currency="CNY", amount_minor=500_000
        ),
        actor=principal(db, desk.manager),
        now=NOW,
    )
    csrf = login(client, signer, desk.teller)
    before = _posting_ids(db)
    response = submit(
        client, desk, csrf, "withdrawal", account=desk.current.number, amount="6,000",
        currency="CNY",
    )  # fmt: skip
    assert response.status_code == 303
    held = _only_new_posting(db, before)
    assert held.status == PostingStatus.pending_approval
    assert balance(db, desk.current) == 1_000_000  # nothing moves before the approval
    page = client.get(desk.console).text
    assert 'data-status="pending_approval"' in page
    assert "Waiting for approval" in page
    assert " data-pending>" in page  # the console looks again until it is decided
    manager_csrf = login(client, signer, desk.manager)
    approved = client.post(
        f"/approvals/{held.id}/approve", data={"csrf_token": manager_csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    login(client, signer, desk.teller)
    page = client.get(desk.console).text
    assert 'data-status="posted"' in page
    assert " data-pending>" not in page
    assert balance(db, desk.current) == 1_000_000 - 600_000


def test_compliance_hold_is_shown_as_held_for_review(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    compliance[0] = FixedDecision(ComplianceDecision(Verdict.hold, "large cash, unusual"))
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    response = submit(
        client, desk, csrf, "deposit", account=desk.current.number, amount="100", currency="CNY"
    )
    assert response.status_code == 303
    page = client.get(desk.console).text
    assert 'data-status="pending_review"' in page
    assert "Held for compliance review" in page
    assert "large cash, unusual" in page
    assert balance(db, desk.current) == 1_000_000


def test_compliance_block_is_refused_with_the_reason(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    compliance[0] = FixedDecision(ComplianceDecision(Verdict.block, "watch-list match"))
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    before = counts(db)
    response = submit(
        client, desk, csrf, "deposit", account=desk.current.number, amount="100", currency="CNY"
    )
    assert response.status_code == 422
    assert 'data-code="posting_blocked"' in response.text
    assert "watch-list match" in response.text
    assert counts(db) == before
    assert len(refusals(db, "counter.deposit")) == 1


@pytest.mark.parametrize("by", ["customer_number", "id_number"])
def test_teller_identifies_a_walk_in_customer_then_posts(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck], by: str
) -> None:
    desk = make_desk(db, signer, on_ticket=False)
    csrf = login(client, signer, desk.teller)
    page = client.get(desk.console).text
    assert 'id="teller-identify"' in page
    assert 'id="form-deposit"' not in page  # no customer, no money forms
    query = desk.customer.customer_number
    if by == "id_number":
        query = signer.decrypt(desk.customer.id_number_encrypted)
    response = client.post(
        desk.action("identify"),
        data={"csrf_token": csrf, "ticket_id": str(desk.ticket.id), "query": query},
        follow_redirects=False,
    )
    assert response.status_code == 303
    found = db.get(CounterIdentification, desk.ticket.id)
    assert found is not None
    assert (found.customer_id, found.method, found.identified_by_id) == (
        desk.customer.id, by, desk.teller.id,
    )  # fmt: skip
    response = submit(
        client, desk, csrf, "deposit", account=desk.current.number, amount="1", currency="CNY"
    )
    assert response.status_code == 303
    assert balance(db, desk.current) == 1_000_100


def test_unknown_customer_is_refused(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer, on_ticket=False)
    csrf = login(client, signer, desk.teller)
    before = counts(db)
    response = client.post(
        desk.action("identify"),
        data={"csrf_token": csrf, "ticket_id": str(desk.ticket.id), "query": "9999999999"},
    )
    assert response.status_code == 422
    assert 'data-code="customer_not_found"' in response.text
    assert counts(db) == before


def test_a_ticket_not_being_served_takes_no_transaction(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer, state="called")
    csrf = login(client, signer, desk.teller)
    page = client.get(desk.console).text
    assert 'id="form-deposit"' not in page
    before = counts(db)
    response = client.post(
        desk.action("deposit"),
        data={
            "csrf_token": csrf, "ticket_id": str(desk.ticket.id), "idempotency_key": "counter-x",
            "account": desk.current.number, "amount": "1", "currency": "CNY",
        },
    )  # fmt: skip
    assert response.status_code == 422
    assert 'data-code="ticket_not_serving"' in response.text
    assert counts(db) == before


def test_staff_of_another_branch_get_403_and_nothing_changes(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    other = make_desk(db, signer)
    csrf = login(client, signer, other.teller)
    before = counts(db)
    response = client.post(
        desk.action("deposit"),
        data={
            "csrf_token": csrf, "ticket_id": str(desk.ticket.id), "idempotency_key": "counter-y",
            "account": desk.current.number, "amount": "1", "currency": "CNY",
        },
    )  # fmt: skip
    assert response.status_code == 403
    assert client.get(f"/teller/{desk.branch.code}/{desk.counter.code}").status_code == 403
    assert counts(db) == before


def test_a_rejected_withdrawal_shows_rejected_with_the_note(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    ledger.set_approval_limit(
        db,
        data=ApprovalLimitSet(
            branch_code=desk.branch.code, kind="withdrawal", currency="CNY", amount_minor=100
        ),
        actor=principal(db, desk.manager),
        now=NOW,
    )
    csrf = login(client, signer, desk.teller)
    before = _posting_ids(db)
    submit(
        client, desk, csrf, "withdrawal", account=desk.current.number, amount="2", currency="CNY"
    )
    held = _only_new_posting(db, before)
    manager_csrf = login(client, signer, desk.manager)
    rejected = client.post(
        f"/approvals/{held.id}/reject",
        data={"csrf_token": manager_csrf, "note": "signature differs"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    login(client, signer, desk.teller, "zh-Hant")
    page = client.get(desk.console).text
    assert 'data-status="rejected"' in page
    assert "已駁回" in page
    assert "signature differs" in page
    assert balance(db, desk.current) == 1_000_000


def test_a_ticket_that_names_its_customer_is_not_reidentified(
    client: TestClient, db: Session, signer: Signer, compliance: list[PrePostingCheck]
) -> None:
    desk = make_desk(db, signer)
    csrf = login(client, signer, desk.teller)
    assert 'id="teller-identify"' not in client.get(desk.console).text
    stranger = make_customer(db, signer, home_branch_id=desk.branch.id)
    before = counts(db)
    response = client.post(
        desk.action("identify"),
        data={
            "csrf_token": csrf,
            "ticket_id": str(desk.ticket.id),
            "query": stranger.customer_number,
        },
    )
    assert response.status_code == 422
    assert 'data-code="customer_on_ticket"' in response.text
    assert counts(db) == before
