"""Portal settings, read from the environment with the prefix ``BRANCHDESK_PORTAL_``."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHDESK_PORTAL_", env_file=".env", extra="ignore"
    )

    daily_transfer_limit_minor: int = Field(
        default=5_000_000,
        ge=0,
        description="Default daily sum of portal transfers per customer and currency "
        "(minor units), for currencies without their own entry in daily_transfer_limits.",
    )
    daily_transfer_limits: dict[str, int] = Field(
        default_factory=dict,
        description='Per-currency defaults as JSON, e.g. {"TWD": 20000000, "JPY": 1000000}.',
    )
    otp_minutes: int = Field(default=5, ge=1, le=60)
    otp_max_attempts: int = Field(default=5, ge=1, le=20)
    otp_resend_seconds: int = Field(default=60, ge=0, le=3600)
    activation_hours: int = Field(default=72, ge=1, le=24 * 30)
    max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: int = Field(default=8, ge=1, le=24)
    token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    payment_request_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    deliver_codes_now: bool = Field(
        default=True,
        description="Deliver the outbox right after a code is issued (no wait for the worker).",
    )

    def limit_for(self, currency: str) -> int:
        return self.daily_transfer_limits.get(currency, self.daily_transfer_limit_minor)


@lru_cache(maxsize=1)
def get_portal_settings() -> PortalSettings:
    return PortalSettings()
