"""Migration 0019 moves the analytics pipeline's old loyalty_points rows into the new ledger."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from branchdesk.migrations import alembic_config


def test_old_points_become_earn_lots_with_an_account(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)  # plain engine: no foreign-key pragma, rows stand alone
    config = alembic_config(url)
    customer, survey = uuid.uuid4(), uuid.uuid4()
    entry = uuid.uuid4()
    old = sa.table(
        "loyalty_points", sa.column("id", sa.Uuid()), sa.column("customer_id", sa.Uuid()),
        sa.column("source_key", sa.String()), sa.column("rule_code", sa.String()),
        sa.column("points", sa.Integer()), sa.column("earned_on", sa.Date()),
        sa.column("run_id", sa.Uuid()),
    )  # fmt: skip
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0014")
        conn.execute(old.insert(), [
            {"id": uuid.uuid4(), "customer_id": customer, "source_key": f"entry:{entry}",
             "rule_code": "deposit", "points": 7, "earned_on": date(2025, 1, 31),
             "run_id": uuid.uuid4()},
            {"id": uuid.uuid4(), "customer_id": customer, "source_key": f"survey:{survey}",
             "rule_code": "survey", "points": 20, "earned_on": date(2025, 2, 1),
             "run_id": uuid.uuid4()},
        ])  # fmt: skip
        command.upgrade(config, "0019")
        entries = sa.table(
            "loyalty_entries", sa.column("customer_id", sa.Uuid()), sa.column("kind"),
            sa.column("points"), sa.column("source_kind"), sa.column("source_id", sa.Uuid()),
            sa.column("rule_code"), sa.column("expires_on", sa.Date()),
        )  # fmt: skip
        rows = sorted(conn.execute(sa.select(entries)).all(), key=lambda r: r.points)
        accounts = sa.table("loyalty_accounts", sa.column("customer_id", sa.Uuid()),
                            sa.column("balance"))  # fmt: skip
        balances = conn.execute(sa.select(accounts)).all()
        tables = sa.inspect(conn).get_table_names()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (customer, "earn", 7, "ledger_entry", entry, "deposit", date(2027, 1, 31)),
        (customer, "earn", 20, "survey", survey, "survey", date(2027, 2, 1)),
    ]
    assert [tuple(b) for b in balances] == [(customer, 27)]
    assert "loyalty_points" not in tables
