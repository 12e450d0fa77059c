"""Pure rules without a session: the case state machine, SLA policies and due dates.

Due dates: day 0 is the local day the complaint was received; each following local day that
counts (every day for ``calendar``, Monday-Friday outside the branch's holidays for ``business``)
and on which the clock was not paused uses up one day; the deadline is the end of the day that
uses up the last one (local midnight after it, as a UTC instant). A day on which the case waited
on the customer (from the local day the pause began up to, not including, the day it ended)
does not count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

from branchdesk.complaints.models import CaseState

# --- state machine -------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[frozenset[CaseState], CaseState]] = {
    "acknowledge": (frozenset({CaseState.new}), CaseState.acknowledged),
    "start": (frozenset({CaseState.acknowledged, CaseState.reopened}), CaseState.in_progress),
    "wait": (frozenset({CaseState.in_progress}), CaseState.waiting_on_customer),
    "resume": (frozenset({CaseState.waiting_on_customer}), CaseState.in_progress),
    "resolve": (
        frozenset({CaseState.in_progress, CaseState.waiting_on_customer}),
        CaseState.resolved,
    ),
    "close": (frozenset({CaseState.resolved}), CaseState.closed),
    "reopen": (frozenset({CaseState.resolved, CaseState.closed}), CaseState.reopened),
}


def next_state(state: str, action: str) -> CaseState | None:
    """The state after ``action``, or None when the state machine forbids it."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        return None
    sources, target = rule
    return target if state in sources else None


def allowed_actions(state: str) -> list[str]:
    return [action for action, (sources, _t) in TRANSITIONS.items() if state in sources]


# --- policies ------------------------------------------------------------------------------

Unit = Literal["calendar", "business"]
TARGETS = ("acknowledge", "interim", "final")


@dataclass(frozen=True, slots=True)
class Target:
    days: int
    unit: Unit


@dataclass(frozen=True, slots=True)
class Rule:
    acknowledge: Target
    interim: Target
    final: Target
    complex_final_days: int
    max_final_days: int


@dataclass(frozen=True, slots=True)
class Policy:
    jurisdiction: str
    code: str
    version: int
    name: str
    warn_lead_hours: int
    rules: tuple[tuple[str, str, Rule], ...]

    def rule_for(self, *, channel: str, severity: str) -> Rule:
        """The most specific rule: exact channel and severity beat a wildcard."""
        best: tuple[int, Rule] | None = None
        for rule_channel, rule_severity, rule in self.rules:
            if rule_channel not in ("*", channel) or rule_severity not in ("*", severity):
                continue
            score = (rule_channel != "*") * 2 + (rule_severity != "*")
            if best is None or score > best[0]:
                best = (score, rule)
        if best is None:
            raise LookupError(f"policy {self.code} has no rule for {channel}/{severity}")
        return best[1]


def _target(raw: dict[str, Any]) -> Target:
    unit = raw["unit"]
    if unit not in ("calendar", "business"):
        raise ValueError(f"unknown day unit {unit!r}")
    return Target(days=int(raw["days"]), unit=unit)


@dataclass(frozen=True, slots=True)
class PolicyBook:
    version: int
    default_jurisdiction: str
    timezones: dict[str, str]
    policies: dict[str, Policy]

    def jurisdiction_for_timezone(self, timezone: str) -> str:
        return self.timezones.get(timezone, self.default_jurisdiction)

    def policy(self, jurisdiction: str) -> Policy:
        try:
            return self.policies[jurisdiction]
        except KeyError:
            raise LookupError(f"no SLA policy for jurisdiction {jurisdiction!r}") from None


def parse_policy_book(raw: dict[str, Any]) -> PolicyBook:
    version = int(raw["version"])
    policies: dict[str, Policy] = {}
    for jurisdiction, body in raw["policies"].items():
        rules = tuple(
            (
                str(item["channel"]),
                str(item["severity"]),
                Rule(
                    acknowledge=_target(item["acknowledge"]),
                    interim=_target(item["interim"]),
                    final=_target(item["final"]),
                    complex_final_days=int(item["complex_final_days"]),
                    max_final_days=int(item["max_final_days"]),
                ),
            )
            for item in body["rules"]
        )
        policies[jurisdiction] = Policy(
            jurisdiction=jurisdiction,
            code=str(body["code"]),
            version=version,
            name=str(body["name"]),
            warn_lead_hours=int(body["warn_lead_hours"]),
            rules=rules,
        )
    return PolicyBook(
        version=version,
        default_jurisdiction=str(raw["default_jurisdiction"]),
        timezones={str(k): str(v) for k, v in raw["timezones"].items()},
        policies=policies,
    )


@lru_cache(maxsize=1)
def policy_book() -> PolicyBook:
    """The versioned policies shipped in ``sla_policies.json``."""
    text = resources.files("branchdesk.complaints").joinpath("sla_policies.json").read_text("utf-8")
    return parse_policy_book(json.loads(text))


# --- due dates -----------------------------------------------------------------------------


def _paused_days(
    pauses: Iterable[tuple[datetime, datetime | None]], tz: ZoneInfo, as_of: datetime
) -> set[date]:
    days: set[date] = set()
    for started, ended in pauses:
        first = started.astimezone(tz).date()
        last = (ended or as_of).astimezone(tz).date()
        day = first
        while day < last:
            days.add(day)
            day += timedelta(days=1)
    return days


def counts(day: date, unit: Unit, holidays: frozenset[date] | set[date]) -> bool:
    if unit == "calendar":
        return True
    return day.weekday() < 5 and day not in holidays


def due_at(
    received_at: datetime,
    *,
    days: int,
    unit: Unit,
    timezone: str,
    holidays: Iterable[date] = (),
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
    as_of: datetime | None = None,
) -> datetime:
    """The UTC instant by which a target of ``days`` (calendar or business) is due.

    ``pauses`` are (started, ended) intervals of waiting on the customer; an open pause
    (ended None) is counted up to ``as_of`` (default: ``received_at``, i.e. ignored).
    """
    if days < 0:
        raise ValueError("days must not be negative")
    tz = ZoneInfo(timezone)
    holiday_set = frozenset(holidays)
    paused = _paused_days(pauses, tz, as_of or received_at)
    day = received_at.astimezone(tz).date()
    used = 0
    while used < days:
        day += timedelta(days=1)
        if day not in paused and counts(day, unit, holiday_set):
            used += 1
    end_local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return end_local.astimezone(UTC)


def final_days(rule: Rule, *, is_complex: bool, extended_days: int | None) -> int:
    """Days for the final answer: the base, 30 for complex cases, an approved extension."""
    days = rule.final.days
    if is_complex:
        days = max(days, rule.complex_final_days)
    if extended_days is not None:
        days = max(days, min(extended_days, rule.max_final_days))
    return days


@dataclass(frozen=True, slots=True)
class DueDates:
    acknowledge: datetime
    interim: datetime
    final: datetime


def case_due_dates(
    rule: Rule,
    *,
    received_at: datetime,
    timezone: str,
    holidays: Iterable[date],
    pauses: Sequence[tuple[datetime, datetime | None]],
    is_complex: bool,
    extended_days: int | None,
    as_of: datetime,
) -> DueDates:
    holiday_list = list(holidays)

    def compute(target: Target, days: int) -> datetime:
        return due_at(
            received_at,
            days=days,
            unit=target.unit,
            timezone=timezone,
            holidays=holiday_list,
            pauses=pauses,
            as_of=as_of,
        )

    return DueDates(
        acknowledge=compute(rule.acknowledge, rule.acknowledge.days),
        interim=compute(rule.interim, rule.interim.days),
        final=compute(
            rule.final,
            final_days(rule, is_complex=is_complex, extended_days=extended_days),
        ),
    )
