"""Signed webhooks: signature, replay, adapters, threading; e-mail replies and the mailbox reader."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.complaints import intake
from branchdesk.complaints.models import Case, HookDelivery, TimelineEntry
from branchdesk.complaints.settings import hook_secret, sign
from branchdesk.identity.models import AuditEntry
from tests.complaints.helpers import NOW, count
from tests.conftest import TEST_SECRET
from tests.factories import make_branch


def post_signed(
    client: TestClient, path: str, payload: Any, channel: str, *, secret: str | None = None
) -> Any:
    body = json.dumps(payload).encode()
    signature = sign(body, secret or hook_secret(channel, app_secret=TEST_SECRET))
    return client.post(
        path, content=body,
        headers={"content-type": "application/json", "x-branchdesk-signature": f"sha256={signature}"},
    )  # fmt: skip


def generic(delivery: str, sender: str, text: str, branch: str = "HKG1") -> dict[str, Any]:
    return {
        "delivery_id": delivery,
        "sender": {"id": sender, "name": "Mei"},
        "text": text,
        "branch_code": branch,
    }


def test_bad_signature_is_401_and_writes_no_case(client: TestClient, db: Session) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    cases, deliveries = count(db, Case), count(db, HookDelivery)
    forged = post_signed(
        client, "/hooks/social/generic", generic("d1", "u1", "bad"), "social_generic",
        secret="not-the-secret",
    )  # fmt: skip
    unsigned = client.post("/hooks/social/generic", json=generic("d1", "u1", "bad"))
    assert (forged.status_code, forged.json()["error"]) == (401, "bad_signature")
    assert unsigned.status_code == 401
    assert (count(db, Case), count(db, HookDelivery)) == (cases, deliveries)
    assert count(db, AuditEntry, AuditEntry.action == "complaint.hook_refused") == 2
    # another channel's secret does not open this one
    other = post_signed(client, "/hooks/social/generic", generic("d1", "u1", "x"), "social_line")
    assert other.status_code == 401


def test_generic_message_opens_a_case_replay_is_ignored_and_thread_appends(
    client: TestClient, db: Session
) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    first = post_signed(
        client, "/hooks/social/generic", generic("d1", "u1", "App crashed"), "social_generic"
    )
    assert first.status_code == 200, first.text
    reference = first.json()["references"][0]
    replay = post_signed(
        client, "/hooks/social/generic", generic("d1", "u1", "App crashed"), "social_generic"
    )
    assert replay.json() == {"accepted": 0, "ignored": 1, "references": []}
    follow = post_signed(
        client, "/hooks/social/generic", generic("d2", "u1", "Still broken"), "social_generic"
    )
    assert follow.json() == {"accepted": 1, "ignored": 0, "references": [reference]}
    case = db.execute(select(Case).where(Case.reference == reference)).scalar_one()
    assert (case.channel, case.jurisdiction, case.contact_handle) == ("social_generic", "HK", "u1")
    bodies = db.execute(
        select(TimelineEntry.kind, TimelineEntry.body).where(TimelineEntry.case_id == case.id)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    ).all()  # fmt: skip
    assert [tuple(b) for b in bodies] == [
        ("created", "App crashed"),
        ("message_in", "Still broken"),
    ]
    other_sender = post_signed(
        client, "/hooks/social/generic", generic("d3", "u2", "Me too"), "social_generic"
    )
    assert other_sender.json()["references"][0] != reference


def test_unknown_branch_or_malformed_body_is_422_and_writes_nothing(
    client: TestClient, db: Session
) -> None:
    before = count(db, Case)
    response = post_signed(
        client, "/hooks/social/generic", generic("d9", "u9", "x", branch="NOPE"), "social_generic"
    )
    assert (response.status_code, response.json()["field"]) == (422, "branch")
    missing = post_signed(client, "/hooks/social/generic", {"text": "no ids"}, "social_generic")
    assert missing.status_code == 422
    assert count(db, Case) == before


WECHAT = {
    "ToUserName": "gh_bank", "FromUserName": "oWX123", "CreateTime": 1772416800,
    "MsgType": "text", "Content": "排隊太久了", "MsgId": "2345678901",
}  # fmt: skip
LINE = {
    "destination": "Ubank",
    "events": [
        {"type": "message", "webhookEventId": "01HLINE1", "timestamp": 1772416800000,
         "source": {"type": "user", "userId": "Uabc"},
         "message": {"type": "text", "id": "4711", "text": "手續費不對"}},
        {"type": "follow", "webhookEventId": "01HLINE2", "source": {"type": "user", "userId": "Uabc"}},
    ],
}  # fmt: skip
FACEBOOK = {
    "object": "page",
    "entry": [{"id": "page1", "time": 1772416800000, "messaging": [
        {"sender": {"id": "fb42"}, "recipient": {"id": "page1"}, "timestamp": 1772416800000,
         "message": {"mid": "m_abc", "text": "Rude staff at the counter"}},
    ]}],
}  # fmt: skip


@pytest.mark.parametrize(
    ("hook", "payload", "delivery", "sender", "text"),
    [
        ("wechat", WECHAT, "2345678901", "oWX123", "排隊太久了"),
        ("line", LINE, "01HLINE1", "Uabc", "手續費不對"),
        ("facebook", FACEBOOK, "m_abc", "fb42", "Rude staff at the counter"),
    ],
)
def test_adapters_turn_platform_payloads_into_the_generic_shape(
    hook: str, payload: dict[str, Any], delivery: str, sender: str, text: str
) -> None:
    messages = intake.ADAPTERS[hook](payload)
    assert [(m.delivery_id, m.sender_id, m.text) for m in messages] == [(delivery, sender, text)]


def test_wechat_webhook_opens_a_case_for_the_branch_in_the_query(
    client: TestClient, db: Session
) -> None:
    make_branch(db, code="SHA1", timezone="Asia/Shanghai")
    response = post_signed(client, "/hooks/social/wechat?branch=SHA1", WECHAT, "social_wechat")
    assert response.status_code == 200, response.text
    case = db.execute(
        select(Case).where(Case.reference == response.json()["references"][0])
    ).scalar_one()
    assert (case.channel, case.body, case.jurisdiction, case.state) == (
        "social_wechat",
        "排隊太久了",
        "CN",
        "new",
    )


def email_payload(
    message_id: str, subject: str, text: str, sender: str = "mei@example.com"
) -> dict[str, str]:
    return {
        "message_id": message_id,
        "from_address": sender,
        "subject": subject,
        "text": text,
        "branch_code": "HKG1",
    }


def test_email_reply_with_the_reference_appends_to_the_case(
    client: TestClient, db: Session
) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    first = post_signed(
        client, "/hooks/email", email_payload("<a@x>", "Card fee", "Why this fee?"), "email"
    )
    assert first.status_code == 200, first.text
    reference = first.json()["reference"]
    assert first.json()["is_new_case"] is True
    reply = post_signed(
        client,
        "/hooks/email",
        email_payload("<b@x>", f"Re: [{reference}] Card fee", "More detail"),
        "email",
    )
    assert reply.json() == {"reference": reference, "is_new_case": False}
    again = post_signed(
        client,
        "/hooks/email",
        email_payload("<b@x>", f"Re: [{reference}] Card fee", "More detail"),
        "email",
    )
    assert again.json() == {"reference": reference, "is_new_case": False}
    # someone else quoting the reference does not join the case
    stranger = post_signed(
        client,
        "/hooks/email",
        email_payload("<c@x>", f"Re: {reference}", "hi", sender="eve@example.com"),
        "email",
    )
    assert stranger.json()["reference"] != reference
    case = db.execute(select(Case).where(Case.reference == reference)).scalar_one()
    assert (
        count(
            db, TimelineEntry, TimelineEntry.case_id == case.id, TimelineEntry.kind == "message_in"
        )
        == 1
    )


class FakeImap:
    """The imaplib.IMAP4 calls MailboxReader makes, over in-memory messages."""

    def __init__(self, messages: dict[str, bytes]) -> None:
        self.messages = messages
        self.seen: set[str] = set()

    def select(self, mailbox: str = "INBOX") -> tuple[str, list[Any]]:
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        if command == "SEARCH":
            unseen = [u for u in self.messages if u not in self.seen]
            return "OK", [" ".join(unseen).encode()]
        if command == "FETCH":
            return "OK", [(f"{args[0]} (RFC822 {{1}}".encode(), self.messages[args[0]]), b")"]
        if command == "STORE":
            self.seen.add(args[0])
            return "OK", []
        raise AssertionError(command)


def raw_mail(message_id: str, subject: str, body: str) -> bytes:
    return (
        f"From: Mei Chan <mei@example.com>\r\nTo: care@bank.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_mailbox_reader_ingests_unseen_mail_and_threads_replies(db: Session) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    imap = FakeImap({"1": raw_mail("<m1@x>", "ATM kept my card", "At 9pm")})
    reader = intake.MailboxReader(imap)

    from contextlib import contextmanager

    @contextmanager
    def uow() -> Any:
        with db.begin_nested():
            yield db

    assert intake.read_mailbox(uow, reader, branch_code="HKG1", now=NOW) == (1, 0)
    case = db.execute(select(Case).where(Case.source_ref == "email:<m1@x>")).scalar_one()
    assert (case.contact_email, case.contact_name, case.body) == (
        "mei@example.com",
        "Mei Chan",
        "At 9pm",
    )
    imap.messages["2"] = raw_mail("<m2@x>", f"Re: {case.reference}", "Any news?")
    assert intake.read_mailbox(uow, reader, branch_code="HKG1", now=NOW) == (1, 0)
    assert imap.seen == {"1", "2"}
    assert (
        count(
            db, TimelineEntry, TimelineEntry.case_id == case.id, TimelineEntry.kind == "message_in"
        )
        == 1
    )


def test_oversized_sender_fields_are_fitted_not_fatal(client: TestClient, db: Session) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    payload = {
        "delivery_id": "d" * 200, "sender": {"id": "s" * 200, "name": "N" * 500},
        "thread_id": "t" * 400, "text": "long", "branch_code": "HKG1",
    }  # fmt: skip
    response = post_signed(client, "/hooks/social/generic", payload, "social_generic")
    assert response.status_code == 200, response.text
    case = db.execute(
        select(Case).where(Case.reference == response.json()["references"][0])
    ).scalar_one()
    assert (len(case.contact_name), len(case.thread_key or ""), len(case.source_ref or "")) == (
        120,
        200,
        200,
    )


def test_a_racing_duplicate_delivery_leaves_nothing_behind(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a concurrent request with the same delivery id sees on PostgreSQL: the unique
    delivery row refuses it, and its savepoint takes the appended message back."""
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    first = post_signed(
        client, "/hooks/social/generic", generic("r1", "u7", "Hello"), "social_generic"
    )
    case = db.execute(
        select(Case).where(Case.reference == first.json()["references"][0])
    ).scalar_one()
    entries = count(db, TimelineEntry, TimelineEntry.case_id == case.id)
    monkeypatch.setattr(intake, "_seen", lambda *_args: False)  # as if the other commit was unseen
    racing = post_signed(
        client, "/hooks/social/generic", generic("r1", "u7", "Hello"), "social_generic"
    )
    assert racing.json() == {"accepted": 0, "ignored": 1, "references": []}
    assert count(db, TimelineEntry, TimelineEntry.case_id == case.id) == entries
    mail = email_payload("<race@x>", "Fee", "Why?")
    assert post_signed(client, "/hooks/email", mail, "email").json()["is_new_case"] is True
    cases = count(db, Case)
    monkeypatch.setattr(
        intake, "select", _select_without_delivery_lookup(intake.select), raising=True
    )
    again = post_signed(client, "/hooks/email", mail, "email")
    assert again.json()["is_new_case"] is False
    assert count(db, Case) == cases


def _select_without_delivery_lookup(real_select: Any) -> Any:
    """select() for intake, except that the first delivery lookup of ingest_email finds nothing."""
    state = {"skipped": False}

    def patched(*entities: Any) -> Any:
        if not state["skipped"] and entities == (HookDelivery,):
            state["skipped"] = True
            return real_select(HookDelivery).where(HookDelivery.delivery_id == "never")
        return real_select(*entities)

    return patched


def test_nul_characters_from_outside_are_dropped(
    client: TestClient, db: Session, signer: Any
) -> None:
    make_branch(db, code="HKG1", timezone="Asia/Hong_Kong")
    sent = post_signed(
        client, "/hooks/social/generic", generic("n\u0000ul", "u\u0000", "a\u0000b"),
        "social_generic",
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    case = db.execute(
        select(Case).where(Case.reference == sent.json()["references"][0])
    ).scalar_one()
    assert (case.body, case.contact_handle, case.source_ref) == ("ab", "u", "social_generic:nul")
    mail = post_signed(
        client, "/hooks/email", email_payload("<n\u0000@x>", "S\u0000", "T\u0000"), "email"
    )
    assert mail.status_code == 200, mail.text
