"""`branchdesk portal enrol` and the demo seed's enrolment, on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from branchdesk.core.config import get_settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer, verify_password
from branchdesk.customers.models import Customer
from branchdesk.identity.roles import Role
from branchdesk.ledger.schemas import AccountOpen
from branchdesk.ledger.service import open_account
from branchdesk.migrations import upgrade
from branchdesk.portal.cli import portal_app
from branchdesk.portal.models import PortalLogin
from branchdesk.portal.seed import enrol_demo_customers
from tests.factories import NOW, make_branch, make_customer, make_user, principal


@pytest.fixture
def cli_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("BRANCHDESK_SECRET_KEY", "portal-cli-test-secret-0123456789")
    monkeypatch.setenv("BRANCHDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield "portal-cli-test-secret-0123456789"
    get_settings.cache_clear()


def test_enrol_command_and_demo_seed(tmp_path: Path, cli_secret: str) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    database = Database(url)
    signer = Signer(cli_secret)
    with database.unit_of_work() as db:
        branch = make_branch(db, code="CLI1")
        teller = principal(db, make_user(db, Role.teller, (branch,)))
        holder = make_customer(db, signer, phone="+886912300001", home_branch_id=branch.id)
        quiet = make_customer(db, signer, phone="+886912300002")
        silent = make_customer(db, signer, phone="", email="")
        open_account(
            db, data=AccountOpen(customer_number=holder.customer_number, currency="TWD",
                                 branch_code="CLI1"), actor=teller, now=NOW,
        )  # fmt: skip
        numbers = holder.customer_number, quiet.customer_number, silent.customer_number
    runner = CliRunner()
    done = runner.invoke(
        portal_app, ["enrol", numbers[1], "--password-stdin", "--url", url],
        input="a-long-cli-password\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"customer {numbers[1]}: active"
    pending = runner.invoke(portal_app, ["enrol", numbers[1], "--url", url])
    assert pending.output.strip() == (
        f"customer {numbers[1]}: pending_activation, activation code sent to *********002"
    )
    for bad in (["enrol", numbers[2], "--url", url], ["enrol", "0000000000", "--url", url]):
        refused = runner.invoke(portal_app, bad)
        assert refused.exit_code == 2
    weak = runner.invoke(
        portal_app, ["enrol", numbers[1], "--password-stdin", "--url", url], input="short\n"
    )
    assert weak.exit_code == 2
    with database.unit_of_work() as db:
        assert enrol_demo_customers(db, now=NOW, password="branchdesk-demo") == 1  # the holder
        assert enrol_demo_customers(db, now=NOW) == 0  # once only
        logins = dict(
            db.execute(
                select(Customer.customer_number, PortalLogin).join(
                    PortalLogin, PortalLogin.customer_id == Customer.id
                )
            ).all()
        )
        assert sorted(logins) == sorted(numbers[:2])
        assert logins[numbers[0]].status == "active"
        assert verify_password(logins[numbers[0]].password_hash, "branchdesk-demo")
        assert logins[numbers[1]].status == "pending_activation"
        assert db.execute(select(func.count()).select_from(PortalLogin)).scalar_one() == 2
    database.dispose()
