"""Survey routes in the role matrix (tests/web/test_role_matrix.py).

The survey link pages ``/s/{token}`` are for customers (the signed token is the permission):
their access rules are proven in tests/feedback/test_views.py.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import make_ticket
from tests.feedback.helpers import TOKENS
from tests.matrix import PUBLIC, Case, WorldContext

FEEDBACK_VIEWERS = frozenset({Role.quality_officer, Role.branch_manager, Role.admin})

CASES = [
    Case("GET", "/api/v1/feedback/summary", FEEDBACK_VIEWERS, params={"group_by": "teller"}),
    Case("GET", "/quality/surveys", FEEDBACK_VIEWERS, html=True),
    Case("GET", "/api/v1/surveys/{survey_token}", PUBLIC),
    Case("POST", "/api/v1/surveys/{survey_token}", PUBLIC, json={"csat": 4, "nps": 9}),
]

OWN_ACCESS = ("/s/",)


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    ticket = make_ticket(
        db, ctx.home, ctx.service, state="completed", finished_at=now, served_by_id=ctx.colleague.id
    )
    return {"survey_token": TOKENS.token_for(ticket.id)}
