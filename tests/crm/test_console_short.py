"""The teller console shows the customer 360's short form while serving a linked ticket."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from branchdesk.analytics.pipeline import run_pipeline
from branchdesk.core.security import Signer
from tests.factories import NOW
from tests.teller.helpers import login, make_desk


def test_console_frames_the_short_360_of_the_served_customer(
    client: TestClient, db: Session, signer: Signer
) -> None:
    desk = make_desk(db, signer)
    run_pipeline(db, engine_name="duckdb", as_of=date(2026, 3, 2), now=NOW,
                 branch_ids=[desk.branch.id])  # fmt: skip
    login(client, signer, desk.teller)
    page = client.get(desk.console)
    assert page.status_code == 200
    short_url = f"/customers/{desk.customer.customer_number}/360?view=short"
    assert f'src="{short_url}"' in page.text
    short = client.get(short_url)
    assert short.status_code == 200
    assert desk.customer.full_name in short.text
    assert "Loyalty tier" in short.text
    client.cookies.clear()


def test_console_without_an_identified_customer_has_no_360(
    client: TestClient, db: Session, signer: Signer
) -> None:
    desk = make_desk(db, signer, on_ticket=False)
    login(client, signer, desk.teller)
    page = client.get(desk.console)
    assert page.status_code == 200
    assert "view=short" not in page.text
    client.cookies.clear()
