"""Secrets: password hashing (argon2), signed tokens, CSRF tokens, and PII protection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()

# A fixed dummy hash so that unknown usernames cost the same time as wrong passwords.
_DUMMY_HASH = _hasher.hash("not-a-real-password-branchdesk")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _derive(secret: str, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(
        secret.encode()
    )


class Signer:
    """Signed, timestamped payloads for session cookies, bearer tokens and CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._sessions = URLSafeTimedSerializer(secret, salt="branchdesk.session")
        self._tokens = URLSafeTimedSerializer(secret, salt="branchdesk.bearer")
        self._csrf_key = _derive(secret, b"branchdesk.csrf")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"branchdesk.pii")))
        self._lookup_key = _derive(secret, b"branchdesk.pii-lookup")

    # sessions and bearer tokens -------------------------------------------------------
    def dump_session(self, data: dict[str, Any]) -> str:
        return self._sessions.dumps(data)

    def load_session(self, raw: str, *, max_age_seconds: int) -> dict[str, Any] | None:
        try:
            data = self._sessions.loads(raw, max_age=max_age_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) else None

    def dump_token(self, data: dict[str, Any]) -> str:
        return self._tokens.dumps(data)

    def load_token(self, raw: str, *, max_age_seconds: int) -> dict[str, Any] | None:
        try:
            data = self._tokens.loads(raw, max_age=max_age_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) else None

    # CSRF: a token bound to the session's random nonce --------------------------------
    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(nonce), token or "")

    # personal data ----------------------------------------------------------------------
    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            return None

    def lookup_hash(self, value: str) -> str:
        """Keyed hash for equality look-ups (unique ID numbers) without storing the value."""
        normalized = "".join(value.split()).upper()
        return hmac.new(self._lookup_key, normalized.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def mask_identifier(value: str) -> str:
    """Display form of an ID number: first two and last four characters."""
    cleaned = "".join(value.split())
    if len(cleaned) <= 6:
        return "*" * len(cleaned)
    return cleaned[:2] + "*" * (len(cleaned) - 6) + cleaned[-4:]
