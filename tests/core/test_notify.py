from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.events import OutboxMessage, deliver_outbox
from branchdesk.core.notify import (
    FileNotifier,
    Message,
    RecordingNotifier,
    UnknownTemplate,
    queue_notification,
    register_template,
    render_template,
    use_notifier,
)
from tests.factories import NOW

register_template(
    "test.hello",
    {"zh-Hant": "您好 {name}", "zh-Hans": "您好 {name}", "en": "Hello {name}"},
)


@pytest.fixture
def notifier() -> Iterator[RecordingNotifier]:
    with use_notifier(RecordingNotifier()) as recording:
        assert isinstance(recording, RecordingNotifier)
        yield recording


def test_templates_render_per_locale_and_fall_back_to_english() -> None:
    assert render_template("test.hello", "zh-Hant", {"name": "陳"}) == "您好 陳"
    assert render_template("test.hello", "en", {"name": "Chen"}) == "Hello Chen"
    assert render_template("test.hello", "fr", {"name": "Chen"}) == "Hello Chen"
    with pytest.raises(UnknownTemplate):
        render_template("test.nothing", "en", {})
    with pytest.raises(ValueError, match="zh-Hans"):
        register_template("test.partial", {"zh-Hant": "x", "en": "x"})


def test_a_message_goes_out_only_when_the_outbox_delivers_it_and_only_once(
    db: Session, notifier: RecordingNotifier
) -> None:
    message = Message(template="test.hello", locale="en", to_phone="0912", values={"name": "A"})
    message_id = queue_notification(db, message=message, now=NOW)
    assert notifier.sent == []  # queued in the transaction, not sent
    assert deliver_outbox(db, now=NOW) == 1
    assert [(m.to_phone, m.text, m.message_id) for m in notifier.sent] == [
        ("0912", "Hello A", message_id)
    ]
    assert deliver_outbox(db, now=NOW) == 0
    assert len(notifier.sent) == 1


def test_a_rolled_back_transaction_sends_nothing(db: Session, notifier: RecordingNotifier) -> None:
    nested = db.begin_nested()
    queue_notification(
        db, message=Message(template="test.hello", to_email="a@example.com", values={"name": "A"}),
        now=NOW,
    )  # fmt: skip
    nested.rollback()
    assert db.execute(select(OutboxMessage)).scalars().all() == []
    assert deliver_outbox(db, now=NOW) == 0
    assert notifier.sent == []


def test_a_message_without_recipient_or_with_unknown_template_is_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="phone number"):
        queue_notification(db, message=Message(template="test.hello"), now=NOW)
    with pytest.raises(UnknownTemplate):
        queue_notification(db, message=Message(template="test.none", to_phone="1"), now=NOW)
    with pytest.raises(KeyError):
        queue_notification(db, message=Message(template="test.hello", to_phone="1"), now=NOW)
    assert db.execute(select(OutboxMessage)).scalars().all() == []


def test_file_notifier_writes_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "out" / "notifications.jsonl"
    notifier = FileNotifier(path)
    message = Message(
        template="test.hello", locale="zh-Hant", to_phone="0912", values={"name": "陳"}
    )
    notifier.send(message)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["to_phone"], line["text"], line["template"]) for line in lines] == [
        ("0912", "您好 陳", "test.hello")
    ]
