"""The pre-posting compliance check: a protocol, an allow-all check, and the AML rules behind it.

Every posting passes ``PrePostingCheck.check`` before anything is written. ``allow`` posts,
``hold`` keeps the posting ``pending_review`` for a compliance officer, ``block`` refuses it with
the reason (the caller writes only an audit row of the refusal).

A batch of postings is checked through ``open_batch``: a check with a ``begin_batch`` method
(the AML rules) loads what it needs once and sees the batch's earlier applied items, so each
item gets the decision it would get alone. A check without one may read the ledger and expect
the earlier items written, so the ledger then posts a batch item by item (the slower path);
checks that read nothing (``AllowAll``, ``FixedDecision``) declare a trivial batch form.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting, PostingKind
from branchdesk.risk.aml import hook as aml_hook
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Posting as AmlPosting

SELF_BANK = "SELF"
# module-level aliases, so the history statement is compiled once and cached
_OTHER_ENTRY = aliased(Entry)
_OTHER_ACCOUNT = aliased(Account)


# built once: per call only the parameters change (since, customers, limit)
_HISTORY = (
    select(
        Entry.posting_id,
        Entry.booked_at,
        Entry.amount_minor,
        Entry.currency,
        Account.number,
        Account.customer_id,
        Posting.kind,
        _OTHER_ACCOUNT.number,
        Posting.counterparty_country,
    )
    .join(Account, Account.id == Entry.account_id)
    .join(Posting, Posting.id == Entry.posting_id)
    .outerjoin(
        _OTHER_ENTRY,
        (_OTHER_ENTRY.posting_id == Entry.posting_id)
        & (_OTHER_ENTRY.account_id != Entry.account_id)
        & (Posting.kind == PostingKind.transfer),
    )
    .outerjoin(_OTHER_ACCOUNT, _OTHER_ACCOUNT.id == _OTHER_ENTRY.account_id)
    .where(
        Entry.booked_at >= bindparam("since"),
        Account.customer_id.in_(bindparam("customers", expanding=True)),
        Account.type.in_(sorted(CUSTOMER_TYPES)),
    )
    # ties in time keep each account's posting order (a detector reads "after" by position)
    .order_by(Entry.booked_at.desc(), Entry.seq.desc())
)
_LATEST_HISTORY = _HISTORY.limit(bindparam("limit"))


class Verdict(StrEnum):
    allow = "allow"
    hold = "hold"
    block = "block"


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    verdict: Verdict
    reason: str = ""
    reports: tuple[str, ...] = ()


ALLOW = ComplianceDecision(Verdict.allow)


@dataclass(frozen=True, slots=True)
class ProposedLeg:
    account_id: uuid.UUID
    account_number: str
    customer_id: uuid.UUID | None  # None for the bank's own accounts
    amount_minor: int
    currency: str
    opened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProposedPosting:
    """What a check sees: plain values, before anything is written."""

    posting_id: uuid.UUID
    kind: PostingKind
    branch_id: uuid.UUID
    amount_minor: int
    currency: str
    legs: tuple[ProposedLeg, ...]
    booked_at: datetime
    beneficiary: str = ""
    country: str = ""  # ISO alpha-2 of a remittance's beneficiary bank ("" in-bank / unknown)


class PrePostingCheck(Protocol):
    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision: ...


class BatchCheck(Protocol):
    """One batch's check: ``check`` each item in order, ``posted`` for each item applied."""

    def check(self, posting: ProposedPosting) -> ComplianceDecision: ...

    def posted(self, posting: ProposedPosting) -> None: ...


class _ItemByItem:
    """A check without a batch form, asked once per item."""

    def __init__(self, db: Session, compliance: PrePostingCheck) -> None:
        self.db = db
        self.compliance = compliance

    def check(self, posting: ProposedPosting) -> ComplianceDecision:
        return self.compliance.check(self.db, posting=posting)

    def posted(self, posting: ProposedPosting) -> None:
        return None


def open_batch(
    compliance: PrePostingCheck,
    db: Session,
    *,
    customer_ids: Iterable[uuid.UUID],
    now: datetime,
) -> BatchCheck:
    """The batch form of ``compliance`` for postings of these customers booked at ``now``."""
    begin = getattr(compliance, "begin_batch", None)
    if begin is None:
        return _ItemByItem(db, compliance)
    batch: BatchCheck = begin(db, customer_ids=customer_ids, now=now)
    return batch


class AllOf:
    """Several pre-posting checks as one: a block wins, holds add up, reports are merged.

    The default check of the app is ``AllOf(KycExpiredCheck(), AmlCheck())``. Its batch form
    opens each part's batch form, so a batch keeps a constant number of statements when every
    part has one."""

    def __init__(self, *checks: PrePostingCheck) -> None:
        self.checks = checks

    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision:
        return combine(each.check(db, posting=posting) for each in self.checks)

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> BatchCheck:
        ids = list(customer_ids)
        return _AllOfBatch([open_batch(c, db, customer_ids=ids, now=now) for c in self.checks])


class _AllOfBatch:
    def __init__(self, parts: list[BatchCheck]) -> None:
        self.parts = parts

    def check(self, posting: ProposedPosting) -> ComplianceDecision:
        return combine(part.check(posting) for part in self.parts)

    def posted(self, posting: ProposedPosting) -> None:
        for part in self.parts:
            part.posted(posting)


def combine(decisions: Iterable[ComplianceDecision]) -> ComplianceDecision:
    """The first block wins (later checks are not asked); holds join; reports are merged."""
    holds: list[str] = []
    reports: list[str] = []
    for decision in decisions:
        if decision.verdict is Verdict.block:
            return decision
        reports.extend(decision.reports)
        if decision.verdict is Verdict.hold:
            holds.append(decision.reason)
    if holds:
        return ComplianceDecision(Verdict.hold, "; ".join(holds), tuple(reports))
    return ComplianceDecision(Verdict.allow, "", tuple(reports))


class AllowAll:
    """Lets everything through (tests, benchmarks of the ledger alone)."""

    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision:
        return ALLOW

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> BatchCheck:
        return _ItemByItem(db, self)  # reads nothing: the earlier items need not be written


@dataclass
class FixedDecision:
    """Answers the same decision for every posting (tests)."""

    decision: ComplianceDecision
    seen: list[ProposedPosting] = field(default_factory=list)

    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision:
        self.seen.append(posting)
        return self.decision

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> BatchCheck:
        return _ItemByItem(db, self)


_CHANNELS = {
    PostingKind.deposit: "cash",
    PostingKind.withdrawal: "cash",
    PostingKind.transfer: "transfer",
    PostingKind.remittance: "remittance",
}
_CHANNEL_OF_STORED_KIND = {kind.value: channel for kind, channel in _CHANNELS.items()}


class AmlCheck:
    """The AML typologies (``risk.aml.hook.check_posting``) behind the ledger's protocol.

    History: the customer legs' accounts' entries of the last ``history_days`` (at most
    ``max_history`` rows), and for the cycle rule the recent transfers of the counterparty
    accounts. Fees, reversals and clearing results are not customer movements and are allowed.
    """

    def __init__(
        self,
        config: RuleConfig | None = None,
        *,
        history_days: int = 130,
        max_history: int = 2000,
    ) -> None:
        self.config = config or RuleConfig()
        self.history_days = history_days
        self.max_history = max_history

    def check(self, db: Session, *, posting: ProposedPosting) -> ComplianceDecision:
        customers = _customers(posting)
        if _CHANNELS.get(posting.kind) is None or not customers:
            return ALLOW
        since = posting.booked_at - timedelta(days=self.history_days)
        rows = self._history(
            db, customer_ids=customers, since=since, limit=self.max_history * len(customers)
        )
        return self._decide(posting, aml_hook.PostingHistory(rows, self.config), since=since)

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> AmlBatch:
        """One history query for every customer of the batch (no row limit: each item's
        limit is applied in memory, as its own query would)."""
        since = now - timedelta(days=self.history_days)
        customers = set(customer_ids)
        rows = self._history(db, customer_ids=customers, since=since) if customers else []
        return AmlBatch(self, aml_hook.PostingHistory(rows, self.config), since=since)

    def _decide(
        self, posting: ProposedPosting, history: aml_hook.PostingHistory, *, since: datetime
    ) -> ComplianceDecision:
        channel = _CHANNELS.get(posting.kind)
        customer_legs = [leg for leg in posting.legs if leg.customer_id is not None]
        if channel is None or not customer_legs:
            return ALLOW
        holds: list[str] = []
        reports: list[str] = []
        for leg in customer_legs:
            other = next((o for o in customer_legs if o.account_id != leg.account_id), None)
            proposed = AmlPosting(
                txn_id=f"{posting.posting_id}:{leg.account_number}",
                booked_at=posting.booked_at,
                account_id=leg.account_number,
                customer_id=str(leg.customer_id),
                direction="credit" if leg.amount_minor > 0 else "debit",
                amount_minor=abs(leg.amount_minor),
                currency=leg.currency,
                channel=channel,
                counterparty_account=other.account_number if other else posting.beneficiary,
                counterparty_bank=SELF_BANK if other else ("" if channel == "cash" else "OTHER"),
                country=posting.country,
            )
            # silence before the account existed is not dormancy
            start = max(since, leg.opened_at) if leg.opened_at else since
            decision = history.check(
                proposed,
                self.config,
                related_account=other.account_number if other is not None else None,
                history_start=start,
            )
            reports.extend(decision.reports)
            if decision.outcome is aml_hook.Outcome.BLOCK:
                return ComplianceDecision(Verdict.block, "; ".join(decision.reasons))
            if decision.outcome is aml_hook.Outcome.HOLD:
                holds.extend(decision.reasons)
        if holds:
            return ComplianceDecision(Verdict.hold, "; ".join(holds), tuple(reports))
        return ComplianceDecision(Verdict.allow, "", tuple(reports))

    def _history(
        self,
        db: Session,
        *,
        customer_ids: set[uuid.UUID],
        since: datetime,
        limit: int | None = None,
    ) -> list[AmlPosting]:
        """One query: the customers' recent movements (the latest ``limit``), oldest first,
        with the other side of transfers."""
        statement = _HISTORY if limit is None else _LATEST_HISTORY
        parameters: dict[str, object] = {"since": since, "customers": sorted(customer_ids)}
        if limit is not None:
            parameters["limit"] = limit
        postings = []
        for row in reversed(db.execute(statement, parameters).all()):
            posting_id, booked_at, amount, currency, number, owner, kind, counterparty, land = row
            channel = _CHANNEL_OF_STORED_KIND.get(kind)  # no enum built per row
            if channel is None:
                continue
            postings.append(
                AmlPosting(
                    txn_id=f"{posting_id}:{number}",
                    booked_at=booked_at,
                    account_id=number,
                    customer_id=str(owner),
                    direction="credit" if amount > 0 else "debit",
                    amount_minor=abs(amount),
                    currency=currency,
                    channel=channel,
                    counterparty_account=counterparty or "",
                    counterparty_bank="" if channel == "cash" else SELF_BANK,
                    country=land or "",
                )
            )
        return postings


def record_decision(db: Session, *, posting: ProposedPosting, decision: ComplianceDecision) -> None:
    """Called by the ledger right after it wrote ``posting``: a hold or a report becomes its AML
    alert (and case) in the same transaction (``risk.cases.alerts``)."""
    if decision.verdict is Verdict.allow and not decision.reports:
        return
    from branchdesk.risk.cases.alerts import record_hook_decision  # risk builds on the ledger

    record_hook_decision(db, posting=posting, decision=decision)


def _customers(posting: ProposedPosting) -> set[uuid.UUID]:
    return {leg.customer_id for leg in posting.legs if leg.customer_id is not None}


def aml_rows(posting: ProposedPosting) -> list[AmlPosting]:
    """The history rows the ledger query returns for ``posting`` once it is posted."""
    channel = _CHANNELS.get(posting.kind)
    if channel is None:
        return []
    rows = []
    for leg in posting.legs:
        if leg.customer_id is None:
            continue
        other = ""
        if posting.kind == PostingKind.transfer:
            other = next(
                (o.account_number for o in posting.legs if o.account_id != leg.account_id), ""
            )
        rows.append(
            AmlPosting(
                txn_id=f"{posting.posting_id}:{leg.account_number}",
                booked_at=posting.booked_at,
                account_id=leg.account_number,
                customer_id=str(leg.customer_id),
                direction="credit" if leg.amount_minor > 0 else "debit",
                amount_minor=abs(leg.amount_minor),
                currency=leg.currency,
                channel=channel,
                counterparty_account=other,
                counterparty_bank="" if channel == "cash" else SELF_BANK,
                country=posting.country,
            )
        )
    return rows


class AmlBatch:
    """The AML rules over one batch: the history is loaded once and grows with applied items.

    Each item sees what its own query would return: the latest ``max_history`` rows per
    customer of the posting (all of them unless a customer is that busy)."""

    def __init__(
        self, check: AmlCheck, history: aml_hook.PostingHistory, *, since: datetime
    ) -> None:
        self.aml = check
        self.history = history
        self.since = since

    def check(self, posting: ProposedPosting) -> ComplianceDecision:
        customers = _customers(posting)
        if _CHANNELS.get(posting.kind) is None or not customers:
            return ALLOW
        limit = self.aml.max_history * len(customers)
        history = self.history
        if sum(len(history.of_customer(str(c))) for c in customers) > limit:
            rows = [row for c in customers for row in history.of_customer(str(c))]
            latest = sorted(rows, key=lambda row: row.booked_at)[-limit:]
            history = aml_hook.PostingHistory(latest, self.aml.config)
        return self.aml._decide(posting, history, since=self.since)

    def posted(self, posting: ProposedPosting) -> None:
        for row in aml_rows(posting):
            self.history.add(row)
