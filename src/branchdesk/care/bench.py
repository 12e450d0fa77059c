"""Time the care jobs on a fresh database with N customers of one branch on Mid-Autumn morning:
``python -m branchdesk.care.bench 20000 sqlite:////tmp/care-bench.db`` (the database must be new
or empty). Prints the greeting job's time, its rerun (nothing to do) and the follow-up scan."""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime

from sqlalchemy import insert

from branchdesk.care import notices as _notices  # noqa: F401 - the templates the job sends
from branchdesk.care.service.followups import make_follow_ups
from branchdesk.care.service.greetings import send_greetings
from branchdesk.catalog.models import Branch
from branchdesk.core.db import Database
from branchdesk.core.ids import new_id
from branchdesk.customers.models import Customer
from branchdesk.migrations import upgrade

MID_AUTUMN_MORNING = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)  # 10:00 in Taipei


def run(count: int, url: str) -> str:
    upgrade(url)
    database = Database(url)
    now = MID_AUTUMN_MORNING
    with database.unit_of_work() as db:
        branch = Branch(
            id=new_id(), code="CAREB", name_zh_hant="測試", name_zh_hans="测试", name_en="Bench",
            timezone="Asia/Taipei", address="", is_active=True, created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(branch)
        db.flush()
        rows = [
            {"id": new_id(), "customer_number": f"{i:010d}", "full_name": f"客戶{i}",
             "latin_name": "", "id_document_type": "national_id", "id_number_encrypted": "-",
             "id_number_hash": f"{i:064d}", "id_number_masked": "-", "phone": f"+8869{i:08d}",
             "email": "", "birth_on": date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
             "preferred_locale": ("zh-Hant", "zh-Hans", "en")[i % 3],
             "has_marketing_consent": bool(i % 2), "service_tier": "standard",
             "home_branch_id": branch.id, "created_at": now, "updated_at": now}
            for i in range(count)
        ]  # fmt: skip
        for start in range(0, count, 5000):
            db.execute(insert(Customer), rows[start : start + 5000])
    with database.unit_of_work() as db:
        started = time.perf_counter()
        first = send_greetings(db, now=now)
        seconds_first = time.perf_counter() - started
    with database.unit_of_work() as db:
        started = time.perf_counter()
        again = send_greetings(db, now=now.replace(hour=3))
        seconds_again = time.perf_counter() - started
    with database.unit_of_work() as db:
        started = time.perf_counter()
        tasks = make_follow_ups(db, now=now)
        seconds_tasks = time.perf_counter() - started
    return (
        f"{count} customers: greetings {seconds_first:.2f} s ({first.sent} queued, "
        f"{first.occasions}); rerun {seconds_again:.2f} s ({again.sent} queued); "
        f"follow-up scan {seconds_tasks:.2f} s ({tasks} tasks)"
    )


if __name__ == "__main__":
    sys.stdout.write(run(int(sys.argv[1]), sys.argv[2]) + "\n")
