"""Portal routes in the role matrix (tests/web/test_role_matrix.py).

The customer pages (/my) and the mobile-banking API (/api/v1/portal) are not for staff roles:
they take the customer's own session cookie or bearer token only, which test_api.py and
test_views.py prove (staff tokens 403, staff sessions redirected to the portal login, other
customers' accounts 404). The staff enrolment route is in the matrix.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from tests.matrix import CUSTOMER_EDITORS, Case, WorldContext

OWN_ACCESS = ("/my", "/api/v1/portal")

CASES = [
    Case("POST", "/api/v1/customers/{portal_customer}/portal-enrolment", CUSTOMER_EDITORS),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    """The core world's customer gets a phone, so one-time codes have somewhere to go."""
    ctx.customer.phone = "+886900000777"
    db.flush()
    return {"portal_customer": ctx.customer.customer_number}
