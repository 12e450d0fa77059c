"""Complaint settings from the environment (prefix ``BRANCHDESK_COMPLAINTS_``).

Webhook secrets are per channel; an unset secret is derived from the app's secret key, so a
fresh install still verifies signatures (print it with ``branchdesk complaints hook-secret``).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from branchdesk.core.config import get_settings


class ComplaintSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHDESK_COMPLAINTS_", env_file=".env", extra="ignore"
    )

    hook_secret_email: str = ""
    hook_secret_social_wechat: str = ""
    hook_secret_social_line: str = ""
    hook_secret_social_facebook: str = ""
    hook_secret_social_generic: str = ""
    # Staff have no e-mail column: warnings go to <username>@<staff_mail_domain>.
    staff_mail_domain: str = "staff.branchdesk.local"
    # Hours before a deadline at which the assignee is warned (0: the policy's own lead).
    warn_lead_hours: int = 0


@lru_cache(maxsize=1)
def complaint_settings() -> ComplaintSettings:
    return ComplaintSettings()


def hook_secret(channel: str, *, app_secret: str | None = None) -> str:
    """The HMAC secret of a webhook channel (configured, or derived from the app secret)."""
    configured = getattr(complaint_settings(), f"hook_secret_{channel}", "")
    if isinstance(configured, str) and configured:
        return configured
    base = app_secret if app_secret is not None else get_settings().resolved_secret_key()
    return hmac.new(
        base.encode(), f"complaints-hook:{channel}".encode(), hashlib.sha256
    ).hexdigest()


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, secret: str, signature: str | None) -> bool:
    if not signature:
        return False
    given = signature.removeprefix("sha256=").strip().lower()
    return hmac.compare_digest(sign(body, secret), given)
