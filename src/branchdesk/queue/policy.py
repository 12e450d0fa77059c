"""The one queue policy: given the waiting tickets, a counter and the time, who is called next.

A pure function. Production call-next, the branch simulator and the wait-time look-ahead all
call ``rank_for_counter``/``choose_next``; there is no second implementation of "who goes next".

Rule, in words:
- a counter serves only tickets of its services (or tickets transferred to it by name);
- a remote ticket is not callable until the customer has checked in at the branch;
- each ticket scores its waited seconds plus a priority-class bonus (VIP, appointment, elderly);
- an appointment counts as one only from a few minutes before its booked time;
- any ticket that has waited past its service's target wait gains the aging bonus, so nobody
  starves: waited time keeps growing, bonuses do not;
- a VIP counter adds a large preference for VIP tickets;
- ties go to the earlier arrival, then the lower number.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    id: uuid.UUID
    number: str
    service_code: str
    priority: str  # vip | appointment | elderly | normal
    queued_at: datetime
    target_wait: timedelta
    is_checked_in: bool = True
    booked_at: datetime | None = None
    target_counter: str | None = None


@dataclass(frozen=True, slots=True)
class CounterView:
    code: str
    service_codes: frozenset[str]
    is_vip: bool = False
    is_open: bool = True


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    vip_bonus: timedelta = timedelta(seconds=900)
    appointment_bonus: timedelta = timedelta(seconds=1200)
    elderly_bonus: timedelta = timedelta(seconds=600)
    aging_bonus: timedelta = timedelta(seconds=900)
    vip_counter_preference: timedelta = timedelta(seconds=3600)
    appointment_lead: timedelta = timedelta(minutes=5)


def can_serve(ticket: WaitingTicket, counter: CounterView) -> bool:
    if not counter.is_open or not ticket.is_checked_in:
        return False
    if ticket.target_counter is not None:
        return ticket.target_counter == counter.code
    return ticket.service_code in counter.service_codes


def score(
    ticket: WaitingTicket, counter: CounterView, now: datetime, config: PolicyConfig
) -> float:
    """Seconds-equivalent urgency of a ticket at a counter (higher is called first)."""
    waited = now - ticket.queued_at
    total = waited.total_seconds()
    if ticket.priority == "vip":
        total += config.vip_bonus.total_seconds()
        if counter.is_vip:
            total += config.vip_counter_preference.total_seconds()
    elif ticket.priority == "appointment":
        if ticket.booked_at is None or now >= ticket.booked_at - config.appointment_lead:
            total += config.appointment_bonus.total_seconds()
    elif ticket.priority == "elderly":
        total += config.elderly_bonus.total_seconds()
    if waited > ticket.target_wait:
        total += config.aging_bonus.total_seconds()
    if ticket.target_counter is not None:
        total += config.vip_counter_preference.total_seconds()  # sent here on purpose
    return total


def sort_key(
    ticket: WaitingTicket, counter: CounterView, now: datetime, config: PolicyConfig
) -> tuple[float, datetime, str]:
    """The order of callable tickets at a counter: the smaller key is called first."""
    return (-score(ticket, counter, now, config), ticket.queued_at, ticket.number)


def rank_for_counter(
    waiting: Sequence[WaitingTicket], counter: CounterView, now: datetime, config: PolicyConfig
) -> list[WaitingTicket]:
    """The tickets this counter may call, best first."""
    callable_here = [t for t in waiting if can_serve(t, counter)]
    return sorted(callable_here, key=lambda t: sort_key(t, counter, now, config))


_FIRST_NUMBER = ""  # sorts before every ticket number
_LAST_NUMBER = "\U0010ffff"  # sorts after every ticket number
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ArrivalsAhead:
    """Which arrivals of a group of alike tickets rank ahead of one ticket (see ``arrivals_ahead``).

    ``surely``: a ticket of the group that arrived at or before it ranks ahead, whatever its
    number (None: none does). ``maybe``: a ticket that arrived exactly then ties on score and
    arrival and ranks ahead only if its number sorts first (None: no such instant). Every later
    arrival ranks behind.
    """

    surely: datetime | None
    maybe: datetime | None


def arrivals_ahead(
    alike: WaitingTicket,
    mine: WaitingTicket,
    counter: CounterView,
    now: datetime,
    config: PolicyConfig,
    *,
    earliest: datetime,
    latest: datetime,
) -> ArrivalsAhead:
    """For tickets alike ``alike`` (the same fields but id, number and arrival) that arrived
    between ``earliest`` and ``latest``: which of them ``rank_for_counter`` puts before ``mine``.

    Lets a caller count the tickets ahead of one ticket with a count per group instead of
    ranking every rival. It needs no second copy of the score: within alike tickets a later
    arrival has waited less with the same bonuses, so ``sort_key`` strictly grows with the
    arrival, and the boundary is found by bisection over whole microseconds (the resolution of
    stored instants) with ``sort_key`` itself.
    """
    if not can_serve(alike, counter):
        return ArrivalsAhead(None, None)
    mine_key = sort_key(mine, counter, now, config)
    steps = (latest - earliest) // _MICROSECOND

    def last_ahead(number: str) -> datetime | None:
        def ahead(step: int) -> bool:
            arrival = replace(alike, queued_at=earliest + step * _MICROSECOND, number=number)
            return sort_key(arrival, counter, now, config) < mine_key

        if not ahead(0):
            return None
        if ahead(steps):
            return latest
        low, high = 0, steps  # ahead(low) and not ahead(high)
        while high - low > 1:
            middle = (low + high) // 2
            if ahead(middle):
                low = middle
            else:
                high = middle
        return earliest + low * _MICROSECOND

    surely = last_ahead(_LAST_NUMBER)
    maybe = last_ahead(_FIRST_NUMBER)
    return ArrivalsAhead(surely, maybe if maybe != surely else None)


def choose_next(
    waiting: Sequence[WaitingTicket], counter: CounterView, now: datetime, config: PolicyConfig
) -> WaitingTicket | None:
    ranked = rank_for_counter(waiting, counter, now, config)
    return ranked[0] if ranked else None
