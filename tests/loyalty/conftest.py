from __future__ import annotations

# the portal's fixtures (settings, recording notifier, app with them) for the /my pages
from tests.portal.conftest import notifier, portal_app, portal_settings

__all__ = ["notifier", "portal_app", "portal_settings"]
