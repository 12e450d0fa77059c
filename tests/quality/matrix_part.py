"""Quality routes in the role matrix (tests/web/test_role_matrix.py).

``/quality/plotly.js`` is the chart library itself (no data): public, like /static.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.factories import make_service_type
from tests.matrix import PUBLIC, Case, WorldContext

QUALITY_VIEWERS = frozenset({Role.quality_officer, Role.branch_manager, Role.admin})
QUALITY_MANAGERS = frozenset({Role.quality_officer, Role.admin})
SCORES = [
    {"code": "wait", "verdict": "pass"},
    {"code": "handling", "verdict": "fail", "note": "slow"},
    {"code": "document-1", "verdict": "na"},
]
VISIT = {"branch_code": "HOME", "service_code": "QCHK", "visited_on": "2026-01-05"}
FORM = {
    "branch": "HOME", "service": "QCHK", "visited_on": "2026-01-05", "verdict-wait": "pass",
    "verdict-handling": "fail", "verdict-document-1": "na",
}  # fmt: skip

CASES = [
    Case("GET", "/api/v1/quality/dashboard", QUALITY_VIEWERS, params={"branch": "HOME"}),
    Case("GET", "/quality", QUALITY_VIEWERS, html=True, params={"branch": "HOME"}),
    Case("GET", "/quality/plotly.js", PUBLIC),
    Case("GET", "/api/v1/quality/checklists/QCHK", QUALITY_VIEWERS),
    Case("POST", "/api/v1/quality/visits", QUALITY_MANAGERS, json={**VISIT, "scores": SCORES}),
    Case("GET", "/api/v1/quality/visits", QUALITY_VIEWERS, params={"branch": "HOME"}),
    Case("GET", "/api/v1/quality/visits/trend", QUALITY_VIEWERS),
    Case("GET", "/quality/checklists", QUALITY_VIEWERS, html=True, params={"service": "QCHK"}),
    Case("POST", "/quality/checklists", QUALITY_MANAGERS, html=True, form=FORM),
    Case("GET", "/quality/report", QUALITY_VIEWERS, html=True, params={"branch": "HOME"}),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    make_service_type(db, code="QCHK", required_documents=["ID card"], script="")
    return {}
