"""Complaint routes in the role matrix (tests/web/test_role_matrix.py).

The public form (/complain) and the signed webhooks (/hooks/) are not staff routes: their
access rules (CSRF from the anonymous session, HMAC signatures) are proven in test_views.py
and test_hooks.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from branchdesk.complaints.models import Case as ComplaintCase
from branchdesk.complaints.models import Extension, ImprovementAction
from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.matrix import ALL, SUPERVISORS, Case, WorldContext

VIEWERS = ALL - {Role.risk_officer}
HANDLERS = frozenset(
    {
        Role.teller,
        Role.lobby_manager,
        Role.relationship_manager,
        Role.branch_manager,
        Role.quality_officer,
        Role.admin,
    }
)
IMPROVERS = frozenset({Role.branch_manager, Role.quality_officer, Role.admin})

OWN_ACCESS = ("/hooks/", "/complain")

API = "/api/v1/complaints"
CASES = [
    Case("GET", API, VIEWERS),
    Case("POST", API, HANDLERS, json={"branch_code": "HOME", "body": "Waited too long"}),
    Case("GET", API + "/{cmp_new}", VIEWERS),
    Case("POST", API + "/{cmp_new}/transitions", HANDLERS, json={"action": "acknowledge"}),
    Case("POST", API + "/{cmp_new}/assign", HANDLERS, json={"assignee_id": "{cmp_colleague_id}"}),
    Case("POST", API + "/{cmp_new}/messages", HANDLERS, json={"kind": "note", "text": "Called back"}),
    Case("POST", API + "/{cmp_new}/category", HANDLERS, json={"category": "other"}),
    Case("POST", API + "/{cmp_new}/complexity", HANDLERS, json={"is_complex": True, "reason": "r"}),
    Case("POST", API + "/{cmp_new}/extensions", HANDLERS, json={"total_days": 45, "reason": "r"}),
    Case(
        "POST", API + "/{cmp_ext}/extensions/{cmp_ext_id}/decision", SUPERVISORS,
        json={"approve": True},
    ),
    Case("GET", "/api/v1/complaint-policies", VIEWERS),
    Case(
        "PUT", "/api/v1/branches/HOME/complaint-jurisdiction", SUPERVISORS,
        json={"jurisdiction": "HK"},
    ),
    Case("GET", "/api/v1/improvement-actions", VIEWERS),
    Case(
        "POST", "/api/v1/improvement-actions", IMPROVERS,
        json={"title": "Third counter", "owner": "colleague", "due_on": "2026-12-31",
              "kpi": "waits under 15 min", "case_reference": "{cmp_new}"},
    ),
    Case("PATCH", "/api/v1/improvement-actions/{cmp_action}", IMPROVERS, json={"status": "in_progress"}),
    # pages
    Case("GET", "/complaints", VIEWERS, html=True),
    Case("POST", "/complaints", HANDLERS, html=True, form={"branch_code": "HOME", "body": "Rude"}),
    Case("GET", "/complaints/{cmp_new}", VIEWERS, html=True),
    Case("POST", "/complaints/{cmp_new}/acknowledge", HANDLERS, html=True, form={}),
    Case("POST", "/complaints/{cmp_new}/note", HANDLERS, html=True, form={"text": "n"}),
    Case(
        "POST", "/complaints/{cmp_ext}/approve-extension", SUPERVISORS, html=True,
        form={"extension_id": "{cmp_ext_id}"},
    ),
    Case("GET", "/improvement-actions", VIEWERS, html=True),
    Case(
        "POST", "/improvement-actions", IMPROVERS, html=True,
        form={"title": "t", "owner": "colleague", "due_on": "2026-12-31", "kpi": "k",
              "topic": "queues"},
    ),
    Case(
        "POST", "/improvement-actions/{cmp_action}", IMPROVERS, html=True,
        form={"status": "in_progress"},
    ),
]  # fmt: skip


def _case(ctx: WorldContext, reference: str, state: str, now: datetime) -> ComplaintCase:
    """A case row written directly: the matrix builds this world for every case it runs."""
    return ComplaintCase(
        id=new_id(), reference=reference, channel="counter", subject="Queue", body="Waited",
        severity="normal", is_complex=False, state=state, branch_id=ctx.home.id,
        jurisdiction="CN", policy_code="cn-banking-2020", policy_version=1, received_at=now,
        acknowledged_at=now if state != "new" else None, acknowledge_due_at=now + timedelta(days=1),
        interim_due_at=now + timedelta(days=7), final_due_at=now + timedelta(days=21),
        root_cause="", resolution="", created_at=now, updated_at=now,
    )  # fmt: skip


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    new = _case(ctx, "CMP-2026-900001", "new", now)
    extended = _case(ctx, "CMP-2026-900002", "acknowledged", now)
    db.add_all([new, extended])
    db.flush()
    extension = Extension(
        id=new_id(), case_id=extended.id, total_days=45, reason="Network", status="pending",
        requested_by_id=ctx.colleague.id, requested_at=now,
    )  # fmt: skip
    action = ImprovementAction(
        id=new_id(), case_id=new.id, topic="", branch_id=ctx.home.id, title="Shorter queues",
        owner_id=ctx.colleague.id, due_on=now.date(), kpi="waits under 15 min",
        baseline_value=60.0, measured_value=None, status="open", created_at=now, updated_at=now,
    )  # fmt: skip
    db.add_all([extension, action])
    db.flush()
    return {
        "cmp_new": new.reference,
        "cmp_ext": extended.reference,
        "cmp_ext_id": str(extension.id),
        "cmp_colleague_id": str(ctx.colleague.id),
        "cmp_action": str(action.id),
    }
