"""One Settings object, read from the environment (prefix ``BRANCHDESK_``) and an optional .env."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LOCALES: tuple[str, ...] = ("zh-Hant", "zh-Hans", "en")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRANCHDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/branchdesk.db",
        description="SQLAlchemy URL; postgresql+psycopg://user:pass@host/db in production.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = Field(
        default="",
        description="Signs sessions, tokens and CSRF; derives the PII encryption key. "
        "Empty: a random key is generated once and kept in var/secret_key.",
    )
    data_dir: Path = Path("var")
    default_locale: str = "en"
    environment: str = "production"
    log_level: str = "INFO"
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=24 * 7)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    password_min_length: int = Field(default=10, ge=8, le=128)
    cookie_secure: bool = False

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept under ``data_dir``."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key, encoding="ascii")
        path.chmod(0o600)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
