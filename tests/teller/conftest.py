from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from branchdesk.ledger.service.compliance import AllowAll, PrePostingCheck


@pytest.fixture
def compliance(app: FastAPI) -> Iterator[list[PrePostingCheck]]:
    """The app's pre-posting check, allow-all unless a test puts another one in the list."""
    holder: list[PrePostingCheck] = [AllowAll()]

    class Current:
        def check(self, db, *, posting):  # type: ignore[no-untyped-def]
            return holder[0].check(db, posting=posting)

    previous = getattr(app.state, "ledger_compliance", None)
    app.state.ledger_compliance = Current()
    try:
        yield holder
    finally:
        app.state.ledger_compliance = previous
