"""Survey links: a ticket id and an HMAC of it, so a link names one ticket and cannot be forged.

The token is deterministic (the same ticket always gets the same link: the phone page, the
printed ticket and the SMS agree) and short enough for a small QR code. Expiry is counted from
the ticket's completion, not from the token, so it needs no timestamp inside the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_MAC_BYTES = 12


class SurveySettings(BaseSettings):
    """``BRANCHDESK_SURVEY_EXPIRY_DAYS`` and ``BRANCHDESK_SURVEY_BASE_URL`` (for SMS links)."""

    model_config = SettingsConfigDict(env_prefix="BRANCHDESK_SURVEY_", extra="ignore")

    expiry_days: int = Field(default=7, ge=1, le=365)
    base_url: str = "http://127.0.0.1:8000"


@lru_cache(maxsize=1)
def survey_settings() -> SurveySettings:
    return SurveySettings()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SurveyTokens:
    """Signs and reads survey tokens with a key derived from the application secret."""

    def __init__(self, secret: str) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"branchdesk.survey"
        ).derive(secret.encode())

    def _mac(self, ticket_id: uuid.UUID) -> bytes:
        return hmac.new(self._key, ticket_id.bytes, hashlib.sha256).digest()[:_MAC_BYTES]

    def token_for(self, ticket_id: uuid.UUID) -> str:
        return f"{_b64(ticket_id.bytes)}.{_b64(self._mac(ticket_id))}"

    def ticket_id(self, token: str) -> uuid.UUID | None:
        """The ticket a token names, or None when it is malformed or its signature is wrong."""
        if len(token) > 64 or token.count(".") != 1:
            return None
        head, mac = token.split(".")
        try:
            raw, given = _unb64(head), _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 16:
            return None
        ticket_id = uuid.UUID(bytes=raw)
        if not hmac.compare_digest(self._mac(ticket_id), given):
            return None
        if self.token_for(ticket_id) != token:  # one spelling per ticket (no padding variants)
            return None
        return ticket_id


def survey_path(token: str) -> str:
    return f"/s/{token}"


@lru_cache(maxsize=4)
def tokens_for_secret(secret: str) -> SurveyTokens:
    return SurveyTokens(secret)
