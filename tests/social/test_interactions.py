"""Replies and messages through the signed social webhooks land in the interaction log; a reply
that reads as a complaint (and any message without a post) still opens or appends a case."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints.models import Case, HookDelivery
from branchdesk.complaints.settings import hook_secret, sign
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.social.models import Interaction
from tests.conftest import TEST_SECRET
from tests.factories import bearer, make_branch, make_user
from tests.social.helpers import count, draft, published, team


def post_signed(client: TestClient, hook: str, payload: Any, channel: str) -> Any:
    body = json.dumps(payload).encode()
    signature = sign(body, hook_secret(channel, app_secret=TEST_SECRET))
    return client.post(
        f"/hooks/social/{hook}", content=body,
        headers={"content-type": "application/json", "x-branchdesk-signature": f"sha256={signature}"},
    )  # fmt: skip


def generic(delivery: str, sender: str, text: str, **extra: str) -> dict[str, Any]:
    return {"delivery_id": delivery, "sender": {"id": sender, "name": "Mei"}, "text": text, **extra}


def _log(db: Session) -> list[tuple[str, str, str | None, str | None]]:
    rows = db.execute(
        select(
            Interaction.delivery_id, Interaction.kind, Interaction.post_id, Interaction.case_id
        ).order_by(Interaction.delivery_id)
    ).all()
    return [(d, k, str(p) if p else None, str(c) if c else None) for d, k, p, c in rows]


def test_replies_to_a_post_are_logged_and_only_a_complaint_opens_a_case(
    client: TestClient, db: Session
) -> None:
    _branch, maker, checker = team(db)
    post = published(db, maker, checker)
    praise = post_signed(
        client, "generic", generic("g1", "u1", "Great rate!", in_reply_to=post.reference),
        "social_generic",
    )  # fmt: skip
    assert praise.json() == {"accepted": 1, "ignored": 0, "references": []}
    complaint = post_signed(
        client, "generic",
        generic("g2", "u2", f"{post.reference}: your app is terrible, it never loads"),
        "social_generic",
    )  # fmt: skip
    [reference] = complaint.json()["references"]
    case = db.execute(select(Case).where(Case.reference == reference)).scalar_one()
    # the reply named no branch: it belongs to the post's branch
    assert (case.branch_id, case.channel, case.contact_handle) == (
        post.branch_id, "social_generic", "u2",
    )  # fmt: skip
    direct = post_signed(
        client, "generic", generic("g3", "u3", "Is the branch open on Sunday?", branch_code="SOC1"),
        "social_generic",
    )  # fmt: skip
    [direct_reference] = direct.json()["references"]  # as before: any other message is a case
    direct_case = db.execute(select(Case).where(Case.reference == direct_reference)).scalar_one()
    replay = post_signed(
        client, "generic", generic("g1", "u1", "Great rate!", in_reply_to=post.reference),
        "social_generic",
    )  # fmt: skip
    assert replay.json() == {"accepted": 0, "ignored": 1, "references": []}
    assert _log(db) == [
        ("g1", "reply", str(post.id), None),
        ("g2", "reply", str(post.id), str(case.id)),
        ("g3", "message", None, str(direct_case.id)),
    ]
    assert count(db, HookDelivery) == 3


def test_line_and_facebook_replies_name_the_post_in_their_quote_fields(
    client: TestClient, db: Session
) -> None:
    _branch, maker, checker = team(db)
    post = published(db, maker, checker, channel="line")
    line = {
        "events": [
            {
                "type": "message", "webhookEventId": "L1", "source": {"userId": "Uline"},
                "message": {"type": "text", "id": "m1", "text": "謝謝", "quotedMessageId": post.reference},
            }
        ]
    }  # fmt: skip
    assert post_signed(client, "line", line, "social_line").json()["accepted"] == 1
    facebook = {
        "entry": [{"messaging": [{"sender": {"id": "F1"}, "message": {
            "mid": "fb1", "text": "Nice", "reply_to": {"mid": post.reference}}}]}]
    }  # fmt: skip
    assert post_signed(client, "facebook", facebook, "social_facebook").json()["references"] == []
    kinds = db.execute(select(Interaction.hook, Interaction.kind, Interaction.post_id)).all()
    assert sorted((h, k, p) for h, k, p in kinds) == [
        ("facebook", "reply", post.id),
        ("line", "reply", post.id),
    ]


def test_a_reply_naming_an_unpublished_post_is_an_ordinary_message(
    client: TestClient, db: Session
) -> None:
    _branch, maker, _checker = team(db)
    post = draft(db, maker)
    answer = post_signed(
        client, "generic",
        generic("g9", "u9", "Nice", in_reply_to=post.reference, branch_code="SOC1"),
        "social_generic",
    )  # fmt: skip
    assert len(answer.json()["references"]) == 1
    assert _log(db)[0][1:3] == ("message", None)


def test_the_log_filters_and_stays_in_the_readers_branches(
    client: TestClient, db: Session, signer: Signer
) -> None:
    _branch, maker, checker = team(db)
    post = published(db, maker, checker)
    post_signed(
        client, "generic", generic("a1", "u1", "Great", in_reply_to=post.reference),
        "social_generic",
    )  # fmt: skip
    post_signed(
        client, "generic", generic("a2", "u2", "Hello", branch_code="SOC1"), "social_generic"
    )
    api = "/api/v1/social/interactions"
    headers = bearer(signer, maker)
    everything = client.get(api, headers=headers).json()
    assert sorted(i["text"] for i in everything) == ["Great", "Hello"]
    replies = client.get(api, params={"kind": "reply"}, headers=headers).json()
    assert [(i["text"], i["post_reference"], i["case_reference"]) for i in replies] == [
        ("Great", post.reference, None)
    ]
    with_case = client.get(api, params={"has_case": "true"}, headers=headers).json()
    assert [i["text"] for i in with_case] == ["Hello"]
    assert (
        client.get(api, params={"post": post.reference}, headers=headers).json()[0]["text"]
        == "Great"
    )
    assert client.get(api, params={"received_from": "2999-01-01"}, headers=headers).json() == []
    assert client.get(api, params={"hook": "line"}, headers=headers).json() == []
    bad_date = client.get(api, params={"received_to": "yesterday"}, headers=headers)
    assert bad_date.status_code == 422
    elsewhere = make_branch(db, code="SOC2")
    stranger = make_user(db, Role.branch_manager, (elsewhere,))
    assert client.get(api, headers=bearer(signer, stranger)).json() == []
    teller = make_user(db, Role.teller, (elsewhere,))
    assert client.get(api, headers=bearer(signer, teller)).status_code == 403
