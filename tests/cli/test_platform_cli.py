from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from branchdesk.core.db import Database
from branchdesk.identity.models import User


def _run(
    *args: str, env_extra: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRANCHDESK_SECRET_KEY": "cli-test-secret", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "branchdesk", *args],
        capture_output=True, text=True, input=stdin, env=env, check=False,
    )  # fmt: skip


def _dump(url: str) -> list[tuple[str, ...]]:
    database = Database(url)
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, name_en FROM branches UNION ALL SELECT customer_number, full_name "
                "FROM customers UNION ALL SELECT username, role FROM users ORDER BY 1"
            )
        ).all()
    database.dispose()
    return [tuple(str(v) for v in row) for row in rows]


def test_upgrade_seed_is_deterministic_and_demo_users_only_in_demo(tmp_path: Path) -> None:
    first, second, bench = (f"sqlite:///{tmp_path}/{n}.db" for n in ("a", "b", "c"))
    for url in (first, second, bench):
        assert _run("db", "upgrade", "--url", url, env_extra={}).returncode == 0
    a = _run(
        "seed",
        "--profile",
        "demo",
        "--seed",
        "3",
        "--history-days",
        "0",
        "--url",
        first,
        env_extra={},
    )
    assert a.returncode == 0, a.stderr
    # accounts go only to customers whose ID is valid today, so those counts follow the calendar
    assert re.fullmatch(
        r"seeded profile demo \(seed 3\): 3 branches, 8 services, 18 counters, 19 staff,"
        r" 240 customers, (\d+) accounts, \1 demo postings, \d+ portal logins,"
        r" 0 survey responses, 4 loan products, 4 loyalty rewards, \d+ loyalty points entries,"
        r" 4 loyalty redemptions, 4 education items, 80 managed customers, 60 risk assessments,"
        r" 240 customers analysed, \d+ recommendations",
        # no history days: no visits to answer for
        a.stdout.strip(),
    ), a.stdout
    assert (
        _run("seed", "--profile", "demo", "--seed", "3", "--url", second, env_extra={}).returncode
        == 0
    )
    assert _dump(first) == _dump(second)
    again = _run("seed", "--profile", "demo", "--url", first, env_extra={})
    assert again.returncode == 2
    assert "already holds branches" in again.stderr
    b = _run(
        "seed", "--profile", "bench", "--branches", "4", "--customers", "300", "--url", bench,
        env_extra={},
    )  # fmt: skip
    assert b.returncode == 0, b.stderr
    database = Database(bench)
    with database.unit_of_work() as db:
        assert db.execute(select(func.count()).select_from(User)).scalar_one() == 0
    database.dispose()


def test_users_create_reads_the_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/users.db"
    assert _run("db", "upgrade", "--url", url, env_extra={}).returncode == 0
    made = _run(
        "users", "create", "--username", "first.admin", "--role", "admin", "--password-stdin",
        "--url", url, env_extra={}, stdin="a-strong-first-passphrase\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "created first.admin (admin)"
    weak = _run(
        "users", "create", "--username", "second", "--role", "teller", "--branch", "NONE",
        "--password-stdin", "--url", url, env_extra={}, stdin="short\n",
    )  # fmt: skip
    assert weak.returncode == 2
    assert "branch_codes: unknown branch code(s): NONE" in weak.stderr
    bad_role = _run(
        "users", "create", "--username", "third", "--role", "king", "--password-stdin",
        "--url", url, env_extra={}, stdin="a-strong-passphrase\n",
    )  # fmt: skip
    assert bad_role.returncode == 2
    assert "error: role:" in bad_role.stderr
    verify = _run("audit", "verify", "--url", url, env_extra={})
    assert verify.stdout.strip() == "audit chain intact: 1 entries"


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    served = _run(
        "serve", "--port", "1", env_extra={"BRANCHDESK_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    assert served.returncode == 2
    assert "run `branchdesk db upgrade`" in served.stderr
