"""Operations routes in the role matrix (tests/web/test_role_matrix.py): offline ticket blocks.

Queue managers (lobby manager, branch manager, admin) allocate and absorb blocks; every staff
role may list them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from branchdesk.catalog.service import business_day
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.operations.models import OfflineBlock
from tests.factories import NOW
from tests.matrix import ALL, QUEUE_MANAGERS, Case, WorldContext

BLOCKS = "/api/v1/branches/HOME/offline-blocks"

CASES = [
    Case("POST", BLOCKS, QUEUE_MANAGERS, json={"service_code": "MATRIX", "size": 5}),
    Case("GET", BLOCKS, ALL),
    Case("POST", BLOCKS + "/{offline_block}/absorb", QUEUE_MANAGERS,
         json={"tickets": [{"number": "M-901", "issued_at": "{offline_when}"}]}),
]  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    block = OfflineBlock(
        id=new_id(), branch_id=ctx.home.id, service_type_id=ctx.service.id,
        business_on=business_day(ctx.home, now), prefix=ctx.service.ticket_prefix,
        first_seq=900, last_seq=949, created_by_id=None, created_at=NOW,
    )  # fmt: skip
    db.add(block)
    db.flush()
    return {
        "offline_block": str(block.id),
        "offline_when": (now - timedelta(minutes=1)).isoformat(),
    }
