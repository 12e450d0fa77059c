"""Survey tokens: one per ticket, unforgeable, not transferable to another ticket."""

from __future__ import annotations

import uuid

from branchdesk.feedback.tokens import SurveyTokens
from tests.feedback.helpers import TOKENS


def test_a_token_names_its_ticket_and_is_stable() -> None:
    ticket_id = uuid.uuid4()
    token = TOKENS.token_for(ticket_id)
    assert TOKENS.ticket_id(token) == ticket_id
    assert TOKENS.token_for(ticket_id) == token
    assert len(token) <= 40


def test_tampered_forged_and_foreign_tokens_are_refused() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    token = TOKENS.token_for(first)
    head, mac = token.split(".")
    other_head = TOKENS.token_for(second).split(".")[0]
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert TOKENS.ticket_id(f"{other_head}.{mac}") is None  # another ticket with this signature
    assert TOKENS.ticket_id(f"{head}.{flipped}") is None
    assert TOKENS.ticket_id(head) is None
    assert TOKENS.ticket_id("") is None
    assert TOKENS.ticket_id("not-a-token.at-all") is None
    assert TOKENS.ticket_id(token + "=") is None
    assert SurveyTokens("another-secret-key").ticket_id(token) is None
