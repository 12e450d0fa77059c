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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting, PostingKind
from branchdesk.risk.aml import hook as aml_hook
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Posting as AmlPosting

SELF_BANK = "SELF"
# module-level aliases, so the history statement is compiled once and cached
_OTHER_ENTRY = aliased(Entry)
OTHER_ACCOUNT = aliased(Account)  # a transfer's other customer account, in `movements`


def movements(*columns: Any) -> Select[Any]:
    """Ledger entries as movements: each entry with its account and posting and, for a
    transfer, the other side's entry and account (``OTHER_ACCOUNT``). The AML check and the
    ledger sweep (``risk.cases.sweep``) select from it with their own filters."""
    return (
        select(*columns)
        .select_from(Entry)
        .join(Account, Account.id == Entry.account_id)
        .join(Posting, Posting.id == Entry.posting_id)
        .outerjoin(
            _OTHER_ENTRY,
            (_OTHER_ENTRY.posting_id == Entry.posting_id)
            & (_OTHER_ENTRY.account_id != Entry.account_id)
            & (Posting.kind == PostingKind.transfer),
        )
        .outerjoin(OTHER_ACCOUNT, OTHER_ACCOUNT.id == _OTHER_ENTRY.account_id)
    )


# the customers' movements since ``since``: of each account its latest ``limit`` entries at most
# (by the account's entry sequence, so the bound is an index range whatever the account's age)
_RECENT_OF_CUSTOMERS = (
    Entry.booked_at >= bindparam("since"),
    Entry.seq > Account.last_entry_seq - bindparam("limit"),
    Account.customer_id.in_(bindparam("customers", expanding=True)),
    Account.type.in_(sorted(CUSTOMER_TYPES)),
)


# built once: per call only the parameters change (since, customers, limit, floor, edge)
# a movement as the AML rules read it (``movement_row``): the ledger's check and its sweep
MOVEMENT_COLUMNS = (
    Entry.posting_id,
    Entry.booked_at,
    Entry.amount_minor,
    Entry.currency,
    Account.number,
    Account.customer_id,
    Posting.kind,
    Posting.beneficiary,
    OTHER_ACCOUNT.number,
    Posting.counterparty_country,
)
_HISTORY = (
    movements(*MOVEMENT_COLUMNS)
    .where(*_RECENT_OF_CUSTOMERS)
    # ties in time keep each account's posting order (a detector reads "after" by position)
    .order_by(Entry.booked_at.desc(), Entry.seq.desc())
)
# what the AML screen needs beyond them (risk.aml.hook.ScreenSummary): the notable movements ...
_NOTABLE_HISTORY = _HISTORY.where(
    (Entry.currency != "CNY")
    | (Entry.amount_minor >= bindparam("floor"))
    | (Entry.amount_minor <= -bindparam("floor"))
)


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


# the AML rules' channel of each kind of customer movement (others are not movements)
CHANNELS = {
    PostingKind.deposit: "cash",
    PostingKind.withdrawal: "cash",
    PostingKind.transfer: "transfer",
    PostingKind.remittance: "remittance",
}
_CHANNEL_OF_STORED_KIND = {kind.value: channel for kind, channel in CHANNELS.items()}


def movement_row(row: Sequence[Any]) -> AmlPosting | None:
    """A row of ``movements(*MOVEMENT_COLUMNS)`` as the AML rules read it (None: not a customer
    movement), with the counterparty the pre-posting check gives a proposed posting
    (``AmlCheck._legs``): the other customer account of a transfer (this bank), the beneficiary
    of a remittance (another bank), nobody for cash."""
    posting_id, booked_at, amount, currency, number, owner, kind, beneficiary, other, land = row
    channel = _CHANNEL_OF_STORED_KIND.get(kind)  # no enum built per row
    if channel is None:
        return None
    if channel == "remittance":
        counterparty, bank = beneficiary or "", "OTHER"
    elif channel == "cash":
        counterparty, bank = "", ""
    else:
        counterparty, bank = other or "", SELF_BANK
    return AmlPosting(
        txn_id=f"{posting_id}:{number}",
        booked_at=booked_at,
        account_id=number,
        customer_id=str(owner),
        direction="credit" if amount > 0 else "debit",
        amount_minor=abs(amount),
        currency=currency,
        channel=channel,
        counterparty_account=counterparty,
        counterparty_bank=bank,
        country=land or "",
    )


# ... and per account and currency: the last movement time before the dormancy edge, the first
# one from it, and the outflows since the pass-through edge
_MOVED = Entry.posting_kind.in_(sorted(CHANNELS))
_BOUNDS = (
    select(
        Account.number,
        Account.customer_id,
        Entry.currency,
        func.max(Entry.booked_at).filter(_MOVED & (Entry.booked_at < bindparam("dormant_edge"))),
        func.min(Entry.booked_at).filter(_MOVED & (Entry.booked_at >= bindparam("dormant_edge"))),
        func.coalesce(
            func.sum(-Entry.amount_minor).filter(
                _MOVED & (Entry.amount_minor < 0) & (Entry.booked_at >= bindparam("pass_edge"))
            ),
            0,
        ),
    )
    # the entries alone (their posting's kind is on them): no join to the postings
    .select_from(Entry)
    .join(Account, Account.id == Entry.account_id)
    .where(*_RECENT_OF_CUSTOMERS)
    .group_by(Account.number, Account.customer_id, Entry.currency)
)


# a customer leg as the AML rules see it, the other customer leg's account, the silence's start
_Leg = tuple[AmlPosting, str | None, datetime]


class AmlCheck:
    """The AML typologies (``risk.aml.hook.check_posting``) behind the ledger's protocol.

    History: the customer legs' accounts' entries of the last ``history_days``, of each account
    its latest ``max_history`` entries at most (as booked before the request: a batch's own
    items are added to it), and for the cycle rule the recent transfers of the counterparty
    accounts. Fees, reversals and clearing results are not customer movements and are allowed.
    The limit is per account, so the screen's summary (``_summary``) reads exactly the rows the
    whole-history screen would, and a busy account costs at most ``max_history`` rows.
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
        if CHANNELS.get(posting.kind) is None or not customers:
            return ALLOW
        since = posting.booked_at - timedelta(days=self.history_days)
        legs = self._legs(posting, since=since)
        if not any(aml_hook.flagged_whatever_the_history(p, self.config) for p, _, _ in legs):
            summary = self._summary(db, customer_ids=customers, since=since, now=posting.booked_at)
            if self._clears(legs, summary):
                return ALLOW
        # a cash or foreign movement (no summary can clear it), or one the summary did not
        rows = self._history(db, customer_ids=customers, since=since)
        return self._decide(legs, aml_hook.PostingHistory(rows, self.config))

    def begin_batch(
        self, db: Session, *, customer_ids: Iterable[uuid.UUID], now: datetime
    ) -> AmlBatch:
        """The screen's summary of every customer of the batch (two queries); a customer's
        whole history is read only for an item the screen cannot clear."""
        since = now - timedelta(days=self.history_days)
        customers = set(customer_ids)
        summary = self._summary(db, customer_ids=customers, since=since, now=now)
        return AmlBatch(self, db, summary, since=since)

    def _summary(
        self, db: Session, *, customer_ids: set[uuid.UUID], since: datetime, now: datetime
    ) -> aml_hook.ScreenSummary:
        """What ``risk.aml.hook.ScreenSummary`` needs of these customers' history (their notable
        movements; each account's times around the dormancy edge and outflows since the
        pass-through edge), over the same rows as the whole history: two queries."""
        if not customer_ids:
            return aml_hook.ScreenSummary(self.config, now=now)
        dormant_edge, pass_edge = aml_hook.ScreenSummary.edges(self.config, now)
        bounds = db.execute(
            _BOUNDS,
            {"since": since, "customers": sorted(customer_ids), "limit": self.max_history,
             "dormant_edge": dormant_edge, "pass_edge": pass_edge},
        ).all()  # fmt: skip
        sums = [
            (number, str(owner), currency, last, first, int(debits))
            for number, owner, currency, last, first, debits in bounds
        ]
        notable = self._history(
            db,
            customer_ids=customer_ids,
            since=since,
            floor=aml_hook.notable_floor(self.config),
        )
        return aml_hook.ScreenSummary(self.config, now=now, notable=notable, bounds=sums)

    def _clears(self, legs: list[_Leg], summary: aml_hook.ScreenSummary) -> bool:
        """True where the screen proves, from the summary, that no AML rule can include the
        posting (its ``legs``): then the whole history would allow it too."""
        return all(
            summary.clears(proposed, self.config, related_account=related, history_start=start)
            for proposed, related, start in legs
        )

    def _legs(self, posting: ProposedPosting, *, since: datetime) -> list[_Leg]:
        """Each customer leg as the AML rules see it, with the account of the other customer
        leg (if any) and the start of the leg account's silence."""
        channel = CHANNELS.get(posting.kind)
        customer_legs = [leg for leg in posting.legs if leg.customer_id is not None]
        if channel is None:
            return []
        legs = []
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
            legs.append((proposed, other.account_number if other is not None else None, start))
        return legs

    def _decide(self, legs: list[_Leg], history: aml_hook.PostingHistory) -> ComplianceDecision:
        holds: list[str] = []
        reports: list[str] = []
        for proposed, related, start in legs:
            decision = history.check(
                proposed, self.config, related_account=related, history_start=start
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
        floor: int | None = None,
    ) -> list[AmlPosting]:
        """One query: the customers' recent movements (of each account the latest
        ``max_history``; with ``floor`` only the notable ones among them), oldest first, with
        the other side of transfers."""
        parameters: dict[str, object] = {
            "since": since,
            "customers": sorted(customer_ids),
            "limit": self.max_history,
        }
        if floor is not None:
            statement, parameters["floor"] = _NOTABLE_HISTORY, floor
        else:
            statement = _HISTORY
        rows = (movement_row(row) for row in reversed(db.execute(statement, parameters).all()))
        return [row for row in rows if row is not None]


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
    channel = CHANNELS.get(posting.kind)
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
    """The AML rules over one batch: the screen's summary is read once and grows with applied
    items; a customer's whole history is read the first time one of their items needs it.

    Each item sees its customers' history as booked before the batch (of each account the
    latest ``max_history`` entries) and the batch's earlier items: exactly what one by one
    would see, unless an account goes over the limit within the batch (its oldest rows then
    stay in view)."""

    def __init__(
        self, check: AmlCheck, db: Session, summary: aml_hook.ScreenSummary, *, since: datetime
    ) -> None:
        self.aml = check
        self.db = db
        self.summary = summary
        self.since = since
        self.history = aml_hook.PostingHistory((), check.config)  # the customers read in full
        self.read: set[str] = set()
        self.applied: list[AmlPosting] = []  # the batch's rows, for customers read later

    def check(self, posting: ProposedPosting) -> ComplianceDecision:
        customers = _customers(posting)
        if CHANNELS.get(posting.kind) is None or not customers:
            return ALLOW
        legs = self.aml._legs(posting, since=self.since)
        if self.aml._clears(legs, self.summary):
            return ALLOW
        unread = {c for c in customers if str(c) not in self.read}
        if unread:
            self._read(unread)
        return self.aml._decide(legs, self.history)

    def _read(self, customers: set[uuid.UUID]) -> None:
        names = {str(c) for c in customers}
        for row in self.aml._history(self.db, customer_ids=customers, since=self.since):
            self.history.add(row)
        for row in self.applied:  # not written yet: the ledger writes a batch at its end
            if row.customer_id in names:
                self.history.add(row)
        self.read |= names

    def posted(self, posting: ProposedPosting) -> None:
        for row in aml_rows(posting):
            self.summary.add(row)
            self.applied.append(row)
            if row.customer_id in self.read:
                self.history.add(row)
