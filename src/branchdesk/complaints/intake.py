"""Inbound channels: social webhooks (generic shape + WeChat/LINE/Facebook-style adapters) and
e-mail (a signed webhook or a mailbox reader over an IMAP-like interface).

Every inbound message carries a delivery id; a delivery id already seen on a channel is ignored,
so a replayed webhook writes nothing. A message from a sender/thread with an open case is
appended to it; otherwise a new case is opened. A reply that names one of our published social
posts (``branchdesk.social``) opens a case only when it reads as a complaint; every accepted
social message lands in the social interaction log, linked to the post it names and the case.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from branchdesk.catalog.models import Branch
from branchdesk.complaints import service
from branchdesk.complaints.models import Case, CaseChannel, CaseState, HookDelivery, plain
from branchdesk.core.errors import RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.social import service as social

REFERENCE_PATTERN = re.compile(r"CMP-\d{4}-\d{6}")
HOOK_CHANNELS: dict[str, CaseChannel] = {
    "wechat": CaseChannel.social_wechat,
    "line": CaseChannel.social_line,
    "facebook": CaseChannel.social_facebook,
    "generic": CaseChannel.social_generic,
}


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """The generic shape every social adapter produces."""

    delivery_id: str
    sender_id: str
    text: str
    sender_name: str = ""
    thread_id: str = ""
    branch_code: str = ""
    in_reply_to: str = ""  # the platform's reply-to/quote field (our post's SP- reference)

    @property
    def thread_key(self) -> str:
        return (self.thread_id or self.sender_id)[:200]  # the column's length


def _str(value: Any) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _require(messages: list[InboundMessage]) -> list[InboundMessage]:
    for message in messages:
        if not message.delivery_id or not message.sender_id:
            raise RuleViolation("each message needs a delivery id and a sender", field="body")
        if len(message.delivery_id) > 200 or len(message.sender_id) > 200:
            raise RuleViolation("delivery id or sender too long", field="body")
    return messages


def parse_generic(payload: Mapping[str, Any]) -> list[InboundMessage]:
    """{"messages": [{"delivery_id", "sender": {"id", "name"}, "thread_id", "text",
    "branch_code"}]} or one such message object."""
    raw = payload.get("messages")
    items = raw if isinstance(raw, list) else [payload]
    out: list[InboundMessage] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise RuleViolation("a message must be an object", field="body")
        sender = item.get("sender")
        sender = sender if isinstance(sender, Mapping) else {}
        out.append(
            InboundMessage(
                delivery_id=_str(item.get("delivery_id")),
                sender_id=_str(sender.get("id")),
                sender_name=_str(sender.get("name")),
                thread_id=_str(item.get("thread_id")),
                text=_str(item.get("text")),
                branch_code=_str(item.get("branch_code")),
                in_reply_to=_str(item.get("in_reply_to")),
            )
        )
    return _require(out)


def parse_wechat(payload: Mapping[str, Any]) -> list[InboundMessage]:
    """A WeChat official-account style push (JSON form): MsgId, FromUserName, MsgType, Content."""
    if _str(payload.get("MsgType")) not in ("text", ""):
        return []
    return _require(
        [
            InboundMessage(
                delivery_id=_str(payload.get("MsgId")),
                sender_id=_str(payload.get("FromUserName")),
                text=_str(payload.get("Content")),
            )
        ]
    )


def parse_line(payload: Mapping[str, Any]) -> list[InboundMessage]:
    """A LINE Messaging API style body: events[] of type message with text messages."""
    out: list[InboundMessage] = []
    events = payload.get("events")
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, Mapping) or event.get("type") != "message":
            continue
        message = event.get("message")
        source = event.get("source")
        if not isinstance(message, Mapping) or message.get("type") != "text":
            continue
        source = source if isinstance(source, Mapping) else {}
        out.append(
            InboundMessage(
                delivery_id=_str(event.get("webhookEventId") or message.get("id")),
                sender_id=_str(source.get("userId")),
                thread_id=_str(source.get("groupId") or source.get("roomId")),
                text=_str(message.get("text")),
                in_reply_to=_str(message.get("quotedMessageId")),
            )
        )
    return _require(out)


def parse_facebook(payload: Mapping[str, Any]) -> list[InboundMessage]:
    """A Messenger-platform style body: entry[].messaging[] with sender.id and message.mid/text."""
    out: list[InboundMessage] = []
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        messaging = entry.get("messaging")
        for item in messaging if isinstance(messaging, list) else []:
            if not isinstance(item, Mapping):
                continue
            message = item.get("message")
            sender = item.get("sender")
            if not isinstance(message, Mapping) or "text" not in message:
                continue
            sender = sender if isinstance(sender, Mapping) else {}
            reply_to = message.get("reply_to")
            reply_to = reply_to if isinstance(reply_to, Mapping) else {}
            out.append(
                InboundMessage(
                    delivery_id=_str(message.get("mid")),
                    sender_id=_str(sender.get("id")),
                    text=_str(message.get("text")),
                    in_reply_to=_str(reply_to.get("mid")),
                )
            )
    return _require(out)


ADAPTERS = {
    "generic": parse_generic,
    "wechat": parse_wechat,
    "line": parse_line,
    "facebook": parse_facebook,
}


@dataclass
class IntakeResult:
    accepted: int = 0
    ignored: int = 0
    references: list[str] = field(default_factory=list)


def _branch_by_code(db: Session, code: str) -> Branch:
    branch = db.execute(select(Branch).where(Branch.code == plain(code))).scalar_one_or_none()
    if branch is None or not branch.is_active:
        raise RuleViolation("unknown branch", field="branch")
    return branch


def _seen(db: Session, channel: str, delivery_id: str) -> bool:
    return (
        db.execute(
            select(HookDelivery.id).where(
                HookDelivery.channel == channel, HookDelivery.delivery_id == delivery_id
            )
        ).first()
        is not None
    )


def _remember(
    db: Session, channel: str, delivery_id: str, case: Case | None, now: datetime
) -> None:
    """Record the delivery (IntegrityError when another transaction recorded it first)."""
    case_id = case.id if case is not None else None
    db.add(
        HookDelivery(
            id=new_id(), channel=channel, delivery_id=delivery_id, case_id=case_id, received_at=now
        )
    )
    db.flush()


def _take_message(
    db: Session,
    channel: CaseChannel,
    message: InboundMessage,
    branch_id: uuid.UUID,
    now: datetime,
    *,
    is_reply_to_post: bool,
) -> Case | None:
    case = service.find_open_case_by_thread(db, channel=channel, thread_key=message.thread_key)
    if case is not None:
        service.append_customer_message(
            db, case, body=message.text, now=now,
            source=f"{channel}:{message.sender_name or message.sender_id}",
            data={"delivery_id": message.delivery_id},
        )  # fmt: skip
        return case
    if is_reply_to_post and not service.reads_as_complaint(message.text):
        return None  # a comment on our post: the interaction log keeps it
    return service.open_case(
        db,
        channel=channel,
        subject=message.text[:80],
        body=message.text,
        branch_id=branch_id,
        now=now,
        source_ref=f"{channel}:{message.delivery_id}",
        thread_key=message.thread_key,
        contact_name=message.sender_name,
        contact_handle=message.sender_id,
    )


def ingest_social(
    db: Session,
    *,
    hook: str,
    payload: Mapping[str, Any],
    now: datetime,
    default_branch_code: str = "",
) -> IntakeResult:
    """Turn one (already signature-checked) webhook body into cases or appended messages.

    Raises RuleViolation (unknown adapter, malformed body, unknown branch) before writing.
    """
    adapter = ADAPTERS.get(hook)
    if adapter is None:
        raise RuleViolation("unknown channel", field="channel")
    channel = HOOK_CHANNELS[hook]
    messages = adapter(payload)
    posts = {
        m.delivery_id: social.find_post(db, text=m.text, in_reply_to=m.in_reply_to)
        for m in messages
    }
    branches: dict[str, uuid.UUID] = {}
    for m in messages:
        post = posts[m.delivery_id]
        if post is not None and not m.branch_code:
            branches[m.delivery_id] = post.branch_id  # a reply belongs to the post's branch
        else:
            branches[m.delivery_id] = _branch_by_code(db, m.branch_code or default_branch_code).id
    result = IntakeResult()
    for message in messages:
        if _seen(db, channel, message.delivery_id):
            result.ignored += 1
            continue
        try:
            # One savepoint per message: a concurrent delivery of the same id (PostgreSQL)
            # loses on the unique delivery row and leaves nothing behind.
            with db.begin_nested():
                post = posts[message.delivery_id]
                branch_id = branches[message.delivery_id]
                case = _take_message(
                    db, channel, message, branch_id, now, is_reply_to_post=post is not None
                )
                _remember(db, channel, message.delivery_id, case, now)
                social.record_interaction(
                    db, hook=hook, delivery_id=message.delivery_id, branch_id=branch_id,
                    post=post, case_id=case.id if case is not None else None,
                    sender_handle=message.sender_id, sender_name=message.sender_name,
                    text=message.text, now=now,
                )  # fmt: skip
        except IntegrityError:
            result.ignored += 1
            continue
        result.accepted += 1
        if case is not None:
            result.references.append(case.reference)
    db.flush()
    return result


# --- e-mail -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundEmail:
    message_id: str
    from_address: str
    subject: str
    text: str
    from_name: str = ""


def ingest_email(
    db: Session, *, mail: InboundEmail, branch_code: str, now: datetime
) -> tuple[Case, bool]:
    """A reply naming an open case's reference in the subject is appended to it; anything else
    opens a case. Returns (case, was_new). A repeated message id changes nothing.

    Raises RuleViolation (no message id or sender, unknown branch)."""
    mail = InboundEmail(*(_str(value) for value in astuple(mail)))
    if not mail.message_id or not mail.from_address or "@" not in mail.from_address:
        raise RuleViolation("an e-mail needs a message id and a sender address", field="body")
    channel = CaseChannel.email
    existing_delivery = db.execute(
        select(HookDelivery).where(
            HookDelivery.channel == channel, HookDelivery.delivery_id == mail.message_id[:200]
        )
    ).scalar_one_or_none()
    if existing_delivery is not None and existing_delivery.case_id is not None:
        case = db.get(Case, existing_delivery.case_id)
        if case is not None:
            return case, False
    match = REFERENCE_PATTERN.search(mail.subject)
    case = None
    if match:
        candidate = db.execute(
            select(Case).where(Case.reference == match.group(0))
        ).scalar_one_or_none()
        # Only the person who complained can add to the case by e-mail.
        if (
            candidate is not None
            and candidate.state != CaseState.closed
            and candidate.contact_email.lower() == mail.from_address.lower()
        ):
            case = candidate
    branch = _branch_by_code(db, branch_code) if case is None else None
    try:
        with db.begin_nested():
            if case is not None:
                service.append_customer_message(
                    db, case, body=mail.text, now=now, source=f"email:{mail.from_address}",
                    data={"message_id": mail.message_id, "subject": mail.subject[:200]},
                )  # fmt: skip
            else:
                assert branch is not None
                case = service.open_case(
                    db,
                    channel=channel,
                    subject=mail.subject or mail.text[:80],
                    body=mail.text,
                    branch_id=branch.id,
                    now=now,
                    source_ref=f"email:{mail.message_id[:190]}",
                    thread_key=mail.from_address.lower(),
                    contact_name=mail.from_name,
                    contact_email=mail.from_address,
                )
            _remember(db, channel, mail.message_id[:200], case, now)
    except IntegrityError:
        # The same message was taken by a concurrent request: answer with its case.
        taken = db.execute(
            select(Case)
            .join(HookDelivery, HookDelivery.case_id == Case.id)
            .where(
                HookDelivery.channel == channel, HookDelivery.delivery_id == mail.message_id[:200]
            )
        ).scalar_one()
        return taken, False
    return case, branch is not None


class ImapLike(Protocol):
    """The part of ``imaplib.IMAP4`` the mailbox reader uses (tests pass a fake)."""

    def select(self, mailbox: str = ...) -> tuple[str, list[Any]]: ...

    def uid(self, command: str, *args: str) -> tuple[str, list[Any]]: ...


class InboundMailSource(Protocol):
    """An adapter that yields inbound e-mails and marks them handled."""

    def fetch(self) -> Iterator[tuple[str, InboundEmail]]: ...

    def mark_handled(self, uid: str) -> None: ...


def parse_raw_email(raw: bytes) -> InboundEmail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    body_part = message.get_body(preferencelist=("plain", "html"))
    text = body_part.get_content() if body_part is not None else ""
    return InboundEmail(
        message_id=str(message.get("Message-ID", "")).strip(),
        from_address=address,
        from_name=name,
        subject=str(message.get("Subject", "")),
        text=str(text).strip(),
    )


class MailboxReader:
    """Reads unseen messages from an IMAP-like mailbox and flags them seen once handled."""

    def __init__(self, client: ImapLike, mailbox: str = "INBOX") -> None:
        self.client = client
        self.mailbox = mailbox

    def fetch(self) -> Iterator[tuple[str, InboundEmail]]:
        self.client.select(self.mailbox)
        status, data = self.client.uid("SEARCH", "UNSEEN")
        if status != "OK" or not data or not data[0]:
            return
        raw_uids = data[0].decode() if isinstance(data[0], bytes) else str(data[0])
        for uid in raw_uids.split():
            status, parts = self.client.uid("FETCH", uid, "(RFC822)")
            if status != "OK":
                continue
            for part in parts:
                if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
                    yield uid, parse_raw_email(part[1])
                    break

    def mark_handled(self, uid: str) -> None:
        self.client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def read_mailbox(
    database_uow: Any, source: InboundMailSource, *, branch_code: str, now: datetime
) -> tuple[int, int]:
    """Ingest each message in its own transaction; (ingested, refused). A refused message stays
    unseen for a person to look at."""
    ingested = refused = 0
    for uid, mail in source.fetch():
        try:
            with database_uow() as db:
                ingest_email(db, mail=mail, branch_code=branch_code, now=now)
        except RuleViolation:
            refused += 1
            continue
        source.mark_handled(uid)
        ingested += 1
    return ingested, refused
