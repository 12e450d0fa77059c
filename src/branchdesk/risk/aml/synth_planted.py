"""Planted suspicious typologies for the synthetic export (see `synth`).

Each planter adds the typology's movements to an account, usually on top of an ordinary
salaried life so that the account is not trivially different from its neighbours.
"""

from __future__ import annotations

from datetime import timedelta

from branchdesk.risk.aml.synth_world import DAYS, World

__all__ = [
    "plant_cycle",
    "plant_dormant",
    "plant_fan_in",
    "plant_fan_out",
    "plant_pass_through",
    "plant_structuring",
]


def plant_structuring(world: World, account: str, customer: str) -> None:
    """3-6 cash amounts just under RMB 50,000, on different days within about a week."""
    world.salaried(account, customer)
    rng = world.rng
    direction = "credit" if rng.random() < (0.6 if world.hard else 0.75) else "debit"
    day = rng.randint(0, DAYS - 20)
    low = 40_500 if world.hard else 41_000
    for _ in range(rng.randint(2, 6) if world.hard else rng.randint(3, 6)):
        amount = world.money(low, 49_950)
        world.add(world.at(day, 9, 20), account, customer, direction, amount, "cash")
        day += rng.choice((1, 2, 3)) if world.hard else rng.choice((1, 1, 2))
    world.labels.append(("structuring", account))


def plant_pass_through(world: World, account: str, customer: str) -> None:
    """A large inflow of which 85-99% leaves again within about a day."""
    world.salaried(account, customer)
    rng = world.rng
    day = rng.randint(0, DAYS - 3)
    inflow = world.money(100_000, 800_000)
    start = world.at(day, 8, 16)
    world.add(start, account, customer, "credit", inflow, "transfer")
    parts = rng.randint(1, 4)
    out_total = int(inflow * rng.uniform(0.85, 0.99))
    when = start
    for k in range(parts):
        when = when + timedelta(hours=rng.uniform(0.3, (44 if world.hard else 30) / parts))
        amount = out_total // parts + (out_total % parts if k == 0 else 0)
        channel = "remittance" if rng.random() < 0.3 else "transfer"
        world.add(when, account, customer, "debit", amount, channel)
    world.labels.append(("pass_through", account))


def plant_fan_in(world: World, account: str, customer: str) -> None:
    """10-25 distinct senders over 1-6 days, then most of it leaves within 1.5 days."""
    world.salaried(account, customer)
    rng = world.rng
    day = rng.randint(0, DAYS - 10)
    span_days = rng.randint(1, 6)
    total = 0
    last = world.at(day)
    senders = sorted(
        world.at(day + rng.randint(0, span_days - 1)) for _ in range(rng.randint(10, 25))
    )
    for when in senders:
        amount = world.money(3_000, 25_000)
        world.add(when, account, customer, "credit", amount, "transfer")
        total += amount
        last = when
    out_total = int(total * rng.uniform(0.85, 0.98))
    parts = rng.randint(1, 3)
    when = last
    for k in range(parts):
        when = when + timedelta(hours=rng.uniform(1, (80 if world.hard else 36) / parts))
        amount = out_total // parts + (out_total % parts if k == 0 else 0)
        world.add(when, account, customer, "debit", amount, "transfer")
    world.labels.append(("fan_in", account))


def plant_fan_out(world: World, account: str, customer: str) -> None:
    """A large inflow sent on to 10-25 distinct counterparties over 1-3 days."""
    world.salaried(account, customer)
    rng = world.rng
    day = rng.randint(0, DAYS - 5)
    inflow = world.money(200_000, 600_000)
    start = world.at(day, 8, 12)
    world.add(start, account, customer, "credit", inflow, "transfer")
    count = rng.randint(10, 25)
    each = int(inflow * rng.uniform(0.9, 0.98)) // count
    span_hours = rng.uniform(8, 150 if world.hard else 70)
    for _ in range(count):
        when = start + timedelta(hours=rng.uniform(0.2, span_hours))
        world.add(when, account, customer, "debit", each, "transfer")
    world.labels.append(("fan_out", account))


def plant_dormant(world: World, account: str, customer: str) -> None:
    """Some early activity (or none), silence for 125+ days, then large movements."""
    rng = world.rng
    last_early = -1
    if rng.random() < (0.5 if world.hard else 0.7):
        for _ in range(rng.randint(2, 6)):
            last_early = max(last_early, rng.randint(0, 25))
            world.add(
                world.at(last_early), account, customer, "debit", world.money(50, 2_000), "card"
            )
    earliest = max(last_early, 0) + 125
    day = rng.randint(earliest, DAYS - 4)
    inflow = world.money(80_000, 500_000)
    start = world.at(day, 8, 14)
    world.add(start, account, customer, "credit", inflow, "transfer")
    when = start
    for _ in range(rng.randint(1, 4)):
        when = when + timedelta(hours=rng.uniform(1, 40))
        world.add(when, account, customer, "debit", int(inflow * rng.uniform(0.2, 0.3)), "transfer")
    world.labels.append(("dormant_reactivation", account))


def plant_cycle(world: World, members: list[tuple[str, str]]) -> None:
    """Funds travel through 3-5 accounts of this bank and come back to the first one."""
    rng = world.rng
    for account, customer in members:
        world.salaried(account, customer)
    day = rng.randint(0, DAYS - 8)
    amount = world.money(100_000, 600_000)
    when = world.at(day, 8, 12)
    for position, (account, customer) in enumerate(members):
        target, target_customer = members[(position + 1) % len(members)]
        world.add(when, account, customer, "debit", amount, "transfer", (target, "SELF"))
        arrival = when + timedelta(seconds=rng.randint(5, 40))
        world.add(arrival, target, target_customer, "credit", amount, "transfer", (account, "SELF"))
        when = arrival + timedelta(hours=rng.uniform(0.5, 30 if world.hard else 14))
        amount = int(amount * rng.uniform(0.97, 0.995))
    for account, _ in members:
        world.labels.append(("cycle", account))
