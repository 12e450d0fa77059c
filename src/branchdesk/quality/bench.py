"""How long the quality dashboard takes on a year of history: `branchdesk quality bench`.

Fills an empty, migrated database with N branches (6 counters and tellers, 6 services each) and
D days of tickets in every end state (completed, cancelled before the call, no-show) plus about
one complaint per 1,000 tickets, with bulk inserts; the command then fills the per-day roll-up
(``rollup.rollup``, timed apart) and times ``service.dashboard`` bank-wide and for one branch over
the whole range and over the last 30 days (median of the runs).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from branchdesk import models as _all_models  # noqa: F401 - every table, for the foreign keys
from branchdesk.catalog.models import Branch, Counter, ServiceType
from branchdesk.complaints.models import Case
from branchdesk.core.ids import new_id
from branchdesk.identity.models import User
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Role
from branchdesk.quality import service
from branchdesk.quality.kpi import Period
from branchdesk.queue.models import Ticket

SERVICES = ("CASH", "XFER", "ACCT", "CARD", "ENQ", "FX")


@dataclass(frozen=True)
class BenchResult:
    tickets: int
    complaints: int
    build_seconds: float
    timings_ms: dict[str, float]


def build_history(
    db: Session, *, branches: int, days: int, tickets_per_day: int, end_on: date, seed: int
) -> tuple[int, int]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    services = []
    for index, code in enumerate(SERVICES):
        item = ServiceType(
            id=new_id(), code=f"QB{code}", name_zh_hant=code, name_zh_hans=code, name_en=code,
            ticket_prefix=f"Q{chr(ord('A') + index)}", standard_handling_minutes=6,
            target_max_wait_minutes=15, required_documents=[], script="", is_active=True,
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(item)
        services.append(item)
    db.flush()
    layout: list[tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]] = []
    for b in range(branches):
        branch = Branch(
            id=new_id(), code=f"QB{b:03d}", name_zh_hant=f"分行{b}", name_zh_hans=f"支行{b}",
            name_en=f"Branch {b}", region=f"R{b % 4}", timezone="Asia/Taipei",
            created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(branch)
        db.flush()
        counters, tellers = [], []
        for c in range(6):
            counter = Counter(
                id=new_id(), branch_id=branch.id, code=f"K{c}", name=f"K{c}",
                created_at=now, updated_at=now,
            )  # fmt: skip
            teller = User(
                id=new_id(), username=f"qb{b}.t{c}", display_name=f"T{b}.{c}", role=Role.teller,
                password_hash="!", password_changed_at=now, created_at=now,
            )  # fmt: skip
            db.add_all([counter, teller])
            counters.append(counter.id)
            tellers.append(teller.id)
        db.flush()
        layout.append((branch.id, counters, tellers))
    start_on = end_on - timedelta(days=days - 1)
    tickets = complaints = 0
    for day in range(days):
        business_on = start_on + timedelta(days=day)
        opens = datetime(business_on.year, business_on.month, business_on.day, 1, tzinfo=UTC)
        rows: list[dict[str, object]] = []
        cases: list[dict[str, object]] = []
        for branch_id, counters, tellers in layout:
            for seq in range(1, tickets_per_day + 1):
                issued = opens + timedelta(seconds=rng.randrange(0, 7 * 3600))
                wait = int(rng.expovariate(1 / 540))
                handle = int(rng.expovariate(1 / 360)) + 30
                fate = rng.random()
                desk = rng.randrange(6)
                srv = services[rng.randrange(6)]
                row: dict[str, object] = {
                    "id": new_id(), "branch_id": branch_id, "service_type_id": srv.id,
                    "business_on": business_on, "prefix": srv.ticket_prefix, "seq": seq,
                    "number": f"{srv.ticket_prefix}-{seq:03d}", "priority": "normal",
                    "channel": "kiosk", "contact_phone": "", "issued_at": issued,
                    "queued_at": issued, "checked_in_at": issued, "recall_count": 0,
                    "transfer_count": 0, "public_token": uuid.uuid4().hex + uuid.uuid4().hex[:11],
                    "state": "completed", "called_at": None, "started_at": None,
                    "finished_at": None, "counter_id": None, "served_by_id": None,
                }  # fmt: skip
                if fate < 0.04:
                    row["state"] = "cancelled"
                elif fate < 0.07:
                    row.update(state="no_show", called_at=issued + timedelta(seconds=wait),
                               counter_id=counters[desk])  # fmt: skip
                else:
                    called = issued + timedelta(seconds=wait)
                    row.update(
                        called_at=called, started_at=called,
                        finished_at=called + timedelta(seconds=handle),
                        counter_id=counters[desk], served_by_id=tellers[desk],
                    )  # fmt: skip
                rows.append(row)
            if rng.random() < tickets_per_day / 1000:
                received = opens + timedelta(hours=3)
                answered = rng.random() < 0.9
                cases.append({
                    "id": new_id(), "reference": f"CMP-Q{complaints + len(cases):09d}",
                    "channel": "counter", "subject": "q", "body": "q", "severity": "normal",
                    "is_complex": False, "state": "resolved" if answered else "acknowledged",
                    "branch_id": branch_id, "jurisdiction": "CN", "policy_code": "cn",
                    "policy_version": 1, "received_at": received,
                    "resolved_at": received + timedelta(days=rng.randrange(1, 20))
                    if answered else None,
                    "final_due_at": received + timedelta(days=15), "root_cause": "",
                    "resolution": "", "locale": "zh-Hant", "contact_name": "",
                    "contact_email": "", "contact_phone": "", "contact_handle": "",
                    "created_at": received, "updated_at": received,
                })  # fmt: skip
        db.execute(insert(Ticket), rows)
        if cases:
            db.execute(insert(Case), cases)
        tickets += len(rows)
        complaints += len(cases)
    return tickets, complaints


def time_dashboard(db: Session, *, end_on: date, days: int, runs: int = 3) -> dict[str, float]:
    actor = Principal(
        user_id=uuid.UUID(int=0), username="bench", display_name="bench", role=Role.admin,
        branch_ids=frozenset(),
    )  # fmt: skip
    now = datetime.now(UTC)
    one = db.execute(select(Branch.id).where(Branch.code == "QB000")).first()
    code = "QB000" if one else None
    cases = {
        "bank, whole range, by week": (None, days, Period.week),
        "bank, last 30 days, by day": (None, 30, Period.day),
        "one branch, whole range, by week": (code, days, Period.week),
        "one branch, last 30 days, by day": (code, 30, Period.day),
    }
    out: dict[str, float] = {}
    for name, (branch, span, period) in cases.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            service.dashboard(
                db, actor=actor, branch_code=branch, from_on=end_on - timedelta(days=span - 1),
                to_on=end_on, period=period, now=now,
            )  # fmt: skip
            times.append((time.perf_counter() - started) * 1000)
        out[name] = round(statistics.median(times), 1)
    return out
