"""Care fixtures: the portal's recording notifier and settings (shared with tests/portal)."""

from __future__ import annotations

from tests.portal.conftest import notifier, portal_app, portal_settings

__all__ = ["notifier", "portal_app", "portal_settings"]
