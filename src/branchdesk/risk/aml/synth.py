"""Labelled synthetic six-month export for evaluating the monitoring rules.

`generate` builds a world of legitimate customers (salaried people, merchants with many small
payers, cash businesses, one-off large inflows, rarely used savings accounts) with planted
typologies, then writes the export in the README format and a labels file:
`typology,account_id,txn_id` with one row per planted account (txn_id empty) and one row per
cash transaction that must be reported as large cash. The large-cash labels are computed here,
independently of the rules (Decimal sums per customer, reporting day and side).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from branchdesk.risk.aml.synth_planted import (
    plant_cycle,
    plant_dormant,
    plant_fan_in,
    plant_fan_out,
    plant_pass_through,
    plant_structuring,
)
from branchdesk.risk.aml.synth_world import BEIJING, MIXES, Mix, World

__all__ = ["MIXES", "GeneratedExport", "Mix", "generate", "write_export", "write_labels"]

HEADER = (
    "txn_id",
    "booked_at",
    "account_id",
    "customer_id",
    "direction",
    "amount",
    "currency",
    "channel",
    "counterparty_account",
    "counterparty_bank",
    "country",
)
RMB_LINE = Decimal(50_000)
USD_LINE = Decimal(10_000)


@dataclass(frozen=True)
class GeneratedExport:
    rows: list[tuple[str, ...]]  # CSV rows in HEADER order, sorted by time
    labels: list[tuple[str, str, str]]  # typology, account_id, txn_id


def _amount_text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def generate(seed: int, customers: int = 1000, mix: Mix | None = None) -> GeneratedExport:
    """A reproducible six-month export with `customers` background customers."""
    mix = mix or MIXES["standard"]
    world = World(seed, hard=mix.hard)
    rng = world.rng
    planted = mix.planted_per_typology
    cycle_members = max(3, planted)
    total = customers + 5 * planted + cycle_members
    numbers = rng.sample(range(1, max(total * 3, 1000)), total)
    pool = iter(numbers)

    def next_customer() -> tuple[str, str]:
        number = next(pool)
        return f"A{number:05d}01", f"C{number:06d}"

    for _ in range(customers):
        account, customer = next_customer()
        draw = rng.random()
        edges = (
            mix.merchants,
            mix.qr_merchants,
            mix.cash_businesses,
            mix.one_off_inflows,
            mix.landlords,
            mix.payroll_firms,
        )
        if draw < edges[0]:
            world.merchant(account, customer, qr=False)
        elif draw < sum(edges[:2]):
            world.merchant(account, customer, qr=True)
        elif draw < sum(edges[:3]):
            world.cash_business(account, customer)
        elif draw < sum(edges[:4]):
            world.one_off_inflow(account, customer)
        elif draw < sum(edges[:5]):
            world.landlord(account, customer)
        elif draw < sum(edges):
            world.payroll_firm(account, customer)
        elif draw < sum(edges) + 0.03:
            world.large_cash_individual(account, customer)
        else:
            world.salaried(account, customer)
        if rng.random() < 0.3:
            world.savings(account[:-2] + "02", customer, account)
    for planter in (
        plant_structuring,
        plant_pass_through,
        plant_fan_in,
        plant_fan_out,
        plant_dormant,
    ):
        for _ in range(planted):
            planter(world, *next_customer())
    remaining = [next_customer() for _ in range(cycle_members)]
    while len(remaining) >= 3:
        size = min(len(remaining), rng.randint(3, 5))
        if 0 < len(remaining) - size < 3:
            size = len(remaining)
        plant_cycle(world, remaining[:size])
        remaining = remaining[size:]
    return _finish(world)


def _finish(world: World) -> GeneratedExport:
    ordered = sorted(world.rows, key=lambda row: row[0])
    rows: list[tuple[str, ...]] = []
    for index, row in enumerate(ordered, start=1):
        when, account, customer, direction, minor, currency, channel, cp, bank, country = row
        rows.append(
            (
                f"T{index:08d}",
                when.astimezone(BEIJING).isoformat(timespec="seconds"),
                account,
                customer,
                direction,
                _amount_text(minor),
                currency,
                channel,
                cp,
                bank,
                country,
            )
        )
    labels = [(typology, account, "") for typology, account in sorted(set(world.labels))]
    labels.extend(_large_cash_labels(rows))
    return GeneratedExport(rows, labels)


def _large_cash_labels(rows: list[tuple[str, ...]]) -> list[tuple[str, str, str]]:
    """Cash rows whose customer's same-day, same-side total reaches the PBOC line."""
    totals: dict[tuple[str, str, str, bool], Decimal] = defaultdict(Decimal)
    members: dict[tuple[str, str, str, bool], list[tuple[str, str]]] = defaultdict(list)
    for txn_id, booked_at, account, customer, direction, amount, currency, channel, *_ in rows:
        if channel != "cash":
            continue
        key = (customer, booked_at[:10], direction, currency == "CNY")
        value = Decimal(amount) if currency == "CNY" else Decimal(amount) * _usd_rate(currency)
        totals[key] += value
        members[key].append((account, txn_id))
    labels: list[tuple[str, str, str]] = []
    for key, total in totals.items():
        if total >= (RMB_LINE if key[3] else USD_LINE):
            labels.extend(("large_cash", account, txn) for account, txn in members[key])
    return sorted(labels)


def _usd_rate(currency: str) -> Decimal:
    if currency != "USD":
        raise ValueError(f"the generator only writes CNY and USD cash, not {currency}")
    return Decimal(1)


def write_export(export: GeneratedExport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(export.rows)


def write_labels(export: GeneratedExport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(("typology", "account_id", "txn_id"))
        writer.writerows(export.labels)
