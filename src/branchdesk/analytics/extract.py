"""Extract the operational tables the pipeline reads into Parquet files (one per table).

Reads through the caller's SQLAlchemy session (SQLite or PostgreSQL alike), converts instants to
UTC calendar dates and ids to text, and writes Parquet with DuckDB (typed schemas, so empty
tables have the right column types). Both engines then read the same files.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.analytics.config import PipelineConfig
from branchdesk.appointments.models import Appointment
from branchdesk.care.service.people import tolerances_on
from branchdesk.complaints.models import Case
from branchdesk.core.money import CURRENCY_EXPONENTS
from branchdesk.customers.models import Customer
from branchdesk.feedback.models import SurveyResponse
from branchdesk.ledger.models import CUSTOMER_TYPES, Account, Entry, Posting
from branchdesk.queue.models import Ticket

SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (
        ("customer_id", "VARCHAR"),
        ("customer_number", "VARCHAR"),
        ("home_branch_id", "VARCHAR"),
        ("birth_on", "DATE"),
        ("id_expires_on", "DATE"),
        ("created_on", "DATE"),
        ("has_consent", "BOOLEAN"),
        ("risk_tolerance", "VARCHAR"),
    ),
    "accounts": (
        ("account_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("type", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("status", "VARCHAR"),
        ("opened_on", "DATE"),
    ),
    "entries": (
        ("entry_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("seq", "BIGINT"),
        ("amount_minor", "BIGINT"),
        ("balance_after_minor", "BIGINT"),
        ("booked_on", "DATE"),
        ("kind", "VARCHAR"),
    ),
    "tickets": (
        ("ticket_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("business_on", "DATE"),
    ),
    "appointments": (
        ("appointment_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("state", "VARCHAR"),
        ("business_on", "DATE"),
    ),
    "surveys": (
        ("survey_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("nps", "BIGINT"),
        ("is_detractor", "BOOLEAN"),
        ("answered_on", "DATE"),
    ),
    "complaints": (
        ("case_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("reference", "VARCHAR"),
        ("state", "VARCHAR"),
        ("closed_on", "DATE"),
    ),
    "fx_rates": (("currency", "VARCHAR"), ("factor_ppm", "BIGINT")),
    "earning_rules": (
        ("rule_code", "VARCHAR"),
        ("source", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("unit_minor", "BIGINT"),
        ("points", "BIGINT"),
    ),
}


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _rows(
    db: Session,
    config: PipelineConfig,
    branch_ids: Collection[uuid.UUID] | None,
    as_of: date | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    scope = select(Customer).order_by(Customer.customer_number)
    if branch_ids is not None:
        scope = scope.where(Customer.home_branch_id.in_(list(branch_ids)))
    # the stored assessment in force at as-of; none: NULL, and the features step's default
    tolerance = {} if as_of is None else tolerances_on(db, on=as_of)
    customers = [
        (str(c.id), c.customer_number, _text(c.home_branch_id), c.birth_on, c.id_expires_on,
         _day(c.created_at), c.has_marketing_consent, tolerance.get(c.id))
        for c in db.execute(scope).scalars()
    ]  # fmt: skip
    customer_account = (
        Account.customer_id.is_not(None),
        Account.type.in_([str(t) for t in CUSTOMER_TYPES]),
    )
    accounts = [
        (str(a.id), str(a.customer_id), a.type, a.currency, a.status, _day(a.opened_at))
        for a in db.execute(select(Account).where(*customer_account)).scalars()
    ]
    entries = [
        (str(r.id), str(r.account_id), r.seq, r.amount_minor, r.balance_after_minor,
         _day(r.booked_at), r.kind)
        for r in db.execute(
            select(Entry.id, Entry.account_id, Entry.seq, Entry.amount_minor,
                   Entry.balance_after_minor, Entry.booked_at, Posting.kind)
            .join(Posting, Posting.id == Entry.posting_id)
            .join(Account, Account.id == Entry.account_id)
            .where(*customer_account)
        )
    ]  # fmt: skip
    tickets = [
        (str(r.id), str(r.customer_id), r.channel, r.business_on)
        for r in db.execute(
            select(Ticket.id, Ticket.customer_id, Ticket.channel, Ticket.business_on).where(
                Ticket.customer_id.is_not(None)
            )
        )
    ]
    appointments = [
        (str(r.id), str(r.customer_id), r.channel, r.state, r.business_on)
        for r in db.execute(
            select(
                Appointment.id,
                Appointment.customer_id,
                Appointment.channel,
                Appointment.state,
                Appointment.business_on,
            ).where(Appointment.customer_id.is_not(None))
        )
    ]
    surveys = [
        (str(r.id), str(r.customer_id), r.nps, r.is_detractor, _day(r.answered_at))
        for r in db.execute(
            select(
                SurveyResponse.id,
                Ticket.customer_id,
                SurveyResponse.nps,
                SurveyResponse.is_detractor,
                SurveyResponse.answered_at,
            )
            .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
            .where(Ticket.customer_id.is_not(None))
        )
    ]
    complaints = [
        (str(r.id), str(r.customer_id), r.reference, r.state, _day(r.closed_at))
        for r in db.execute(
            select(Case.id, Case.customer_id, Case.reference, Case.state, Case.closed_at).where(
                Case.customer_id.is_not(None)
            )
        )
    ]
    fx = [(c, config.factor_ppm(c, CURRENCY_EXPONENTS)) for c in sorted(config.fx_rates)]
    rules = [(r.code, r.source, r.kind, r.unit_minor, r.points) for r in config.earning_rules]
    if branch_ids is not None:  # keep only the rows of customers in scope
        known = {row[0] for row in customers}
        accounts = [a for a in accounts if a[1] in known]
        held = {a[0] for a in accounts}
        entries = [e for e in entries if e[1] in held]
        tickets = [t for t in tickets if t[1] in known]
        appointments = [a for a in appointments if a[1] in known]
        surveys = [s for s in surveys if s[1] in known]
        complaints = [c for c in complaints if c[1] in known]
    return {
        "customers": customers,
        "accounts": accounts,
        "entries": entries,
        "tickets": tickets,
        "appointments": appointments,
        "surveys": surveys,
        "complaints": complaints,
        "fx_rates": fx,
        "earning_rules": rules,
    }


class MissingRate(ValueError):
    """An account's currency has no configured rate to the base currency."""


def extract_to_parquet(
    db: Session,
    *,
    config: PipelineConfig,
    directory: Path,
    branch_ids: Collection[uuid.UUID] | None = None,
    as_of: date | None = None,
) -> dict[str, Path]:
    """Write one Parquet file per input table into ``directory``; returns name -> path.

    ``branch_ids``: only customers of these home branches (and their rows); None: everyone.
    ``as_of``: customers' risk tolerance is the stored assessment in force that day (None: no
    assessment is read, every customer gets the pipeline's default).
    """
    tables = _rows(db, config, branch_ids, as_of)
    missing = sorted({row[3] for row in tables["accounts"]} - set(config.fx_rates))
    if missing:
        raise MissingRate(f"no exchange rate configured for {', '.join(missing)}")
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    connection = duckdb.connect()
    try:
        for name, schema in SCHEMAS.items():
            columns = ", ".join(f"{column} {kind}" for column, kind in schema)
            connection.execute(f"CREATE TABLE {name} ({columns})")
            rows = tables[name]
            if rows:
                frame = pd.DataFrame.from_records(
                    [tuple(row) for row in rows], columns=[c for c, _ in schema]
                )
                frame = frame.astype(object).where(frame.notna(), None)
                connection.register("incoming", frame)
                connection.execute(f"INSERT INTO {name} SELECT * FROM incoming")
                connection.unregister("incoming")
            path = directory / f"{name}.parquet"
            connection.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
            paths[name] = path
    finally:
        connection.close()
    return paths
