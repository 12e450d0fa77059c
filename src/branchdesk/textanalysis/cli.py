"""`branchdesk textanalysis ...`: classify and analyse CSV files, train and evaluate the model."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import typer

from branchdesk.textanalysis.topics import PERIODS, DatedText

textanalysis_app = typer.Typer(
    help="Complaint and comment text: categories, sentiment, topics, keywords, the model.",
    no_args_is_help=True,
)


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        typer.echo(f"cannot read {path}: {error.strerror}", err=True)
        raise typer.Exit(code=2) from None
    except UnicodeDecodeError:
        typer.echo(f"{path} is not UTF-8 text", err=True)
        raise typer.Exit(code=2) from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    fields = list(reader.fieldnames or [])
    if "text" not in fields:
        typer.echo(f"{path}: needs a header row with a 'text' column", err=True)
        raise typer.Exit(code=2)
    rows = [{key: (value or "") for key, value in row.items() if key is not None} for row in reader]
    return fields, rows


def _parse_day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@textanalysis_app.command("classify")
def classify_command(
    source: Path = typer.Option(..., "--in", help="CSV with a 'text' column (and optional 'id')."),
    out: Path = typer.Option(..., "--out", help="Where to write the labels CSV."),
) -> None:
    """One label row per input row, same order; empty or garbage text is 'other', low confidence."""
    from branchdesk.textanalysis.service import classify_many

    fields, rows = _read_rows(source)
    results = classify_many([row.get("text", "") for row in rows])
    has_id = "id" in fields
    header = [
        "row",
        *(["id"] if has_id else []),
        "category",
        "category_confidence",
        "sentiment",
        "sentiment_confidence",
        "language",
    ]
    table: list[list[object]] = []
    for number, (row, result) in enumerate(zip(rows, results, strict=True), start=1):
        table.append(
            [
                number,
                *([row.get("id", "")] if has_id else []),
                result.category,
                f"{result.category_confidence:.4f}",
                result.sentiment,
                f"{result.sentiment_confidence:.4f}",
                result.language,
            ]
        )
    _write(out, header, table)
    typer.echo(f"classified {len(table)} rows -> {out}")


@textanalysis_app.command("topics")
def topics_command(
    source: Path = typer.Option(..., "--in", help="CSV with 'text' and 'date' (ISO) columns."),
    out: Path = typer.Option(..., "--out", help="Where to write the topics CSV."),
    period: str = typer.Option("week", "--period", help="day, week or month."),
    keywords: int = typer.Option(10, "--keywords", min=1, max=100, help="Keywords per period."),
    topic_count: int = typer.Option(6, "--topics", min=1, max=50, help="Topic clusters."),
) -> None:
    """Keywords per period, topic clusters (with texts per period) and category counts."""
    from branchdesk.textanalysis.service import classify_many
    from branchdesk.textanalysis.topics import category_trend, keywords_by_period, topics

    if period not in PERIODS:
        typer.echo(f"--period must be one of {', '.join(PERIODS)}", err=True)
        raise typer.Exit(code=2)
    fields, rows = _read_rows(source)
    if "date" not in fields:
        typer.echo(f"{source}: needs a 'date' column (ISO date or datetime)", err=True)
        raise typer.Exit(code=2)
    items: list[DatedText] = []
    skipped = 0
    for row in rows:
        day = _parse_day(row.get("date", ""))
        if day is None:
            skipped += 1
            continue
        items.append(DatedText(row.get("text", ""), day))
    table: list[list[object]] = []
    for label, words in keywords_by_period(items, period=period, top=keywords).items():
        for rank, keyword in enumerate(words, start=1):
            table.append(
                [label, "keyword", rank, keyword.term, f"{keyword.score:.5f}", keyword.count]
            )
    for topic in topics(items, period=period, count=topic_count):
        shown = " / ".join(topic.words)
        table.append(["all", "topic", topic.number, shown, "", topic.size])
        for label, size in topic.by_period.items():
            table.append([label, "topic", topic.number, shown, "", size])
    categories = [result.category for result in classify_many([item.text for item in items])]
    for label, counter in category_trend(items, categories, period=period).items():
        for rank, (category, size) in enumerate(
            sorted(counter.items(), key=lambda entry: (-entry[1], entry[0])), start=1
        ):
            table.append([label, "category", rank, category, "", size])
    _write(out, ["period", "kind", "rank", "label", "score", "count"], table)
    note = f" ({skipped} rows without a valid date skipped)" if skipped else ""
    typer.echo(f"{len(items)} texts -> {len(table)} rows in {out}{note}")


@textanalysis_app.command("train")
def train_command(
    out: Path = typer.Option(..., "--out", help="Directory for model.pkl and model.json."),
    url: str | None = typer.Option(None, help="Database URL for stored corrections."),
    corrections: bool = typer.Option(
        True, "--corrections/--no-corrections", help="Learn the stored corrections too."
    ),
) -> None:
    """Train on the shipped examples (+ stored corrections); write a versioned artifact."""
    from branchdesk.textanalysis.evaluation import as_dicts, evaluate, format_table
    from branchdesk.textanalysis.model import load_examples, train
    from branchdesk.textanalysis.service import list_correction_examples

    stored = []
    if corrections:
        from sqlalchemy.exc import SQLAlchemyError

        from branchdesk.core.config import get_settings
        from branchdesk.core.db import Database

        database = Database(url or get_settings().database_url)
        try:
            with database.read_only() as db:
                stored = list_correction_examples(db)
        except SQLAlchemyError as error:
            typer.echo(
                f"cannot read corrections ({error.__class__.__name__}); "
                "run `branchdesk db upgrade` or pass --no-corrections",
                err=True,
            )
            raise typer.Exit(code=2) from None
        finally:
            database.dispose()
    model = train(load_examples("train.csv"), stored)
    scores = evaluate(model, load_examples("heldout.csv"))
    model.metrics = {"heldout": as_dicts(scores)}
    model.save(out)
    typer.echo(format_table(scores))
    typer.echo(
        f"model {model.data_fingerprint[:12]}: {model.examples} examples, "
        f"{model.corrections} corrections -> {out}"
    )


@textanalysis_app.command("evaluate")
def evaluate_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Train on the shipped examples only and score the held-out set per language."""
    from branchdesk.textanalysis.evaluation import as_dicts, evaluate, format_table
    from branchdesk.textanalysis.model import load_examples, train

    model = train(load_examples("train.csv"))
    scores = evaluate(model, load_examples("heldout.csv"))
    typer.echo(json.dumps(as_dicts(scores), indent=2) if as_json else format_table(scores))
