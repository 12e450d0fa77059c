"""The synthetic world's legitimate background: salaried people, merchants with many small
payers, cash businesses, one-off large inflows, rarely used savings accounts, large-cash edge
cases. Planted typologies live in `synth_planted`; `synth.generate` puts them together."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["BEIJING", "DAYS", "MIXES", "START", "Mix", "Row", "World"]

BEIJING = timezone(timedelta(hours=8))
START = datetime(2026, 1, 1, tzinfo=BEIJING)
DAYS = 181
BANKS = ("ICBK", "PCBC", "COMM", "CMBC", "BKCH", "ABOC")


@dataclass(frozen=True)
class Mix:
    """Shares of background profiles and number of planted accounts per typology."""

    merchants: float = 0.06
    qr_merchants: float = 0.03
    cash_businesses: float = 0.05
    one_off_inflows: float = 0.04
    landlords: float = 0.01
    payroll_firms: float = 0.01
    planted_per_typology: int = 20
    hard: bool = False  # planted patterns spread wider (fewer amounts, slower, longer hops)


MIXES: dict[str, Mix] = {
    "standard": Mix(),
    "lookalike-heavy": Mix(
        merchants=0.10,
        qr_merchants=0.06,
        cash_businesses=0.10,
        one_off_inflows=0.08,
        planted_per_typology=15,
    ),
    "hard": Mix(
        merchants=0.08,
        qr_merchants=0.05,
        cash_businesses=0.08,
        one_off_inflows=0.06,
        landlords=0.03,
        payroll_firms=0.03,
        planted_per_typology=20,
        hard=True,
    ),
}

Row = tuple[datetime, str, str, str, int, str, str, str, str, str]
# booked_at, account, customer, direction, amount_minor, currency, channel, cp account, cp bank,
# country


class World:
    def __init__(self, seed: int, *, hard: bool = False) -> None:
        self.hard = hard
        self.rng = random.Random(seed)
        self.rows: list[Row] = []
        self.labels: list[tuple[str, str]] = []  # typology, account

    def at(self, day: float, hour_low: float = 8.0, hour_high: float = 20.0) -> datetime:
        hour = self.rng.uniform(hour_low, hour_high)
        return START + timedelta(days=int(day), hours=hour)

    def external(self) -> tuple[str, str]:
        return f"X{self.rng.randrange(10**9, 10**10)}", self.rng.choice(BANKS)

    def add(
        self,
        when: datetime,
        account: str,
        customer: str,
        direction: str,
        minor: int,
        channel: str,
        counterparty: tuple[str, str] | None = None,
        currency: str = "CNY",
        country: str = "CN",
    ) -> None:
        if channel == "cash":
            account_cp, bank = "", ""
        else:
            account_cp, bank = counterparty or self.external()
        self.rows.append(
            (
                when,
                account,
                customer,
                direction,
                minor,
                currency,
                channel,
                account_cp,
                bank,
                country,
            )
        )

    def money(self, low: float, high: float) -> int:
        return int(self.rng.uniform(low, high) * 100)

    # ---- background profiles -------------------------------------------------------------
    def salaried(self, account: str, customer: str) -> None:
        rng = self.rng
        salary = self.money(5_000, 30_000)
        employer = self.external()
        for month in range(6):
            day = month * 30 + rng.randint(0, 4)
            self.add(self.at(day, 9, 11), account, customer, "credit", salary, "transfer", employer)
            if rng.random() < 0.5:
                rent = self.money(1_500, 6_000)
                self.add(self.at(day + 2), account, customer, "debit", rent, "transfer")
        for day in range(DAYS):
            if rng.random() < 0.55:
                self.add(self.at(day), account, customer, "debit", self.money(20, 900), "card")
            if rng.random() < 0.07:
                self.add(self.at(day), account, customer, "debit", self.money(200, 2_000), "atm")
            if rng.random() < 0.03:
                self.add(
                    self.at(day), account, customer, "credit", self.money(100, 5_000), "transfer"
                )
            if rng.random() < 0.01:
                self.add(self.at(day), account, customer, "credit", self.money(500, 20_000), "cash")

    def merchant(self, account: str, customer: str, *, qr: bool) -> None:
        """Many small payers every day; takings paid to a supplier weekly (later, not at once)."""
        rng = self.rng
        supplier = ("SUPPLIER01", "ICBK")
        week_total = 0
        for day in range(DAYS):
            for _ in range(rng.randint(3, 12)):
                amount = self.money(20, 800) if qr else self.money(50, 600)
                channel = "transfer" if qr else "card"
                self.add(self.at(day, 8, 22), account, customer, "credit", amount, channel)
                week_total += amount
            if day % 7 == 6:
                paid = int(week_total * rng.uniform(0.6, 1.0))
                self.add(self.at(day + 1), account, customer, "debit", paid, "transfer", supplier)
                week_total = 0
            if rng.random() < 0.2:
                self.add(self.at(day), account, customer, "debit", self.money(50, 900), "card")

    def cash_business(self, account: str, customer: str) -> None:
        """Cash takings deposited twice a week in natural amounts across a wide range."""
        rng = self.rng
        for week in range(DAYS // 7 + 1):
            for offset in (0, 3):
                day = week * 7 + offset + rng.choice((0, 0, 1))
                if day < DAYS:
                    amount = self.money(3_000, 68_000)
                    self.add(self.at(day, 9, 19), account, customer, "credit", amount, "cash")
            if rng.random() < 0.8:
                supplier = ("SUPPLIER02", "COMM")
                paid = self.money(20_000, 120_000)
                self.add(
                    self.at(week * 7 + 5), account, customer, "debit", paid, "transfer", supplier
                )
        for day in range(0, DAYS, 2):
            self.add(self.at(day), account, customer, "debit", self.money(30, 900), "card")

    def one_off_inflow(self, account: str, customer: str) -> None:
        """Ordinary life plus one large inflow (inheritance, property sale) that stays."""
        self.salaried(account, customer)
        rng = self.rng
        day = rng.randint(5, DAYS - 5)
        big = self.money(150_000, 2_000_000)
        self.add(self.at(day), account, customer, "credit", big, "transfer")
        if rng.random() < 0.5:  # part of it spent or invested much later
            later = min(DAYS - 1, day + rng.randint(10, 40))
            spent = int(big * rng.uniform(0.2, 0.9))
            self.add(self.at(later), account, customer, "debit", spent, "transfer")

    def savings(self, account: str, customer: str, primary: str) -> None:
        """A second account used rarely: a few own transfers, sometimes long silences."""
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            day = rng.randint(0, DAYS - 1)
            amount = self.money(1_000, 40_000)
            self.add(
                self.at(day), primary, customer, "debit", amount, "transfer", (account, "SELF")
            )
            self.add(
                self.at(day), account, customer, "credit", amount, "transfer", (primary, "SELF")
            )
            if rng.random() < 0.3:  # and back again later
                back = min(DAYS - 1, day + rng.randint(1, 30))
                cp_primary, cp_account = (primary, "SELF"), (account, "SELF")
                self.add(self.at(back), account, customer, "debit", amount, "transfer", cp_primary)
                self.add(self.at(back), primary, customer, "credit", amount, "transfer", cp_account)

    def large_cash_individual(self, account: str, customer: str) -> None:
        """Boundary cases of the large-cash rule on otherwise ordinary customers."""
        self.salaried(account, customer)
        rng = self.rng
        day = rng.randint(0, DAYS - 2)
        case = rng.randrange(6)
        if case == 0:  # exactly at the line
            self.add(self.at(day), account, customer, "credit", 5_000_000, "cash")
        elif case == 1:  # one fen under
            self.add(self.at(day), account, customer, "credit", 4_999_999, "cash")
        elif case == 2:  # same-day cumulative withdrawals
            for _ in range(2):
                self.add(
                    self.at(day), account, customer, "debit", self.money(25_000, 30_000), "cash"
                )
        elif case == 3:  # USD exactly 10,000
            self.add(self.at(day), account, customer, "credit", 1_000_000, "cash", currency="USD")
        elif case == 4:  # USD same day 6,000 + 4,500
            for amount in (600_000, 450_000):
                self.add(self.at(day), account, customer, "credit", amount, "cash", currency="USD")
        else:  # two deposits on consecutive days (not cumulated)
            for shift in (0, 1):
                self.add(self.at(day + shift), account, customer, "credit", 3_000_000, "cash")

    def landlord(self, account: str, customer: str) -> None:
        """The same tenants pay rent early each month; the mortgage leaves days later."""
        self.salaried(account, customer)
        rng = self.rng
        tenants = [(self.external(), self.money(2_500, 6_000)) for _ in range(rng.randint(9, 14))]
        lender = self.external()
        for month in range(6):
            total = 0
            for tenant, rent in tenants:
                day = month * 30 + rng.randint(0, 4)
                self.add(self.at(day), account, customer, "credit", rent, "transfer", tenant)
                total += rent
            mortgage = int(total * rng.uniform(0.7, 0.9))
            self.add(
                self.at(month * 30 + 6), account, customer, "debit", mortgage, "transfer", lender
            )

    def payroll_firm(self, account: str, customer: str) -> None:
        """Regular clients pay invoices; the same staff are paid every month."""
        rng = self.rng
        clients = [self.external() for _ in range(rng.randint(4, 8))]
        staff = [(self.external(), self.money(4_000, 15_000)) for _ in range(rng.randint(10, 20))]
        payroll = sum(pay for _, pay in staff)
        for month in range(6):
            for _ in range(rng.randint(4, 8)):
                day = month * 30 + rng.randint(0, 27)
                invoice = int(payroll * rng.uniform(0.2, 0.45))
                client = rng.choice(clients)
                self.add(self.at(day), account, customer, "credit", invoice, "transfer", client)
            for person, pay in staff:
                day = month * 30 + 25
                self.add(self.at(day, 9, 12), account, customer, "debit", pay, "transfer", person)
