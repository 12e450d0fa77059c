"""The staff pages: draft, edit, submit, approve, publish through forms; refusals re-render the
page with the message; the pages speak all three languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.social.models import Post
from tests.factories import browser_session
from tests.social.helpers import count, published, team


def _login(client: TestClient, signer: Signer, user: object) -> str:
    cookie, csrf = browser_session(signer, user)  # type: ignore[arg-type]
    client.cookies.set("bd_session", cookie)
    return csrf


def test_a_post_goes_through_the_pages(client: TestClient, db: Session, signer: Signer) -> None:
    _branch, maker, checker = team(db)
    csrf = _login(client, signer, maker)
    created = client.post(
        "/social",
        data={"csrf_token": csrf, "branch_code": "SOC1", "channel": "wechat", "title": "FX week",
              "body": "Better rates all week.", "scheduled_at": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text[:500]
    location = created.headers["location"]
    reference = location.split("/")[3].split("?")[0]
    page = client.get(location)
    assert 'id="submit-post"' in page.text
    assert 'id="approve-post"' not in page.text
    edited = client.post(
        f"/social/posts/{reference}/edit",
        data={"csrf_token": csrf, "channel": "wechat", "title": "FX week", "body": "Better rates.",
              "scheduled_at": "2099-03-02T09:30"},
        follow_redirects=False,
    )  # fmt: skip
    assert edited.status_code == 303
    post = db.execute(select(Post).where(Post.reference == reference)).scalar_one()
    db.refresh(post)
    assert post.scheduled_at is not None
    # typed in Hong Kong time, kept in UTC
    assert (post.body, post.scheduled_at.isoformat()) == (
        "Better rates.",
        "2099-03-02T01:30:00+00:00",
    )
    client.post(f"/social/posts/{reference}/submit", data={"csrf_token": csrf})
    mine = client.get(f"/social/posts/{reference}")
    assert "Waiting for a second person to approve." in mine.text
    csrf = _login(client, signer, checker)
    page = client.get(f"/social/posts/{reference}")
    assert 'id="approve-post"' in page.text
    client.post(f"/social/posts/{reference}/approve", data={"csrf_token": csrf})
    early = client.post(f"/social/posts/{reference}/publish", data={"csrf_token": csrf})
    assert early.status_code == 409
    assert "scheduled for later" in early.text
    db.refresh(post)
    assert post.state == "approved"
    listing = client.get("/social?state=approved")
    assert reference in listing.text
    assert "2099-03-02 09:30" in listing.text


def test_pages_render_in_three_languages(client: TestClient, db: Session, signer: Signer) -> None:
    _branch, maker, checker = team(db)
    post = published(db, maker, checker)
    _login(client, signer, maker)
    for lang, heading in (
        ("en", "Social media posts"),
        ("zh-Hant", "社交媒體貼文"),
        ("zh-Hans", "社交媒体帖文"),
    ):
        client.cookies.set("bd_lang", lang)
        for path in ("/social", f"/social/posts/{post.reference}", "/social/interactions"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert heading in page.text
    client.cookies.set("bd_lang", "en")
    assert client.get("/social/interactions?from=nope").status_code == 422
    assert re.search(r">published<", client.get("/social").text)
    assert count(db, Post) == 1


@pytest.mark.parametrize(("field", "value"), [("channel", "myspace"), ("title", "")])
def test_a_bad_draft_reshows_the_form(
    client: TestClient, db: Session, signer: Signer, field: str, value: str
) -> None:
    _branch, maker, _checker = team(db)
    csrf = _login(client, signer, maker)
    form = {"csrf_token": csrf, "branch_code": "SOC1", "channel": "line", "title": "t", "body": "b"}
    refused = client.post("/social", data={**form, field: value})
    assert refused.status_code == 422
    assert f"{field}: " in refused.text or f"{field.title()}: " in refused.text
    assert count(db, Post) == 0
