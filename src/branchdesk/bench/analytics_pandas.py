"""The feature step in pandas: the yardstick of `branchdesk bench analytics`.

Both functions compute the pipeline's ``features`` table (``analytics/steps.py``:
account_balances, customer_entries, rfm_raw, holdings, channels, bookings, features) from the
same inputs, reading only the columns they need:

- :func:`features` is plain pandas, the SQL translated the way a pandas programmer writes it:
  boolean filters, ``merge`` on the natural (string) keys, ``groupby(...).agg`` with named
  aggregations, ``idxmax`` for "the last entry", vectorised arithmetic, no Python loops;
- :func:`features_tuned` goes further than most code does: the string keys become integer
  positions once (``Index.get_indexer``), then one ``lexsort`` of the entries and
  ``bincount``/``add.at`` sums on the integer codes.

The currency conversion is the same IEEE double expression as the SQL, so the results are
identical; the bench and its test check that row for row. The project has no pyarrow, so the
Parquet files are read through DuckDB into DataFrames (timed as the load, apart from the
computation).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from branchdesk.analytics.config import PipelineConfig

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "customer_number", "home_branch_id", "birth_on",
                  "id_expires_on", "created_on", "has_consent", "risk_tolerance"),
    "accounts": ("account_id", "customer_id", "type", "currency", "status", "opened_on"),
    "entries": ("account_id", "seq", "amount_minor", "balance_after_minor", "booked_on"),
    "tickets": ("customer_id", "channel", "business_on"),
    "appointments": ("customer_id", "channel", "state", "business_on"),
    "fx_rates": ("currency", "factor_ppm"),
}  # fmt: skip

Array = np.ndarray[Any, Any]


def load(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """The input columns as DataFrames (dates as datetime64)."""
    connection = duckdb.connect()
    try:
        frames = {}
        for name, columns in COLUMNS.items():
            path = paths[name]
            source = str(path / "*.parquet" if path.is_dir() else path).replace("'", "''")
            frames[name] = connection.execute(
                f"SELECT {', '.join(columns)} FROM read_parquet('{source}')"
            ).df()
        return frames
    finally:
        connection.close()


def _to_base(amount: Array, factor_ppm: Array) -> Array:
    # FLOOR(CAST(x AS DOUBLE) * CAST(factor AS DOUBLE) / 1e6), as in steps._TO_BASE
    converted = amount.astype(np.float64) * factor_ppm.astype(np.float64) / 1_000_000.0
    return np.floor(converted).astype(np.int64)


def _sum_by(codes: Array, values: Array, size: int) -> Array:
    """Exact int64 sums per code (bincount would go through float64)."""
    totals = np.zeros(size, dtype=np.int64)
    np.add.at(totals, codes, values)
    return totals


def features(
    frames: dict[str, pd.DataFrame], *, config: PipelineConfig, as_of: date
) -> pd.DataFrame:
    """The ``features`` table for ``as_of`` in plain pandas (merges and group-bys on keys)."""
    day = pd.Timestamp(as_of)
    since = pd.Timestamp(as_of - timedelta(days=config.rfm_window_days))
    month_ago = pd.Timestamp(as_of - timedelta(days=30))
    customers, accounts, entries = frames["customers"], frames["accounts"], frames["entries"]
    with_rate = accounts.merge(frames["fx_rates"], on="currency")  # the SQL's inner join

    # account_balances: the balance after each account's last entry (highest seq) by a day
    def last_balance(cut: pd.Timestamp) -> pd.Series:
        booked = entries[entries["booked_on"] <= cut]
        last = booked.loc[booked.groupby("account_id")["seq"].idxmax()]
        return last.set_index("account_id")["balance_after_minor"]

    balances = with_rate[with_rate["opened_on"] <= day].copy()
    for column, cut in (("balance_minor", day), ("balance_month_ago_minor", month_ago)):
        raw = balances["account_id"].map(last_balance(cut)).fillna(0).astype(np.int64)
        balances[column] = _to_base(raw.to_numpy(), balances["factor_ppm"].to_numpy())

    # holdings
    holdings = balances.groupby("customer_id").agg(
        assets_minor=("balance_minor", "sum"),
        assets_month_ago_minor=("balance_month_ago_minor", "sum"),
    )
    held = balances[balances["status"].notna() & (balances["status"] != "closed")]
    holdings["product_count"] = held.groupby("customer_id")["type"].nunique()
    for kind in ("current", "savings", "time_deposit"):
        holders = held.loc[held["type"] == kind, "customer_id"].unique()
        holdings[f"has_{kind}"] = holdings.index.isin(holders).astype(np.int64)

    # customer_entries -> rfm_raw
    window = entries[(entries["booked_on"] > since) & (entries["booked_on"] <= day)]
    window = window[["account_id", "amount_minor", "booked_on"]].merge(
        with_rate[["account_id", "customer_id", "factor_ppm"]], on="account_id"
    )
    window["monetary"] = np.abs(
        _to_base(window["amount_minor"].to_numpy(), window["factor_ppm"].to_numpy())
    )
    rfm = window.groupby("customer_id").agg(
        last_on=("booked_on", "max"), frequency=("booked_on", "size"),
        monetary_minor=("monetary", "sum"),
    )  # fmt: skip
    rfm["recency_days"] = (day - rfm["last_on"]).dt.days

    # channels and bookings
    tickets = frames["tickets"]
    tickets = tickets[(tickets["business_on"] > since) & (tickets["business_on"] <= day)]
    channels = (
        tickets.assign(
            counter_visits=tickets["channel"].isin(["kiosk", "lobby"]).astype(np.int64),
            remote_visits=(tickets["channel"] == "remote").astype(np.int64),
        )
        .groupby("customer_id")[["counter_visits", "remote_visits"]]
        .sum()
    )
    booked = frames["appointments"]
    booked = booked[
        booked["state"].notna() & (booked["state"] != "cancelled")
        & (booked["business_on"] > since) & (booked["business_on"] <= day)
    ]  # fmt: skip
    bookings = (
        booked.assign(
            portal_visits=(booked["channel"] == "portal").astype(np.int64), appointments=1
        )
        .groupby("customer_id")[["portal_visits", "appointments"]]
        .sum()
    )

    # features: every customer, zeros where a part has no row
    result = (
        customers.merge(holdings, left_on="customer_id", right_index=True, how="left")
        .merge(rfm[["recency_days", "frequency", "monetary_minor"]], left_on="customer_id",
               right_index=True, how="left")
        .merge(channels, left_on="customer_id", right_index=True, how="left")
        .merge(bookings, left_on="customer_id", right_index=True, how="left")
    )  # fmt: skip
    counts = ["assets_minor", "assets_month_ago_minor", "frequency", "monetary_minor",
              "product_count", "has_current", "has_savings", "has_time_deposit",
              "counter_visits", "portal_visits", "remote_visits", "appointments"]  # fmt: skip
    result[counts] = result[counts].fillna(0).astype(np.int64)
    result["recency_days"] = result["recency_days"].astype("Int64")
    created = result["created_on"]
    months = (as_of.year - created.dt.year) * 12 + as_of.month - created.dt.month
    months = months - (as_of.day < created.dt.day).astype("Int64")
    result["tenure_months"] = months.where(~(created > day), 0).astype("Int64")
    result["is_risk_tolerance_default"] = result["risk_tolerance"].isna()
    result["risk_tolerance"] = result["risk_tolerance"].fillna(config.default_risk_tolerance)
    return result[list(FEATURE_COLUMNS)]


FEATURE_COLUMNS = (
    "customer_id", "customer_number", "home_branch_id", "birth_on", "id_expires_on",
    "has_consent", "assets_minor", "assets_month_ago_minor", "recency_days", "frequency",
    "monetary_minor", "product_count", "has_current", "has_savings", "has_time_deposit",
    "counter_visits", "portal_visits", "remote_visits", "appointments", "tenure_months",
    "risk_tolerance", "is_risk_tolerance_default",
)  # fmt: skip


def features_tuned(
    frames: dict[str, pd.DataFrame], *, config: PipelineConfig, as_of: date
) -> pd.DataFrame:
    """The same table with integer codes instead of string keys (see the module text)."""
    day = pd.Timestamp(as_of)
    since = pd.Timestamp(as_of - timedelta(days=config.rfm_window_days))
    month_ago = pd.Timestamp(as_of - timedelta(days=30))
    customers = frames["customers"]
    accounts = frames["accounts"]
    entries = frames["entries"]
    n_customers = len(customers)
    customer_index = pd.Index(customers["customer_id"])

    # accounts with a rate (the SQL's inner join with fx_rates) and their owner's position
    rates = frames["fx_rates"].set_index("currency")["factor_ppm"]
    factor = accounts["currency"].map(rates)
    with_rate = factor.notna().to_numpy()
    account_customer = customer_index.get_indexer(accounts["customer_id"])
    account_factor = factor.fillna(0).to_numpy(dtype=np.int64)

    # entries: account position, one sort by (account, seq) for the as-of balances
    entry_account = pd.Index(accounts["account_id"]).get_indexer(entries["account_id"])
    booked = entries["booked_on"].to_numpy()
    seq = entries["seq"].to_numpy()
    order = np.lexsort((seq, entry_account))
    sorted_account = entry_account[order]
    sorted_booked = booked[order]
    sorted_balance = entries["balance_after_minor"].to_numpy()[order]

    def balance_on(cut: pd.Timestamp) -> Array:
        """Each account's balance after its last entry (highest seq) booked on or before cut."""
        keep = (sorted_booked <= cut.to_datetime64()) & (sorted_account >= 0)
        account, balance = sorted_account[keep], sorted_balance[keep]
        last = np.ones(len(account), dtype=bool)
        last[:-1] = account[1:] != account[:-1]
        result = np.zeros(len(accounts), dtype=np.int64)
        result[account[last]] = balance[last]
        return result

    # account_balances -> holdings (accounts opened by as-of, with a rate)
    in_balances = with_rate & (accounts["opened_on"] <= day).to_numpy() & (account_customer >= 0)
    owner = account_customer[in_balances]
    factor_in = account_factor[in_balances]
    assets = _sum_by(owner, _to_base(balance_on(day)[in_balances], factor_in), n_customers)
    assets_before = _sum_by(
        owner, _to_base(balance_on(month_ago)[in_balances], factor_in), n_customers
    )
    open_account = (accounts["status"].notna() & (accounts["status"] != "closed")).to_numpy()
    active = accounts.loc[in_balances & open_account, ["type"]]
    active = active.assign(customer=account_customer[active.index.to_numpy()])
    held = active.drop_duplicates()
    product_count = np.bincount(held["customer"].to_numpy(), minlength=n_customers)
    has = {
        kind: np.bincount(
            held.loc[held["type"] == kind, "customer"].to_numpy(), minlength=n_customers
        )
        for kind in ("current", "savings", "time_deposit")
    }

    # customer_entries -> rfm_raw (entries of accounts with a rate, in the window)
    usable = entry_account >= 0
    usable[usable] = with_rate[entry_account[usable]] & (
        account_customer[entry_account[usable]] >= 0
    )
    in_window = usable & (booked > since.to_datetime64()) & (booked <= day.to_datetime64())
    window_account = entry_account[in_window]
    window_customer = account_customer[window_account]
    amount = _to_base(entries["amount_minor"].to_numpy()[in_window], account_factor[window_account])
    frequency = np.bincount(window_customer, minlength=n_customers)
    monetary = _sum_by(window_customer, np.abs(amount), n_customers)
    latest = pd.Series(booked[in_window]).groupby(window_customer).max().reindex(range(n_customers))
    recency = (day - latest).dt.days.astype("Int64")

    # channels and bookings in the window
    def in_window_rows(frame: pd.DataFrame) -> pd.DataFrame:
        on = frame["business_on"]
        return frame[(on > since) & (on <= day)]

    tickets = in_window_rows(frames["tickets"])
    ticket_customer = customer_index.get_indexer(tickets["customer_id"])
    known = ticket_customer >= 0
    channel = tickets["channel"].to_numpy()[known]
    ticket_customer = ticket_customer[known]
    counter_visits = np.bincount(
        ticket_customer[np.isin(channel, ["kiosk", "lobby"])], minlength=n_customers
    )
    remote_visits = np.bincount(ticket_customer[channel == "remote"], minlength=n_customers)
    appointments = in_window_rows(frames["appointments"])
    appointments = appointments[appointments["state"].notna()]
    appointments = appointments[appointments["state"] != "cancelled"]
    booking_customer = customer_index.get_indexer(appointments["customer_id"])
    known = booking_customer >= 0
    booking_channel = appointments["channel"].to_numpy()[known]
    booking_customer = booking_customer[known]
    portal_visits = np.bincount(
        booking_customer[booking_channel == "portal"], minlength=n_customers
    )
    appointment_count = np.bincount(booking_customer, minlength=n_customers)

    # tenure in whole calendar months (0 for a customer created after as-of)
    created = customers["created_on"]
    months = (as_of.year - created.dt.year) * 12 + as_of.month - created.dt.month
    months = months - (as_of.day < created.dt.day).astype("Int64")
    tenure = months.where(~(created > day), 0).astype("Int64")  # NULL stays NULL, as in SQL

    tolerance = customers["risk_tolerance"]
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "customer_number": customers["customer_number"],
            "home_branch_id": customers["home_branch_id"],
            "birth_on": customers["birth_on"],
            "id_expires_on": customers["id_expires_on"],
            "has_consent": customers["has_consent"],
            "assets_minor": assets,
            "assets_month_ago_minor": assets_before,
            "recency_days": recency.to_numpy(),
            "frequency": frequency,
            "monetary_minor": monetary,
            "product_count": product_count,
            "has_current": has["current"],
            "has_savings": has["savings"],
            "has_time_deposit": has["time_deposit"],
            "counter_visits": counter_visits,
            "portal_visits": portal_visits,
            "remote_visits": remote_visits,
            "appointments": appointment_count,
            "tenure_months": tenure.to_numpy(),
            "risk_tolerance": tolerance.fillna(config.default_risk_tolerance),
            "is_risk_tolerance_default": tolerance.isna(),
        }
    )


def write(frame: pd.DataFrame, path: Path) -> None:
    connection = duckdb.connect()
    try:
        connection.register("features_frame", frame)
        target = str(path).replace("'", "''")
        connection.execute(f"COPY (SELECT * FROM features_frame) TO '{target}' (FORMAT parquet)")
    finally:
        connection.close()
