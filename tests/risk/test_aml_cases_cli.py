"""`branchdesk aml sweep|report large-value` and `branchdesk kyc expiry-check|load-watchlist`
against a real database file (each command commits its own transaction)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from branchdesk.core.db import Database
from branchdesk.core.events import Event
from branchdesk.core.security import Signer
from branchdesk.migrations import upgrade
from branchdesk.risk.cases.models import AmlAlert, AmlCase, KycProfile
from branchdesk.risk.cli import aml_app, kyc_app
from tests.factories import make_customer
from tests.ledger.helpers import make_bank, open_account
from tests.risk.cases_helpers import HOLD, cash_in, day

runner = CliRunner()


def test_sweep_and_large_value_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/aml.db"
    upgrade(url)
    database = Database(url)
    signer = Signer("cli-test-secret-cli-test-secret-cli-test")
    with database.unit_of_work() as db:
        bank = make_bank(db, signer, code="CLI")
        smurf, big, held = (open_account(db, bank) for _ in range(3))
        for n, amount in ((0, 4_600_000), (1, 4_700_000), (2, 4_800_000)):
            cash_in(db, bank, smurf, amount, at=day(n))
        cash_in(db, bank, big, 8_000_000, at=day(1))
        cash_in(db, bank, held, 4_900_000, at=day(2), compliance=HOLD)
        big_number = big.number

    first = runner.invoke(aml_app, ["sweep", "--url", url])
    assert first.exit_code == 0, first.output
    # the held posting got its alert and case when it was written: the sweep adds none
    assert first.output.startswith(
        "held postings: 1 seen, 0 new alerts; ledger rules: 2 findings, 2 new alerts; 1 cases opened"
    )
    again = runner.invoke(aml_app, ["sweep", "--since", day(0).date().isoformat(), "--url", url])
    assert again.output.startswith(
        "held postings: 1 seen, 0 new alerts; ledger rules: 2 findings, 0 new alerts; 0 cases opened"
    )
    with database.read_only() as db:
        assert db.scalar(select(func.count()).select_from(AmlAlert)) == 3
        assert db.scalar(select(func.count()).select_from(AmlCase)) == 2

    out = tmp_path / "lvtr.csv"
    span = ["--from", day(0).date().isoformat(), "--to", day(2).date().isoformat()]
    report = runner.invoke(
        aml_app, ["report", "large-value", *span, "--out", str(out), "--url", url]
    )
    assert report.exit_code == 0, report.output
    assert report.output.strip() == f"1 large-value transactions written to {out}"
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2
    assert f",{big_number},credit,80000.00,CNY,80000.00,{day(1).isoformat()},cash," in rows[1]
    bad = runner.invoke(aml_app, ["report", "large-value", "--from", "2026/03/01", "--to",
                                  "2026-03-02", "--out", str(out), "--url", url])  # fmt: skip
    assert bad.exit_code == 2


def test_kyc_expiry_check_and_watchlist_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kyc.db"
    upgrade(url)
    database = Database(url)
    signer = Signer("cli-test-secret-cli-test-secret-cli-test")
    today = datetime.now(UTC).date()
    with database.unit_of_work() as db:
        soon = make_customer(db, signer, id_expires_on=today + timedelta(days=5), phone="0911")
        listed = make_customer(
            db, signer, full_name="陳大文", latin_name="CHAN Tai Man", birth_on=date(1970, 3, 4)
        )
        soon_id, listed_id = soon.id, listed.id

    first = runner.invoke(kyc_app, ["expiry-check", "--url", url])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == (
        "1 customers with IDs expiring within 30 days or expired: 1 messages queued, "
        "0 newly expired, 0 without phone or e-mail"
    )
    second = runner.invoke(kyc_app, ["expiry-check", "--url", url])
    assert "0 messages queued" in second.output

    listing = tmp_path / "list.csv"
    listing.write_text(
        "entry_id,name,list_source,listed_on,aliases,birth_date,country\n"
        "UN-1,陳大文,UN,2020-01-01,CHAN Tai Man,1970-03-04,CN\n",
        encoding="utf-8",
    )
    loaded = runner.invoke(kyc_app, ["load-watchlist", str(listing), "--url", url])
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.startswith("1 entries stored (1 new or changed); 1 hits, 1 new alerts")
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "entry_id,name,list_source,listed_on\nUN-2,X,UN,yesterday\n", encoding="utf-8"
    )
    refused = runner.invoke(kyc_app, ["load-watchlist", str(broken), "--url", url])
    assert refused.exit_code == 2
    with database.read_only() as db:
        assert db.get(KycProfile, soon_id).reminded_days == 7  # type: ignore[union-attr]
        assert (
            db.scalar(
                select(func.count()).select_from(Event).where(Event.type == "notify.requested")
            )
            == 1
        )
        alert = db.execute(select(AmlAlert)).scalar_one()
        assert (alert.customer_id, alert.typology) == (listed_id, "watchlist")
        assert db.scalar(select(func.count()).select_from(AmlCase)) == 1
