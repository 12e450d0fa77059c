"""Customer 360 routes in the role matrix (tests/web/test_role_matrix.py): read-only, for the
roles with customer.view, on a customer of the actor's home branch."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from tests.matrix import CUSTOMER_VIEWERS, Case, WorldContext

CASES = [
    Case("GET", "/api/v1/customers/{customer}/360", CUSTOMER_VIEWERS),
    Case("GET", "/customers/{customer}/360", CUSTOMER_VIEWERS, html=True),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    return {}
