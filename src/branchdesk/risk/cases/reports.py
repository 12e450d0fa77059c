"""Regulatory exports: the large-value transaction report (LVTR) over a date range and the
suspicious transaction report (STR) of one case, as CSV rows (and values for a printable page).

LVTR: one row per transaction of every report-only alert (``large_cash``, ``cross_border``)
booked in the range, with the fields a PBOC-style report asks for: reporting institution and
branch, customer, ID type and masked ID number, account, direction, amount, currency, CNY
equivalent (the rules' reference rates, rounded half-even), time, channel and counterparty.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.customers.models import Customer
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.ledger.models import Account, Entry, Posting, PostingKind
from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import cny_equivalent
from branchdesk.risk.cases.models import AmlAlert, AmlCase
from branchdesk.risk.cases.service import get_case

INSTITUTION = "BRANCHDESK"
CHANNELS = {
    PostingKind.deposit: "cash",
    PostingKind.withdrawal: "cash",
    PostingKind.transfer: "transfer",
    PostingKind.remittance: "remittance",
}
# the customer and the movement: the same columns, in the same order, in both reports
TRANSACTION_COLUMNS = (
    "customer_number",
    "customer_name",
    "id_type",
    "id_number_masked",
    "account_number",
    "direction",
    "amount",
    "currency",
    "cny_equivalent",
    "booked_at",
    "channel",
    "counterparty",
    "posting_id",
)
LVTR_COLUMNS = (
    "reporting_institution",
    "branch_code",
    "branch_name",
    "report_type",
    *TRANSACTION_COLUMNS,
    "alert_id",
)
STR_COLUMNS = (
    "case_reference",
    "case_status",
    "typology",
    "alert_source",
    "score_pct",
    *TRANSACTION_COLUMNS,
    "reason",
)


@dataclass(frozen=True)
class ReportLine:
    alert: AmlAlert
    branch: Branch | None
    customer: Customer | None
    account_number: str
    direction: str
    amount_minor: int
    currency: str
    booked_at: datetime | None  # None: a held posting not booked yet
    channel: str
    counterparty: str
    posting_id: str


def _major(minor: int, currency: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def _cny(minor: int, currency: str, config: RuleConfig) -> str:
    if currency not in config.currencies:
        return ""
    exact = cny_equivalent(minor, currency, config)
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN
    )
    return _major(int(value), "CNY")


def _transaction_values(line: ReportLine, config: RuleConfig) -> tuple[str, ...]:
    """The values under TRANSACTION_COLUMNS for one line."""
    customer = line.customer
    return (
        customer.customer_number if customer else "",
        customer.full_name if customer else "",
        customer.id_document_type if customer else "",
        customer.id_number_masked if customer else "",
        line.account_number,
        line.direction,
        _major(line.amount_minor, line.currency),
        line.currency,
        _cny(line.amount_minor, line.currency, config),
        line.booked_at.isoformat() if line.booked_at else "",
        line.channel,
        line.counterparty,
        line.posting_id,
    )


def _lines(db: Session, alerts: Sequence[AmlAlert]) -> list[ReportLine]:
    """One line per (alert, posting): the alert account's movement in that posting."""
    posting_ids = sorted({uuid.UUID(p) for a in alerts for p in a.posting_ids})
    numbers = sorted({a.account_number for a in alerts})
    if not posting_ids:
        return []
    postings = {
        p.id: p for p in db.execute(select(Posting).where(Posting.id.in_(posting_ids))).scalars()
    }
    accounts = {
        a.number: a
        for a in db.execute(select(Account).where(Account.number.in_(numbers))).scalars()
    }
    entries: dict[tuple[uuid.UUID, uuid.UUID], Entry] = {}
    for entry in db.execute(select(Entry).where(Entry.posting_id.in_(posting_ids))).scalars():
        entries[(entry.posting_id, entry.account_id)] = entry
    others: dict[uuid.UUID, list[Entry]] = {}
    for entry in entries.values():
        others.setdefault(entry.posting_id, []).append(entry)
    other_numbers = (
        {
            a.id: a.number
            for a in db.execute(
                select(Account).where(
                    Account.id.in_(sorted({e.account_id for e in entries.values()}))
                )
            ).scalars()
        }
        if entries
        else {}
    )
    customers = {
        c.id: c
        for c in db.execute(
            select(Customer).where(
                Customer.id.in_(sorted({a.customer_id for a in alerts if a.customer_id}))
            )
        ).scalars()
    }
    branches = {b.id: b for b in db.execute(select(Branch)).scalars()}
    lines = []
    for alert in alerts:
        account = accounts.get(alert.account_number)
        for pid in alert.posting_ids:
            posting = postings.get(uuid.UUID(pid))
            if posting is None or account is None:
                continue
            moved = entries.get((posting.id, account.id))
            booked: datetime | None
            if moved is not None:
                amount, booked = moved.amount_minor, moved.booked_at
            else:  # held: the legs say what would move
                leg = next(
                    (
                        int(g["amount_minor"])
                        for g in posting.legs
                        if g["account_id"] == str(account.id)
                    ),
                    -posting.amount_minor,
                )
                amount, booked = leg, None
            channel = CHANNELS.get(PostingKind(posting.kind), posting.kind)
            if channel == "remittance":
                counterparty = posting.beneficiary
            elif channel == "cash":
                counterparty = ""
            else:
                counterparty = next(
                    (
                        other_numbers.get(e.account_id, "")
                        for e in others.get(posting.id, [])
                        if e.account_id != account.id
                    ),
                    "",
                )
            lines.append(
                ReportLine(
                    alert=alert,
                    branch=branches.get(posting.branch_id),
                    customer=customers.get(alert.customer_id) if alert.customer_id else None,
                    account_number=account.number,
                    direction="credit" if amount > 0 else "debit",
                    amount_minor=abs(amount),
                    currency=posting.currency,
                    booked_at=booked,
                    channel=channel,
                    counterparty=counterparty,
                    posting_id=str(posting.id),
                )
            )
    return lines


def large_value_rows(
    db: Session,
    *,
    start: datetime,
    end: datetime,
    config: RuleConfig | None = None,
    institution: str = INSTITUTION,
) -> list[tuple[str, ...]]:
    """LVTR rows for report-only alerts with a movement booked in [start, end), by time."""
    config = config or RuleConfig()
    alerts = list(
        db.execute(select(AmlAlert).where(AmlAlert.is_report).order_by(AmlAlert.id)).scalars()
    )
    lines = [
        line
        for line in _lines(db, alerts)
        if line.booked_at is not None and start <= line.booked_at < end
    ]
    lines.sort(key=lambda x: (x.booked_at or start, x.account_number, x.alert.typology))
    return [
        (
            institution,
            line.branch.code if line.branch else "",
            line.branch.name_zh_hans if line.branch else "",
            line.alert.typology,
            *_transaction_values(line, config),
            line.alert.fingerprint,
        )
        for line in lines
    ]


def large_value_report(
    db: Session, *, actor: Principal, start: datetime, end: datetime
) -> list[tuple[str, ...]]:
    """The LVTR for staff (every branch's reports: the bank files them). Raises Forbidden."""
    actor.require(Permission.aml_manage)
    return large_value_rows(db, start=start, end=end)


def suspicious_rows(
    db: Session, *, case_id: uuid.UUID, actor: Principal, config: RuleConfig | None = None
) -> tuple[AmlCase, list[tuple[str, ...]]]:
    """STR rows of one case (every transaction of its alerts). Raises Forbidden, CaseNotFound."""
    actor.require(Permission.aml_manage)
    get_case(db, case_id=case_id, actor=actor)  # scope and existence
    config = config or RuleConfig()
    case = db.get(AmlCase, case_id)
    assert case is not None
    alerts = list(
        db.execute(
            select(AmlAlert).where(AmlAlert.case_id == case_id).order_by(AmlAlert.first_booked_at)
        ).scalars()
    )
    rows: list[tuple[str, ...]] = []
    for line in _lines(db, alerts):
        rows.append(
            (
                case.reference,
                case.status,
                line.alert.typology,
                line.alert.source,
                str(line.alert.score_pct),
                *_transaction_values(line, config),
                line.alert.reason,
            )
        )
    return case, rows


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
