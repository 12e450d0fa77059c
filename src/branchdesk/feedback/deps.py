"""Request-level helpers of the feedback routes: the survey token signer and settings."""

from __future__ import annotations

from fastapi import Request

from branchdesk.core.config import Settings
from branchdesk.feedback.tokens import SurveyTokens, survey_settings, tokens_for_secret


def survey_tokens(request: Request) -> SurveyTokens:
    settings: Settings = request.app.state.settings
    return tokens_for_secret(settings.resolved_secret_key())


def expiry_days() -> int:
    return survey_settings().expiry_days
