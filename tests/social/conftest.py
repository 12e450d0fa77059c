from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from branchdesk.complaints import service as complaints
from branchdesk.social.publisher import RecordingPublisher, use_publisher
from branchdesk.textanalysis import Classification

NEGATIVE_WORDS = ("terrible", "never", "差", "投訴")


def fake_classify(text: str) -> Any:
    """Fast stand-in for the trained model: negative when a complaint word appears."""
    negative = any(word in text.lower() for word in NEGATIVE_WORDS)
    return Classification("other", 0.8, "negative" if negative else "positive", 0.7, "en")


@pytest.fixture(autouse=True)
def _fast_classifier() -> Iterator[None]:
    complaints.set_classifier(fake_classify)
    try:
        yield
    finally:
        complaints.set_classifier(None)


@pytest.fixture
def publisher() -> Iterator[RecordingPublisher]:
    with use_publisher(RecordingPublisher()) as recording:
        assert isinstance(recording, RecordingPublisher)
        yield recording
