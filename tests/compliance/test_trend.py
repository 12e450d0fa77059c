"""The violations trend report: every month present, per severity, the change month on month,
per branch; the page in the user's language, bad input refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.compliance import service
from branchdesk.compliance.models import Severity, Violation
from branchdesk.compliance.schemas import TrendRow
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import browser_session, make_branch, make_user


def test_trend_report_fills_months_and_counts_change() -> None:
    rows = [
        TrendRow(branch_code="A", severity=Severity.high, month="2026-01", count=2),
        TrendRow(branch_code="B", severity=Severity.low, month="2026-03", count=1),
        TrendRow(branch_code="A", severity=Severity.low, month="2026-03", count=3),
        TrendRow(branch_code="A", severity=Severity.low, month="2025-11", count=9),  # too early
    ]
    report = service.trend_report(rows, until=date(2026, 3, 15), months=3)
    assert [(m.month, m.total, m.change) for m in report.months] == [
        ("2026-01", 2, 2),
        ("2026-02", 0, -2),
        ("2026-03", 4, 4),
    ]
    assert report.months[2].by_severity == {"low": 4, "medium": 0, "high": 0, "critical": 0}
    assert report.by_branch == {"A": 5, "B": 1}
    assert report.peak == 4
    across = service.trend_report(rows, until=date(2026, 1, 31), months=3)
    assert [m.month for m in across.months] == ["2025-11", "2025-12", "2026-01"]
    assert [m.change for m in across.months] == [9, -9, 2]


def test_trend_page(client: TestClient, db: Session, signer: Signer) -> None:
    branch = make_branch(db)
    officer = make_user(db, Role.compliance_officer, ())
    today = datetime.now(UTC).date()
    for severity in ("high", "high", "low"):
        db.add(
            Violation(
                branch_id=branch.id, title="cash count", description="", severity=severity,
                status="open", disciplinary_outcome="none", found_on=today,
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
            )
        )  # fmt: skip
    db.flush()
    cookie, _csrf = browser_session(signer, officer)
    client.cookies.set("bd_session", cookie)
    page = client.get("/compliance/trend?months=6", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "违规趋势报告" in page.text
    month = f"{today.year}-{today.month:02d}"
    row = page.text[page.text.index(f'data-month="{month}"') :].split("</tr>", 1)[0]
    assert '<td class="total">3</td>' in row
    assert page.text.count("data-month=") == 6
    assert f'data-branch="{branch.code}"' in page.text
    assert client.get("/compliance/trend?months=x").status_code == 422
    assert client.get("/compliance/trend?months=99").status_code == 422
