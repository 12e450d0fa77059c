"""The analytics bench profile: synthetic pipeline inputs as Parquet, deterministic by seed.

Writes the tables of ``analytics/extract.py`` (same columns and types: customers, accounts,
ledger entries with the posting kind, tickets, appointments, surveys, complaints, rates and
earning rules), one directory per table with one Parquet file per chunk of customers, so memory
stays bounded by the chunk whatever the scale. Chunk ``c`` draws from
``numpy.random.default_rng([seed, c])``: the same seed, sizes and chunk size give the same files.

Shapes (per customer): 1-4 accounts (current first, then savings, time deposits or another
current; 85 % CNY, the rest HKD, USD, TWD, EUR; 5 % closed), exactly ``transactions`` ledger
entries spread over the accounts with heavy-tailed activity over the three years before as-of
(plus a few days after it, which the pipeline must ignore), about 3 tickets, 0.4 appointments,
0.5 survey answers and 0.02 complaints in the last two years. Ids look like the extract's UUID
strings (unique per table, scrambled so that their order says nothing).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.extract import SCHEMAS
from branchdesk.core.money import CURRENCY_EXPONENTS

Array = np.ndarray[Any, Any]
EPOCH = date(1970, 1, 1)
GENERATOR_VERSION = 1  # part of the manifest: a change of shapes regenerates
MAX_CHUNKS = 65_535  # ids number rows (chunk << 32) + row below 2^48
BRANCHES = 20
TABLES = tuple(SCHEMAS)
ACCOUNT_TYPES = ("current", "savings", "time_deposit")
CURRENCIES = ("CNY", "HKD", "USD", "TWD", "EUR")
CURRENCY_SHARES = (0.85, 0.05, 0.04, 0.03, 0.03)
ACCOUNT_STATUSES = ("active", "dormant", "frozen", "closed")
STATUS_SHARES = (0.90, 0.04, 0.01, 0.05)
# posting kind, share, sign (+1 credit, -1 debit, 0 either), median amount (minor units)
ENTRY_KINDS: tuple[tuple[str, float, int, int], ...] = (
    ("deposit", 0.30, 1, 300_000),
    ("withdrawal", 0.28, -1, 150_000),
    ("transfer", 0.26, 0, 250_000),
    ("remittance", 0.05, -1, 800_000),
    ("fee", 0.08, -1, 2_000),
    ("reversal", 0.03, 0, 100_000),
)
TICKET_CHANNELS = ("kiosk", "lobby", "remote")
TICKET_SHARES = (0.55, 0.20, 0.25)
BOOKING_CHANNELS = ("portal", "phone", "api", "counter")
BOOKING_SHARES = (0.50, 0.20, 0.05, 0.25)
APPOINTMENT_STATES = ("completed", "booked", "cancelled", "no_show", "checked_in")
APPOINTMENT_SHARES = (0.60, 0.10, 0.15, 0.10, 0.05)
CASE_STATES = ("closed", "resolved", "in_progress", "new")
CASE_SHARES = (0.60, 0.15, 0.15, 0.10)
# table tags inside the ids (so ids are unique across tables too)
TAGS = {"branch": 0, "customer": 1, "account": 2, "entry": 3, "ticket": 4, "appointment": 5,
        "survey": 6, "case": 7}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    customers: int
    transactions: int
    seed: int
    as_of: date
    chunk_customers: int = 50_000

    def manifest(self) -> dict[str, Any]:
        values = asdict(self)
        values["as_of"] = self.as_of.isoformat()
        values["generator"] = GENERATOR_VERSION
        return values


@dataclass(frozen=True)
class Generated:
    directory: Path
    paths: dict[str, Path]  # table -> directory of part files
    rows: dict[str, int]
    seconds: float
    reused: bool


def _id_macro(connection: duckdb.DuckDBPyConnection, seed: int) -> None:
    # (n * odd + offset) mod 2^48 is a bijection of 0..2^48-1: unique, scrambled ids
    offset = (seed * 2_654_435_761) % (1 << 48)
    connection.execute(
        f"""CREATE OR REPLACE MACRO bench_id(tag, n) AS (
  WITH p AS (SELECT CAST((CAST(n AS HUGEINT) * 25214903917 + {offset}) % 281474976710656
                         AS BIGINT) AS v)
  SELECT printf('%08x-%04x-4%03x-%04x-%012x', (CAST(v AS HUGEINT) * 2654435761) % 4294967296,
                (v >> 20) & 65535, tag, 32768 | ((v >> 34) & 16383), v) FROM p)"""
    )


def _day(value: date) -> int:
    return (value - EPOCH).days


def _choice(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> Array:
    return rng.choice(len(shares), size=n, p=np.array(shares) / sum(shares)).astype(np.int64)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _copy(
    connection: duckdb.DuckDBPyConnection, frame: pd.DataFrame, select: str, path: Path
) -> int:
    connection.register("chunk", frame)
    try:
        connection.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    finally:
        connection.unregister("chunk")
    return len(frame)


def _entries_in_chunk(profile: Profile, first: int, last: int) -> int:
    # cumulative split: the chunks add up to exactly profile.transactions
    def upto(n: int) -> int:
        return profile.transactions * n // profile.customers

    return upto(last) - upto(first)


def _chunk(
    connection: duckdb.DuckDBPyConnection, profile: Profile, index: int, directory: Path
) -> dict[str, int]:
    rng = np.random.default_rng([profile.seed, index])
    first = index * profile.chunk_customers
    last = min(profile.customers, first + profile.chunk_customers)
    n = last - first
    as_of = _day(profile.as_of)
    part = f"part-{index:05d}.parquet"
    rows: dict[str, int] = {}

    # customers
    number = np.arange(first, last, dtype=np.int64)
    created = as_of - np.minimum(rng.exponential(6 * 365, n), 25 * 365).astype(np.int64)
    tolerance = _choice(rng, n, (0.4, 0.15, 0.2, 0.15, 0.07, 0.03)) - 1  # -1: not assessed
    customers = pd.DataFrame(
        {
            "n": number,
            "branch": rng.integers(0, BRANCHES, n),
            "birth": as_of - rng.integers(18 * 365, 85 * 365, n),
            "expires": as_of + rng.integers(-90, 10 * 365, n),
            "created": created,
            "consent": rng.random(n) < 0.6,
            "tolerance": tolerance,
        }
    )
    rows["customers"] = _copy(
        connection,
        customers,
        f"""SELECT bench_id({TAGS["customer"]}, n) AS customer_id,
                   printf('C%09d', n + 1) AS customer_number,
                   bench_id({TAGS["branch"]}, branch) AS home_branch_id,
                   CAST(DATE '1970-01-01' + CAST(birth AS INTEGER) AS DATE) AS birth_on,
                   CAST(DATE '1970-01-01' + CAST(expires AS INTEGER) AS DATE) AS id_expires_on,
                   CAST(DATE '1970-01-01' + CAST(created AS INTEGER) AS DATE) AS created_on,
                   consent AS has_consent,
                   CASE WHEN tolerance < 0 THEN NULL ELSE 'C' || (tolerance + 1) END
                     AS risk_tolerance
            FROM chunk""",
        directory / "customers" / part,
    )

    # accounts: 1-4 per customer, the first one current and opened when the customer came
    per_customer = 1 + rng.binomial(3, 0.35, n)
    owner = np.repeat(np.arange(n), per_customer)
    count = len(owner)
    starts = np.cumsum(per_customer) - per_customer
    is_first = np.zeros(count, dtype=bool)
    is_first[starts] = True
    account_type = np.where(is_first, 0, _choice(rng, count, (0.2, 0.5, 0.3)))
    span = np.maximum(as_of - created[owner], 1)
    opened = np.where(is_first, created[owner], created[owner] + rng.integers(0, span))
    account_number = (index << 32) + np.arange(count, dtype=np.int64)  # disjoint per chunk
    accounts = pd.DataFrame(
        {
            "n": account_number,
            "customer": number[owner],
            "type": account_type,
            "currency": _choice(rng, count, CURRENCY_SHARES),
            "status": _choice(rng, count, STATUS_SHARES),
            "opened": opened,
        }
    )
    rows["accounts"] = _copy(
        connection,
        accounts,
        f"""SELECT bench_id({TAGS["account"]}, n) AS account_id,
                   bench_id({TAGS["customer"]}, customer) AS customer_id,
                   {_list(ACCOUNT_TYPES)}[type + 1] AS type,
                   {_list(CURRENCIES)}[currency + 1] AS currency,
                   {_list(ACCOUNT_STATUSES)}[status + 1] AS status,
                   CAST(DATE '1970-01-01' + CAST(opened AS INTEGER) AS DATE) AS opened_on
            FROM chunk""",
        directory / "accounts" / part,
    )

    # ledger entries: heavy-tailed activity per account, in date order within each account
    total = _entries_in_chunk(profile, first, last)
    weights = rng.lognormal(0.0, 1.0, count)
    per_account = rng.multinomial(total, weights / weights.sum())
    account = np.repeat(np.arange(count), per_account)
    history_from = np.maximum(opened, as_of - 3 * 365)[account]
    history_to = as_of + 3  # a few entries after as-of, which the pipeline must leave out
    booked = history_from + (rng.random(total) * (history_to - history_from + 1)).astype(np.int64)
    order = np.lexsort((booked, account))
    account, booked = account[order], booked[order]
    account_start = np.cumsum(per_account) - per_account
    seq = np.arange(total, dtype=np.int64) - account_start[account] + 1
    kind = _choice(rng, total, tuple(share for _, share, _, _ in ENTRY_KINDS))
    kind[seq == 1] = 0  # an account opens with a deposit
    sign = np.array([s for _, _, s, _ in ENTRY_KINDS], dtype=np.int64)[kind]
    sign = np.where(sign == 0, np.where(rng.random(total) < 0.5, 1, -1), sign)
    median = np.array([m for _, _, _, m in ENTRY_KINDS], dtype=np.float64)[kind]
    magnitude = np.maximum(1, (median * rng.lognormal(0.0, 1.2, total)).astype(np.int64))
    magnitude = np.where(seq == 1, magnitude * 5, magnitude)
    amount = sign * magnitude
    running = np.cumsum(amount)
    before_account = np.concatenate(([0], running))[account_start[account]]
    balance = running - before_account
    entry_first = profile.transactions * first // profile.customers
    in_time = np.argsort(booked, kind="stable")  # the extract comes out roughly in time order
    entries = pd.DataFrame(
        {
            "n": entry_first + np.arange(total, dtype=np.int64),
            "account": account_number[account[in_time]],
            "seq": seq[in_time],
            "amount": amount[in_time],
            "balance": balance[in_time],
            "booked": booked[in_time],
            "kind": kind[in_time],
        }
    )
    rows["entries"] = _copy(
        connection,
        entries,
        f"""SELECT bench_id({TAGS["entry"]}, n) AS entry_id,
                   bench_id({TAGS["account"]}, account) AS account_id,
                   seq, amount AS amount_minor, balance AS balance_after_minor,
                   CAST(DATE '1970-01-01' + CAST(booked AS INTEGER) AS DATE) AS booked_on,
                   {_list(tuple(k for k, _, _, _ in ENTRY_KINDS))}[kind + 1] AS kind
            FROM chunk""",
        directory / "entries" / part,
    )
    del entries, account, booked, seq, kind, sign, median, magnitude, amount, running, balance

    def events(mean: float) -> tuple[Array, Array, Array]:
        per = rng.poisson(mean, n)
        who = np.repeat(np.arange(n), per)
        on = as_of - rng.integers(0, 2 * 365, len(who))
        numbers = (index << 32) + np.arange(len(who), dtype=np.int64)  # disjoint per chunk
        return who, on, numbers

    who, on, numbers = events(3.0)
    tickets = pd.DataFrame(
        {"n": numbers, "customer": number[who], "channel": _choice(rng, len(who), TICKET_SHARES),
         "on": on}
    )  # fmt: skip
    rows["tickets"] = _copy(
        connection,
        tickets,
        f"""SELECT bench_id({TAGS["ticket"]}, n) AS ticket_id,
                   bench_id({TAGS["customer"]}, customer) AS customer_id,
                   {_list(TICKET_CHANNELS)}[channel + 1] AS channel,
                   CAST(DATE '1970-01-01' + CAST("on" AS INTEGER) AS DATE) AS business_on
            FROM chunk""",
        directory / "tickets" / part,
    )
    who, on, numbers = events(0.4)
    appointments = pd.DataFrame(
        {"n": numbers, "customer": number[who],
         "channel": _choice(rng, len(who), BOOKING_SHARES),
         "state": _choice(rng, len(who), APPOINTMENT_SHARES),
         "on": on + rng.integers(0, 30, len(who))}
    )  # fmt: skip
    rows["appointments"] = _copy(
        connection,
        appointments,
        f"""SELECT bench_id({TAGS["appointment"]}, n) AS appointment_id,
                   bench_id({TAGS["customer"]}, customer) AS customer_id,
                   {_list(BOOKING_CHANNELS)}[channel + 1] AS channel,
                   {_list(APPOINTMENT_STATES)}[state + 1] AS state,
                   CAST(DATE '1970-01-01' + CAST("on" AS INTEGER) AS DATE) AS business_on
            FROM chunk""",
        directory / "appointments" / part,
    )
    who, on, numbers = events(0.5)
    surveys = pd.DataFrame(
        {"n": numbers, "customer": number[who], "nps": rng.integers(0, 11, len(who)), "on": on}
    )
    rows["surveys"] = _copy(
        connection,
        surveys,
        f"""SELECT bench_id({TAGS["survey"]}, n) AS survey_id,
                   bench_id({TAGS["customer"]}, customer) AS customer_id,
                   nps, nps <= 6 AS is_detractor,
                   CAST(DATE '1970-01-01' + CAST("on" AS INTEGER) AS DATE) AS answered_on
            FROM chunk""",
        directory / "surveys" / part,
    )
    who, on, numbers = events(0.02)
    complaints = pd.DataFrame(
        {"n": numbers, "customer": number[who], "state": _choice(rng, len(who), CASE_SHARES),
         "on": np.minimum(on + rng.integers(1, 40, len(who)), as_of)}
    )  # fmt: skip
    rows["complaints"] = _copy(
        connection,
        complaints,
        f"""SELECT bench_id({TAGS["case"]}, n) AS case_id,
                   bench_id({TAGS["customer"]}, customer) AS customer_id,
                   printf('CMP-%09d', n) AS reference,
                   {_list(CASE_STATES)}[state + 1] AS state,
                   CASE WHEN state = 0
                        THEN CAST(DATE '1970-01-01' + CAST("on" AS INTEGER) AS DATE) END
                     AS closed_on
            FROM chunk""",
        directory / "complaints" / part,
    )
    return rows


def _small_tables(connection: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """The configuration tables (rates, and earning rules where the extract still has them)."""
    config = PipelineConfig()
    values: dict[str, list[tuple[Any, ...]]] = {
        "fx_rates": [
            (c, config.factor_ppm(c, CURRENCY_EXPONENTS)) for c in sorted(config.fx_rates)
        ],
        "earning_rules": [
            (r.code, r.source, r.kind, r.unit_minor, r.points)
            for r in getattr(config, "earning_rules", ())
        ],
    }
    rows: dict[str, int] = {}
    for name in SCHEMAS:
        if name not in values:
            continue
        schema = SCHEMAS[name]
        columns = ", ".join(f"{column} {kind}" for column, kind in schema)
        connection.execute(f"CREATE OR REPLACE TABLE small ({columns})")
        if values[name]:
            marks = ", ".join("?" for _ in schema)
            connection.executemany(f"INSERT INTO small VALUES ({marks})", values[name])
        path = directory / name / "part-00000.parquet"
        connection.execute(f"COPY small TO '{path}' (FORMAT parquet)")
        rows[name] = len(values[name])
    connection.execute("DROP TABLE small")
    return rows


def _typed_check(connection: duckdb.DuckDBPyConnection, paths: dict[str, Path]) -> None:
    """The files have exactly the extract's columns and types (a guard against drift)."""
    for name, schema in SCHEMAS.items():
        described = connection.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{paths[name]}/*.parquet')"
        ).fetchall()
        found = tuple((str(row[0]), str(row[1])) for row in described)
        if found != schema:
            raise AssertionError(f"{name}: generated {found}, extract writes {schema}")


def generate(profile: Profile, directory: Path, *, reuse: bool = True) -> Generated:
    """Write the bench profile into ``directory`` (one sub-directory per table)."""
    if profile.customers < 1 or profile.transactions < 0 or profile.chunk_customers < 1:
        raise ValueError("customers and chunk size must be positive, transactions not negative")
    if profile.customers > MAX_CHUNKS * profile.chunk_customers:
        raise ValueError(f"at most {MAX_CHUNKS} chunks: raise the chunk size")
    manifest_path = directory / "manifest.json"
    paths = {name: directory / name for name in TABLES}
    if reuse and manifest_path.exists():
        stored = json.loads(manifest_path.read_text())
        if stored.get("profile") == profile.manifest():
            return Generated(directory, paths, stored["rows"], 0.0, reused=True)
    started = time.perf_counter()
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("part-*.parquet"):
            old.unlink()
    manifest_path.unlink(missing_ok=True)
    rows = dict.fromkeys(TABLES, 0)
    connection = duckdb.connect()
    try:
        connection.execute("SET preserve_insertion_order = true")
        _id_macro(connection, profile.seed)
        chunks = (profile.customers + profile.chunk_customers - 1) // profile.chunk_customers
        for index in range(chunks):
            for name, count in _chunk(connection, profile, index, directory).items():
                rows[name] += count
        rows.update(_small_tables(connection, directory))
        _typed_check(connection, paths)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    manifest_path.write_text(json.dumps({"profile": profile.manifest(), "rows": rows}, indent=1))
    return Generated(directory, paths, rows, seconds, reused=False)
