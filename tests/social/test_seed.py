"""The demo's social posts: one published with replies and one waiting, per staffed branch."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.identity.roles import Role
from branchdesk.social.models import Interaction, Post
from branchdesk.social.seed import seed_demo_social
from tests.factories import make_branch, make_user
from tests.social.helpers import NOW


def test_the_demo_gets_a_published_post_with_replies_and_one_waiting(db: Session) -> None:
    branch = make_branch(db, code="DEMO1", timezone="Asia/Shanghai")
    make_branch(db, code="DEMO2")  # nobody works here: no posts
    manager = make_user(db, Role.branch_manager, (branch,))
    rm = make_user(db, Role.relationship_manager, (branch,))
    quality = make_user(db, Role.quality_officer, (branch,))
    assert seed_demo_social(db, epoch=NOW) == 2
    posts = db.execute(select(Post).order_by(Post.reference)).scalars().all()
    assert [(p.channel, p.state, p.drafted_by_id, p.decided_by_id) for p in posts] == [
        ("wechat", "published", rm.id, manager.id),
        ("wechat", "pending_approval", quality.id, None),
    ]
    replies = db.execute(select(Interaction.post_id, Interaction.case_id)).all()
    assert replies == [(posts[0].id, None), (posts[0].id, None)]
