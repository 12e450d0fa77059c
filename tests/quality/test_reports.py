"""Reports: CSV exact on the constructed day, PDF and HTML produced, e-mails once per period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from branchdesk.core.events import OutboxMessage
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.quality import reports
from branchdesk.quality.cli import quality_app
from branchdesk.quality.models import ReportDelivery
from branchdesk.quality.reports import ReportPeriod
from tests.factories import NOW, browser_session, make_user, principal
from tests.quality.helpers import DAY, build_day


def _report(
    db: Session, branch_code: str, period: ReportPeriod = ReportPeriod.day
) -> reports.Report:
    officer = principal(db, make_user(db, Role.quality_officer))
    return reports.build_report(
        db, actor=officer, period=period, on=DAY, branch_code=branch_code,
        now=NOW + timedelta(days=1),
    )  # fmt: skip


def test_csv_is_exact(db: Session) -> None:
    world = build_day(db)
    text = reports.to_csv(_report(db, world.branch.code))
    lines = text.splitlines()
    code, day = world.branch.code, DAY.isoformat()
    assert lines[0] == ",".join(reports.CSV_COLUMNS)
    # service p50 500 s -> 495, the lower edge of its 15-second bucket (the roll-up's precision)
    assert lines[1] == (
        f"{code},day,{day},{day},total,all,{code} · {world.branch.name_en},"
        "12,10,9,900,3000,5,0.5,500.0,495,1,0.0833,1,0.0833,3,250.0,2,1,0.5,1,0,,"
    )
    assert lines[2].split(",")[4:8] == ["day", day, day, "12"]
    teller = [line for line in lines if ",teller," in line and "Teller Wang" in line]
    assert teller == [
        f"{code},day,{day},{day},teller,{world.teller.id},Teller Wang,"
        "9,9,9,900,3000,5,0.5556,500.0,495,0,0.0,0,0.0,,,,,,,0,,"
    ]
    assert len(lines) == 1 + 1 + 1 + 2 + 1 + 1  # header, total, day, tellers, counter, service


def test_pdf_and_html_are_produced(db: Session, tmp_path: Path) -> None:
    world = build_day(db)
    report = _report(db, world.branch.code, ReportPeriod.week)
    assert report.board.from_on == DAY  # a Monday
    assert report.board.to_on == DAY + timedelta(days=6)
    pdf = reports.to_pdf(report, "zh-Hant")
    assert pdf.startswith(b"%PDF-")
    assert b"MSung-Light" in pdf
    assert b"STSong-Light" in reports.to_pdf(report, "zh-Hans")
    html = reports.render_html(report, DAY, world.branch.code, "zh-Hant")
    assert "服務質素報告" in html
    assert 'id="report-teller"' in html
    assert 'id="report-days"' in html  # seven days in a weekly report


def test_report_route_serves_three_formats(client: TestClient, db: Session, signer: Signer) -> None:
    world = build_day(db)
    officer = make_user(db, Role.quality_officer)
    cookie, _csrf = browser_session(signer, officer)
    client.cookies.set("bd_session", cookie)
    params = {"period": "day", "date": DAY.isoformat(), "branch": world.branch.code}
    html = client.get("/quality/report", params=params)
    assert html.status_code == 200
    assert "Teller Wang" in html.text
    csv = client.get("/quality/report", params={**params, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1].split(",")[7:10] == ["12", "10", "9"]
    pdf = client.get("/quality/report", params={**params, "format": "pdf"})
    assert pdf.content.startswith(b"%PDF-")


def test_send_reports_once_per_period(db: Session) -> None:
    world = build_day(db)
    manager = make_user(db, Role.branch_manager, (world.branch, world.other), username="mgr.q")
    make_user(db, Role.teller, (world.branch,))  # not a manager: no report
    batch = principal(db, make_user(db, Role.admin))

    def outbox() -> int:
        return db.scalar(select(func.count()).select_from(OutboxMessage)) or 0

    before = outbox()
    sent = reports.send_reports(db, actor=batch, period=ReportPeriod.week, on=DAY, now=NOW)
    assert sent == 2  # one per branch of the manager
    assert outbox() == before + 2
    again = reports.send_reports(
        db, actor=batch, period=ReportPeriod.week, on=DAY + timedelta(days=3), now=NOW
    )
    assert again == 0  # same week
    assert outbox() == before + 2
    rows = db.execute(select(ReportDelivery.recipient_id, ReportDelivery.period_start)).all()
    assert sorted(rows) == [(manager.id, DAY), (manager.id, DAY)]
    next_week = reports.send_reports(
        db, actor=batch, period=ReportPeriod.week, on=DAY + timedelta(days=7), now=NOW
    )
    assert next_week == 2


def test_cli_writes_a_csv(tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "bank.csv"
    result = CliRunner().invoke(
        quality_app,
        ["report", "--period", "day", "--date", "2020-01-06", "--format", "csv",
         "--out", str(out), "--url", database_url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("bank,day,2020-01-06,2020-01-06,total,all,")
    assert lines[1].split(",")[7:10] == ["0", "0", "0"]  # no tickets that day
