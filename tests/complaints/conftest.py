from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from branchdesk.complaints import service
from branchdesk.textanalysis import Classification


def fake_classify(text: str) -> Any:
    """Fast stand-in for the trained model (its own tests cover it; one test here uses it)."""
    category = "waiting_time" if "wait" in text.lower() or "等" in text else "other"
    return Classification(category, 0.8, "negative", 0.7, "en")


@pytest.fixture(autouse=True)
def _fast_classifier(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("real_classifier"):
        yield
        return
    service.set_classifier(fake_classify)
    try:
        yield
    finally:
        service.set_classifier(None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_classifier: use branchdesk.textanalysis.classify")
