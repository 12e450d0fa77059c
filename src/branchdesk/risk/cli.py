"""`branchdesk aml ...` and `branchdesk kyc ...`: transaction monitoring and KYC over exports."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from branchdesk.risk.aml.config import RuleConfig, RuleConfigError, load_config

if TYPE_CHECKING:
    from branchdesk.risk.kyc.customer import Customer
    from branchdesk.risk.kyc.watchlist import Hit

T = TypeVar("T")

aml_app = typer.Typer(
    no_args_is_help=True,
    help="Transaction monitoring: AML typologies and large-value reports over exports.",
)


def _config(path: Path | None) -> RuleConfig:
    try:
        return load_config(path)
    except (RuleConfigError, OSError) as exc:
        print(f"{path}: invalid rules: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


@aml_app.command("scan")
def scan(
    transactions: Path = typer.Option(..., "--transactions", help="Core banking export (CSV)."),
    out: Path = typer.Option(..., "--out", help="Alerts CSV to write (atomically)."),
    config_path: Path | None = typer.Option(None, "--config", help="Rules JSON."),
) -> None:
    """Run every rule over an export and write the alerts; a malformed export writes nothing."""
    from branchdesk.risk.aml.io import ExportFormatError
    from branchdesk.risk.aml.scan import scan_file, write_alerts

    config = _config(config_path)
    started = time.perf_counter()
    try:
        alerts = scan_file(transactions, config)
    except ExportFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    except OSError as exc:
        print(f"{transactions}: cannot read: {exc.strerror}", file=sys.stderr)
        raise typer.Exit(2) from None
    write_alerts(alerts, out)
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.typology] = counts.get(alert.typology, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    seconds = time.perf_counter() - started
    print(f"{len(alerts)} alerts ({summary}) written to {out} in {seconds:.2f} s")


@aml_app.command("generate")
def generate(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same file)."),
    out: Path = typer.Option(..., "--out", help="Export CSV to write."),
    labels: Path = typer.Option(..., "--labels", help="Labels CSV to write."),
    accounts: int = typer.Option(1000, "--accounts", min=1, help="Background customers."),
    mix: str = typer.Option("standard", "--mix", help="standard or lookalike-heavy."),
) -> None:
    """Write a labelled synthetic six-month export with look-alikes and planted typologies."""
    from branchdesk.risk.aml.synth import MIXES, generate, write_export, write_labels

    if mix not in MIXES:
        print(f"unknown mix {mix!r}; choose from {sorted(MIXES)}", file=sys.stderr)
        raise typer.Exit(2)
    export = generate(seed, accounts, MIXES[mix])
    write_export(export, out)
    write_labels(export, labels)
    print(f"{len(export.rows)} transactions to {out}, {len(export.labels)} labels to {labels}")


@aml_app.command("evaluate")
def evaluate(
    transactions: Path = typer.Option(..., "--transactions", help="Export CSV."),
    labels: Path = typer.Option(..., "--labels", help="Labels CSV from `generate`."),
    config_path: Path | None = typer.Option(None, "--config", help="Rules JSON."),
) -> None:
    """Per-typology account recall, flagged-account precision, large-cash exactness, time."""
    from branchdesk.risk.aml.evaluate import evaluate_file
    from branchdesk.risk.aml.io import ExportFormatError

    config = _config(config_path)
    try:
        result = evaluate_file(transactions, labels, config)
    except ExportFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None
    except (OSError, KeyError) as exc:
        print(f"cannot read the export or labels: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    for line in result.lines():
        print(line)
    if result.false_flagged:
        print("false positives: " + ", ".join(result.false_flagged[:20]))
    if result.large_cash_missed or result.large_cash_wrong:
        print("large cash missed: " + ", ".join(result.large_cash_missed[:20]))
        print("large cash wrong: " + ", ".join(result.large_cash_wrong[:20]))


kyc_app = typer.Typer(
    no_args_is_help=True,
    help="KYC: watch-list screening and customer risk rating over customer exports.",
)

_HIT_COLUMNS = (
    "customer_id",
    "entry_id",
    "list_source",
    "score",
    "name_score",
    "customer_name",
    "listed_name",
    "name_method",
    "birth_date_agreement",
    "country_agreement",
    "reasons",
)


def _read_or_exit(read: Callable[[Path], T], path: Path) -> T:
    from branchdesk.risk.kyc.io import KycFormatError

    try:
        return read(path)
    except KycFormatError as exc:
        print(str(exc), file=sys.stderr)
        raise typer.Exit(2) from None


def _write_or_exit(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    from branchdesk.risk.kyc.io import write_csv

    try:
        write_csv(path, header, rows)
    except OSError as exc:
        print(f"{path}: cannot write: {exc.strerror}", file=sys.stderr)
        raise typer.Exit(2) from None


def _screen_hits(
    customers: Sequence[Customer], watchlist_path: Path, threshold: float
) -> list[Hit]:
    from branchdesk.risk.kyc.io import read_watchlist
    from branchdesk.risk.kyc.watchlist import Watchlist, screen_all

    entries = _read_or_exit(read_watchlist, watchlist_path)
    return screen_all(customers, Watchlist(tuple(entries)), threshold)


@kyc_app.command("screen")
def kyc_screen(
    customers: Path = typer.Option(..., "--customers", help="Customers CSV."),
    watchlist: Path = typer.Option(..., "--watchlist", help="Watch-list CSV."),
    out: Path = typer.Option(..., "--out", help="Hits CSV to write (atomically)."),
    threshold: float = typer.Option(0.85, "--threshold", min=0.0, max=1.0, help="Hit score."),
) -> None:
    """Screen every customer against a watch list; malformed input writes nothing."""
    from branchdesk.risk.kyc.io import read_customers

    started = time.perf_counter()
    people = _read_or_exit(read_customers, customers)
    hits = _screen_hits(people, watchlist, threshold)
    rows = (
        (
            hit.customer_id,
            hit.entry_id,
            hit.list_source,
            f"{hit.score:.4f}",
            f"{hit.name_score:.4f}",
            hit.customer_name,
            hit.listed_name,
            hit.name_method,
            hit.birth_date_agreement,
            hit.country_agreement,
            "; ".join(hit.reasons),
        )
        for hit in hits
    )
    _write_or_exit(out, _HIT_COLUMNS, rows)
    flagged = len({hit.customer_id for hit in hits})
    seconds = time.perf_counter() - started
    print(f"{len(hits)} hits for {flagged} customers written to {out} in {seconds:.2f} s")


@kyc_app.command("rate")
def kyc_rate(
    customers: Path = typer.Option(..., "--customers", help="Customers CSV."),
    out: Path = typer.Option(..., "--out", help="Ratings CSV to write (atomically)."),
    today: str = typer.Option("", "--today", help="Rating date YYYY-MM-DD (default: today, UTC)."),
    watchlist: Path | None = typer.Option(None, "--watchlist", help="Watch list to screen too."),
    threshold: float = typer.Option(0.85, "--threshold", min=0.0, max=1.0, help="Hit score."),
    config_path: Path | None = typer.Option(None, "--config", help="Rating rules JSON."),
) -> None:
    """Rate every customer low/medium/high with reasons, ID expiry and missing information."""
    from branchdesk.risk.kyc.completeness import kyc_status
    from branchdesk.risk.kyc.io import read_customers
    from branchdesk.risk.kyc.rating import RatingConfigError, load_rating_config, rate

    try:
        on = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        print(f"--today: expected YYYY-MM-DD, got {today!r}", file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        config = load_rating_config(config_path)
    except (RatingConfigError, OSError) as exc:
        print(f"{config_path}: invalid rating rules: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    people = _read_or_exit(read_customers, customers)
    hits = _screen_hits(people, watchlist, threshold) if watchlist is not None else []
    by_customer: dict[str, list[Hit]] = {}
    for hit in hits:
        by_customer.setdefault(hit.customer_id, []).append(hit)
    rows = []
    counts: dict[str, int] = {}
    for person in people:
        rating = rate(
            person, today=on, config=config, watchlist_hits=by_customer.get(person.customer_id, ())
        )
        status = kyc_status(person, today=on)
        counts[rating.level] = counts.get(rating.level, 0) + 1
        rows.append(
            (
                person.customer_id,
                rating.level.value,
                rating.points,
                status.id_expiry.status.value,
                status.id_expiry.expires_on or "",
                status.id_expiry.next_reminder_on or "",
                ";".join(m.field for m in status.missing),
                rating.explain(),
            )
        )
    header = (
        "customer_id",
        "level",
        "points",
        "id_status",
        "id_expires_on",
        "next_reminder_on",
        "missing",
        "reasons",
    )
    _write_or_exit(out, header, rows)
    summary = ", ".join(f"{level} {counts.get(level, 0)}" for level in ("low", "medium", "high"))
    print(f"{len(rows)} customers rated ({summary}) on {on}, written to {out}")


@kyc_app.command("generate")
def kyc_generate(
    seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same files)."),
    customers: int = typer.Option(100_000, "--customers", min=1, help="Customers to generate."),
    entries: int = typer.Option(10_000, "--entries", min=1, help="Watch-list entries."),
    planted: int = typer.Option(50, "--planted", min=0, help="Entries that list customers."),
    out_customers: Path = typer.Option(..., "--out-customers", help="Customers CSV to write."),
    out_watchlist: Path = typer.Option(..., "--out-watchlist", help="Watch-list CSV to write."),
) -> None:
    """Write synthetic customers and a watch list whose first `--planted` entries list customers
    under another spelling (entry ids W000000...), for measuring `kyc screen`."""
    from branchdesk.risk.kyc.io import write_customers, write_watchlist
    from branchdesk.risk.kyc.synth import generate_customers, generate_watchlist

    people = generate_customers(customers, seed)
    listed = generate_watchlist(entries, seed + 1, people, min(planted, entries))
    write_customers(out_customers, people)
    write_watchlist(out_watchlist, listed)
    print(f"{len(people)} customers to {out_customers}, {len(listed)} entries to {out_watchlist}")


def _day(text: str, option: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        print(f"{option}: expected YYYY-MM-DD, got {text!r}", file=sys.stderr)
        raise typer.Exit(2) from None


@aml_app.command("sweep")
def sweep(
    since: str = typer.Option(
        "",
        "--since",
        help="Only findings with movements on or after "
        "this day (YYYY-MM-DD, UTC); default: the whole ledger.",
    ),
    config_path: Path | None = typer.Option(None, "--config", help="Rules JSON."),
    url: str | None = typer.Option(None, "--url", help="Database URL."),
) -> None:
    """Store alerts for postings held for review and for the rules over the ledger's history
    (idempotent: a finding already stored is not stored again); suspicious alerts open cases."""
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.risk.cases.sweep import sweep_held_postings, sweep_ledger

    config = _config(config_path)
    start = _day(since, "--since") if since else None
    database = Database(url or get_settings().database_url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with database.unit_of_work() as db:
        held = sweep_held_postings(db, now=now)
        swept = sweep_ledger(db, config=config, since=start, now=now)
    seconds = time.perf_counter() - started
    print(
        f"held postings: {held.scanned} seen, {held.alerts} new alerts; "
        f"ledger rules: {swept.scanned} findings, {swept.alerts} new alerts; "
        f"{held.cases_opened + swept.cases_opened} cases opened in {seconds:.2f} s"
    )


report_app = typer.Typer(no_args_is_help=True, help="Regulatory report exports.")
aml_app.add_typer(report_app, name="report")


@report_app.command("large-value")
def report_large_value(
    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, UTC)."),
    end: str = typer.Option(..., "--to", help="Last day, inclusive (YYYY-MM-DD, UTC)."),
    out: Path = typer.Option(..., "--out", help="LVTR CSV to write (atomically)."),
    institution: str = typer.Option("BRANCHDESK", "--institution", help="Reporting institution."),
    url: str | None = typer.Option(None, "--url", help="Database URL."),
) -> None:
    """Write the large-value transaction report of the stored report decisions in the range."""
    from datetime import timedelta

    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.risk.cases.reports import LVTR_COLUMNS, large_value_rows

    first, last = _day(start, "--from"), _day(end, "--to") + timedelta(days=1)
    database = Database(url or get_settings().database_url)
    with database.read_only() as db:
        rows = large_value_rows(db, start=first, end=last, institution=institution)
    _write_or_exit(out, LVTR_COLUMNS, rows)
    print(f"{len(rows)} large-value transactions written to {out}")


@kyc_app.command("expiry-check")
def kyc_expiry_check(
    days: int = typer.Option(30, "--days", min=0, help="Remind when the ID expires within N days."),
    thresholds: list[int] = typer.Option(
        [7], "--threshold", min=0, help="Further reminder points (days before expiry)."
    ),
    url: str | None = typer.Option(None, "--url", help="Database URL."),
) -> None:
    """Queue ID expiry reminders (once per threshold), expiry notices, and mark expired KYC."""
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.risk.cases.kyc import expiry_check

    database = Database(url or get_settings().database_url)
    with database.unit_of_work() as db:
        result = expiry_check(db, now=datetime.now(UTC), days=days, thresholds=thresholds)
    print(
        f"{result.checked} customers with IDs expiring within {days} days or expired: "
        f"{result.reminders} messages queued, {result.expired} newly expired, "
        f"{result.unreachable} without phone or e-mail"
    )


@kyc_app.command("load-watchlist")
def kyc_load_watchlist(
    path: Path = typer.Argument(..., help="Watch-list CSV (the `kyc screen` format)."),
    threshold: float = typer.Option(0.85, "--threshold", min=0.0, max=1.0, help="Hit score."),
    url: str | None = typer.Option(None, "--url", help="Database URL."),
) -> None:
    """Store the watch list and re-screen every customer against its new or changed entries;
    hits become AML alerts on the customer's case. A malformed file changes nothing."""
    from branchdesk.core.config import get_settings
    from branchdesk.core.db import Database
    from branchdesk.risk.cases.kyc import load_watchlist
    from branchdesk.risk.kyc.io import read_watchlist

    entries = _read_or_exit(read_watchlist, path)
    database = Database(url or get_settings().database_url)
    started = time.perf_counter()
    with database.unit_of_work() as db:
        result = load_watchlist(db, entries=entries, now=datetime.now(UTC), threshold=threshold)
    seconds = time.perf_counter() - started
    print(
        f"{result.entries} entries stored ({result.changed} new or changed); {result.hits} hits, "
        f"{result.new_alerts} new alerts in {seconds:.2f} s"
    )
