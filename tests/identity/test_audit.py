from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from branchdesk.core.db import Database
from branchdesk.identity.audit import append_audit, verify_chain
from branchdesk.identity.models import AuditEntry
from branchdesk.migrations import upgrade
from tests.factories import NOW


def _write(db: Session, n: int) -> None:
    for i in range(n):
        append_audit(
            db,
            action="test.action",
            object_type="thing",
            object_id=str(i),
            now=NOW + timedelta(seconds=i),
            actor_label="tester",
            detail={"i": i, "名稱": "分行"},
        )


def test_intact_chain_verifies(db: Session) -> None:
    _write(db, 5)
    report = verify_chain(db)
    assert report.is_intact
    assert report.entries_checked >= 5


def test_an_edited_row_is_named(db: Session) -> None:
    _write(db, 5)
    seqs = sorted(db.execute(text("SELECT seq FROM audit_log")).scalars())
    target = seqs[-3]
    db.execute(update(AuditEntry).where(AuditEntry.seq == target).values(actor_label="mallory"))
    db.expire_all()
    report = verify_chain(db)
    assert not report.is_intact
    assert report.first_bad_seq == target
    assert report.problem == f"entry {target} was edited after it was written"


def test_a_deleted_row_is_named(db: Session) -> None:
    _write(db, 5)
    seqs = sorted(db.execute(text("SELECT seq FROM audit_log")).scalars())
    db.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seqs[-2]})
    db.expire_all()
    report = verify_chain(db)
    assert (report.is_intact, report.first_bad_seq) == (False, seqs[-2])
    assert report.problem is not None
    assert "missing" in report.problem


def test_a_deleted_tail_is_caught_by_the_chain_head(db: Session) -> None:
    _write(db, 4)
    seqs = sorted(db.execute(text("SELECT seq FROM audit_log")).scalars())
    db.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seqs[-1]})
    db.expire_all()
    report = verify_chain(db)
    assert (report.is_intact, report.first_bad_seq) == (False, seqs[-1])


def test_reordered_rows_are_caught(db: Session) -> None:
    _write(db, 4)
    a, b = sorted(db.execute(text("SELECT seq FROM audit_log")).scalars())[-2:]
    db.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = :a"), {"a": a})
    db.execute(text("UPDATE audit_log SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    db.execute(text("UPDATE audit_log SET seq = :b WHERE seq = -1"), {"b": b})
    db.expire_all()
    report = verify_chain(db)
    assert (report.is_intact, report.first_bad_seq) == (False, a)


def test_cli_verify_exits_non_zero_naming_the_edited_entry(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    upgrade(url)
    database = Database(url)
    with database.unit_of_work() as db:
        _write(db, 3)
    command = [sys.executable, "-m", "branchdesk", "audit", "verify", "--url", url]
    ok = subprocess.run(command, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "audit chain intact: 3 entries"
    with database.engine.begin() as conn:  # an edit "by hand", outside the application
        conn.execute(text("UPDATE audit_log SET detail = '{\"i\": 99}' WHERE seq = 2"))
    database.dispose()
    broken = subprocess.run(command, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "audit chain BROKEN at entry 2: entry 2 was edited after it was written" in broken.stderr
