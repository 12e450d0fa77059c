"""Past days of ticket traffic for the demo branches, so the learned wait-time model has history.

The days are simulated by `queue/streamgen.py` on the branch's own counters and services and
written as completed tickets plus their events, in the same shape the live queue writes.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from branchdesk.core.events import Event
from branchdesk.queue.models import Ticket
from branchdesk.queue.streamgen import BranchConfig, CounterSpec, ServiceSpec, generate_events

HOURLY = (0.8, 1.3, 1.1, 0.9, 1.2, 1.0, 0.8, 0.6)
SHARES = {"CASH": 0.34, "XFER": 0.18, "ACCT": 0.1, "CARD": 0.08, "ENQ": 0.14, "FX": 0.06,
          "LOAN": 0.05, "WLTH": 0.05}  # fmt: skip
PRIORITIES = {"normal": 0.8, "elderly": 0.1, "vip": 0.06, "appointment": 0.04}
NAMESPACE = uuid.UUID("7d0c3a5e-4b8e-4f7e-9a51-0b5f8f2f6a10")
COUNTER_EVENT_TYPES = {"counter_open": "counter.open", "counter_close": "counter.closed"}
BOOSTS = {"vip": 900.0, "appointment": 1200.0, "elderly": 600.0, "normal": 0.0}


def history_config(
    counters: Iterable[tuple[str, bool, list[str]]],
    handling_minutes: dict[str, int],
    *,
    utc_offset_hours: int,
    start: date,
    days: int,
    tickets_per_day: float,
) -> BranchConfig:
    specs = tuple(
        CounterSpec(
            name=code, services=tuple(services), is_vip=is_vip,
            lunch_start_minute=(12 * 60 if index % 2 else 12 * 60 + 60) if index < 4 else None,
        )
        for index, (code, is_vip, services) in enumerate(counters)
    )  # fmt: skip
    return BranchConfig(
        counters=specs,
        services={
            code: ServiceSpec(mean_seconds=minutes * 60.0, cv=0.6, share=SHARES.get(code, 0.05))
            for code, minutes in handling_minutes.items()
        },
        priority_mix=PRIORITIES,
        boosts=BOOSTS,
        hourly_profile=HOURLY,
        tickets_per_day=tickets_per_day,
        utc_offset_hours=utc_offset_hours,
        days=days,
        start=start,
        aging_after_seconds=15 * 60,
    )


def write_history(
    db: Session,
    *,
    branch_id: uuid.UUID,
    branch_code: str,
    config: BranchConfig,
    seed: int,
    service_ids: dict[str, uuid.UUID],
    prefixes: dict[str, str],
    counter_ids: dict[str, uuid.UUID],
) -> int:
    """Simulate and insert; returns the number of tickets written."""
    tickets: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    numbers: dict[tuple[date, str], int] = {}
    for raw in generate_events(config, seed):
        ts = datetime.fromisoformat(raw["ts"])
        kind = raw["type"]
        payload: dict[str, Any] = {"ts": raw["ts"], "type": kind, "branch": branch_code}
        aggregate: uuid.UUID | None = None
        if "ticket" in raw:
            row = tickets.get(raw["ticket"])
            if row is None:
                day, prefix = ts.date(), prefixes[raw["service"]]
                numbers[(day, prefix)] = numbers.get((day, prefix), 0) + 1
                seq = numbers[(day, prefix)]
                row = tickets[raw["ticket"]] = {
                    "id": uuid.uuid5(NAMESPACE, f"{branch_code}:{seed}:{raw['ticket']}"),
                    "branch_id": branch_id, "service_type_id": service_ids[raw["service"]],
                    "business_on": day, "prefix": prefix, "seq": seq, "number": f"{prefix}-{seq:03d}",
                    "priority": raw["priority"], "channel": "kiosk", "state": "waiting",
                    "issued_at": ts, "queued_at": ts, "checked_in_at": ts, "contact_phone": "",
                    "recall_count": 0, "transfer_count": 0, "public_token": secrets.token_urlsafe(24),
                    "service": raw["service"],
                }  # fmt: skip
            aggregate = row["id"]
            payload.update(
                ticket=str(row["id"]), number=row["number"], service=row["service"],
                priority=row["priority"],
            )  # fmt: skip
            if kind == "issued":
                payload["channel"] = "kiosk"
            elif kind == "called":
                row.update(state="called", called_at=ts, counter_id=counter_ids[raw["counter"]])
                payload["counter"] = raw["counter"]
            elif kind in ("completed", "no_show"):
                row.update(state=kind, finished_at=ts)
                if kind == "completed":
                    row["started_at"] = row.get("called_at")
                    row["outcome_code"] = "done"
        else:
            payload.update(counter=raw["counter"], services=list(raw.get("services", [])))
        events.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"{branch_code}:{seed}:event:{len(events)}"),
                "occurred_at": ts,
                "type": f"ticket.{kind}" if aggregate else COUNTER_EVENT_TYPES.get(kind, f"counter.{kind}"),
                "aggregate_type": "ticket" if aggregate else "counter", "aggregate_id": aggregate,
                "branch_id": branch_id, "actor_id": None, "payload": payload,
            }
        )  # fmt: skip
    rows = [{k: v for k, v in row.items() if k != "service"} for row in tickets.values()]
    for row in rows:
        if row["state"] in ("waiting", "called"):
            row["state"] = "no_show"  # the simulated day ended with it unserved
    for chunk in range(0, len(rows), 2000):
        db.execute(insert(Ticket), rows[chunk : chunk + 2000])
    for chunk in range(0, len(events), 5000):
        db.execute(insert(Event), events[chunk : chunk + 5000])
    return len(rows)


def history_start(today: date, days: int) -> date:
    """The first of ``days`` working days that end the day before ``today``."""
    day, counted = today, 0
    while counted < days:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day
