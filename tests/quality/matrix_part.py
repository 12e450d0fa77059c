"""Quality routes in the role matrix (tests/web/test_role_matrix.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.matrix import PUBLIC, Case, WorldContext

QUALITY_VIEWERS = frozenset({Role.quality_officer, Role.branch_manager, Role.admin})

CASES = [
    Case("GET", "/api/v1/quality/dashboard", QUALITY_VIEWERS, params={"branch": "HOME"}),
    Case("GET", "/quality", QUALITY_VIEWERS, html=True, params={"branch": "HOME"}),
    Case("GET", "/quality/plotly.js", PUBLIC),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    return {}
