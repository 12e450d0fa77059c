"""Social routes in the role matrix (tests/web/test_role_matrix.py). The webhooks that feed the
interaction log are complaint routes (/hooks/), proven in tests/social/test_interactions.py."""

from __future__ import annotations

from sqlalchemy.orm import Session

from branchdesk.core.clock import utcnow
from branchdesk.core.ids import new_id
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.social.models import Post
from tests.matrix import SUPERVISORS, Case, WorldContext

WRITERS = SUPERVISORS | {Role.relationship_manager, Role.quality_officer}
READERS = WRITERS

API = "/api/v1/social"
CONTENT = {"channel": "line", "title": "Savings week", "body": "Open an account this week."}
CASES = [
    Case("GET", API + "/channels", READERS),
    Case("GET", API + "/posts", READERS),
    Case("POST", API + "/posts", WRITERS, json={**CONTENT, "branch_code": "HOME"}),
    Case("GET", API + "/posts/{sp_draft}", READERS),
    Case("PUT", API + "/posts/{sp_draft}", WRITERS, json=CONTENT),
    Case("POST", API + "/posts/{sp_draft}/submit", WRITERS),
    Case("POST", API + "/posts/{sp_pending}/approve", SUPERVISORS, json={}),
    Case("POST", API + "/posts/{sp_pending}/reject", SUPERVISORS, json={"note": "wrong rate"}),
    Case("POST", API + "/posts/{sp_approved}/publish", WRITERS),
    Case("GET", API + "/interactions", READERS),
    # pages
    Case("GET", "/social", READERS, html=True),
    Case("POST", "/social", WRITERS, html=True, form={**CONTENT, "branch_code": "HOME"}),
    Case("GET", "/social/posts/{sp_draft}", READERS, html=True),
    Case("POST", "/social/posts/{sp_draft}/edit", WRITERS, html=True, form=CONTENT),
    Case("POST", "/social/posts/{sp_draft}/submit", WRITERS, html=True, form={}),
    Case("POST", "/social/posts/{sp_pending}/approve", SUPERVISORS, html=True, form={}),
    Case("POST", "/social/posts/{sp_pending}/reject", SUPERVISORS, html=True, form={"note": "n"}),
    Case("POST", "/social/posts/{sp_approved}/publish", WRITERS, html=True, form={}),
    Case("GET", "/social/interactions", READERS, html=True),
]


def world(db: Session, signer: Signer, ctx: WorldContext) -> dict[str, str]:
    now = utcnow()
    names = {}
    for n, state in enumerate(("draft", "pending_approval", "approved"), start=1):
        post = Post(
            id=new_id(), reference=f"SP-2026-9{n:05d}", branch_id=ctx.home.id, channel="wechat",
            title="Rates", body="New rates", link_url="", state=state, scheduled_at=None,
            drafted_by_id=ctx.colleague.id, submitted_at=now if n > 1 else None,
            decision_note="", published_by="", created_at=now, updated_at=now,
        )  # fmt: skip
        db.add(post)
        names[state] = post.reference
    db.flush()
    return {
        "sp_draft": names["draft"],
        "sp_pending": names["pending_approval"],
        "sp_approved": names["approved"],
    }
