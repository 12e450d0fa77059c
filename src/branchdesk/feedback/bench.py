"""How long the survey roll-ups take on a year of history: `branchdesk feedback bench`.

Builds (into an empty, migrated database) N branches in R regions, each with counters, tellers
and services, and D days of completed tickets with about 30% answered, using bulk inserts; then
times ``summarize`` bank-wide for every grouping over the whole range and for one branch.
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.core.ids import new_id
from branchdesk.feedback.schemas import GroupBy
from branchdesk.feedback.seed import seed_responses
from branchdesk.feedback.service import summarize
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.queue.models import Ticket

SERVICES = ("CASH", "XFER", "ACCT", "CARD", "ENQ", "FX")


@dataclass(frozen=True)
class BenchResult:
    tickets: int
    responses: int
    build_seconds: float
    timings_ms: dict[str, float]  # median of the runs per query


def build_history(
    db: Session, *, branches: int, days: int, tickets_per_day: int, end_on: date, seed: int
) -> tuple[int, int]:
    """Write the bench bank and its history; returns (tickets, responses)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    services = []
    for index, code in enumerate(SERVICES):
        service = ServiceType(
            id=new_id(), code=f"FB{code}", name_zh_hant=code, name_zh_hans=code, name_en=code,
            ticket_prefix=chr(ord("A") + index), standard_handling_minutes=6,
            target_max_wait_minutes=15, required_documents=[], script="", is_active=True,
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(service)
        services.append(service)
    db.flush()
    layout = []
    for b in range(branches):
        branch = Branch(
            id=new_id(), code=f"FB{b:03d}", name_zh_hant=f"分行{b}", name_zh_hans=f"网点{b}",
            name_en=f"Branch {b}", region=f"Region {b % 4}", timezone="Asia/Taipei",
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(branch)
        counters, tellers = [], []
        for c in range(6):
            counter = Counter(
                id=new_id(), branch_id=branch.id, code=f"K{c}", name=f"Counter {c}",
                created_at=now, updated_at=now,
            )  # fmt: skip
            teller = User(
                id=new_id(), username=f"fb.{b}.{c}", display_name=f"Teller {b}-{c}",
                role=Role.teller, password_hash="x", is_active=True, failed_login_count=0,
                auth_epoch=0, password_changed_at=now, created_at=now,
            )  # fmt: skip
            db.add_all([counter, teller])
            counters.append(counter.id)
            tellers.append(teller.id)
        layout.append((branch.id, counters, tellers))
    db.flush()
    start_on = end_on - timedelta(days=days - 1)
    total = 0
    for day_index in range(days):
        day = start_on + timedelta(days=day_index)
        opening = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
        rows = []
        for branch_id, counters, tellers in layout:
            for seq in range(tickets_per_day):
                service = services[rng.randrange(len(services))]
                slot = rng.randrange(6)
                queued = opening + timedelta(seconds=seq * 28800 // tickets_per_day)
                started = queued + timedelta(seconds=rng.randint(0, 1800))
                rows.append(
                    {
                        "id": uuid.UUID(int=rng.getrandbits(128)), "branch_id": branch_id,
                        "service_type_id": service.id, "business_on": day,
                        "prefix": service.ticket_prefix, "seq": seq + 1,
                        "number": f"{service.ticket_prefix}-{seq + 1:03d}", "priority": "normal",
                        "channel": "kiosk", "contact_phone": "", "state": "completed",
                        "issued_at": queued, "queued_at": queued, "checked_in_at": queued,
                        "called_at": started, "started_at": started,
                        "finished_at": started + timedelta(seconds=rng.randint(120, 900)),
                        "counter_id": counters[slot], "served_by_id": tellers[slot],
                        "recall_count": 0, "transfer_count": 0, "outcome_code": "done",
                        "public_token": secrets.token_urlsafe(24),
                    }
                )  # fmt: skip
        db.execute(insert(Ticket), rows)
        total += len(rows)
    responses = seed_responses(db, seed=seed, share=0.3)
    return total, responses


def time_queries(
    db: Session, *, from_on: date, to_on: date, branch_code: str, runs: int = 3
) -> dict[str, float]:
    admin = Principal(
        user_id=uuid.UUID(int=0), username="bench", display_name="bench", role=Role.admin,
        branch_ids=frozenset(),
    )  # fmt: skip
    timings: dict[str, float] = {}
    plans: list[tuple[str, GroupBy, str | None]] = [
        (f"bank-wide by {g.value}", g, None) for g in GroupBy
    ]
    plans.append((f"one branch by {GroupBy.teller.value}", GroupBy.teller, branch_code))
    plans.append((f"one branch by {GroupBy.day.value}", GroupBy.day, branch_code))
    for label, grouping, code in plans:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            summarize(db, actor=admin, group_by=grouping, from_on=from_on, to_on=to_on,
                      branch_code=code)  # fmt: skip
            samples.append((time.perf_counter() - started) * 1000)
        timings[label] = round(statistics.median(samples), 1)
    return timings
