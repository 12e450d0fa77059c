from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from branchdesk.complaints import service
from branchdesk.textanalysis import Classification


def fake_classify(text: str) -> Any:
    """Fast stand-in for the trained model (branchdesk.textanalysis tests the model itself;
    training it here would cost 16-30 s per test process)."""
    category = "waiting_time" if "wait" in text.lower() or "等" in text else "other"
    return Classification(category, 0.8, "negative", 0.7, "en")


@pytest.fixture(autouse=True)
def _fast_classifier() -> Iterator[None]:
    service.set_classifier(fake_classify)
    try:
        yield
    finally:
        service.set_classifier(None)
