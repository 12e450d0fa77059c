"""Small builders for hand-made transaction histories (deterministic, no randomness)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from branchdesk.risk.aml.config import RuleConfig
from branchdesk.risk.aml.io import Posting, transactions_from_postings
from branchdesk.risk.aml.scan import Alert, scan_transactions

BEIJING = timezone(timedelta(hours=8))
DAY0 = datetime(2026, 1, 5, 9, 0, tzinfo=BEIJING)

_counter = {"n": 0}


def at(days: float = 0, hours: float = 0) -> datetime:
    return DAY0 + timedelta(days=days, hours=hours)


def post(
    when: datetime,
    account: str,
    direction: str,
    amount: str,
    channel: str = "transfer",
    *,
    counterparty: str = "",
    bank: str = "",
    customer: str | None = None,
    currency: str = "CNY",
    country: str = "CN",
    txn_id: str | None = None,
) -> Posting:
    """A posting with `amount` in major units (exact decimal string)."""
    _counter["n"] += 1
    if not counterparty and channel != "cash":
        counterparty, bank = f"X{_counter['n']:09d}", bank or "ICBK"
    exponent = 0 if currency in {"JPY", "KRW"} else 2
    minor = int(Decimal(amount).scaleb(exponent))
    return Posting(
        txn_id=txn_id or f"T{_counter['n']:07d}",
        booked_at=when,
        account_id=account,
        customer_id=customer or "C" + account[1:],
        direction=direction,
        amount_minor=minor,
        currency=currency,
        channel=channel,
        counterparty_account=counterparty,
        counterparty_bank=bank,
        country=country,
    )


def scan(postings: list[Posting], config: RuleConfig | None = None) -> list[Alert]:
    config = config or RuleConfig()
    return scan_transactions(transactions_from_postings(postings, config), config)


def of(alerts: list[Alert], typology: str) -> list[Alert]:
    return [alert for alert in alerts if alert.typology == typology]


def flagged(alerts: list[Alert], typology: str) -> set[str]:
    return {alert.account_id for alert in of(alerts, typology)}
