"""Survey tests do not exercise the complaint text classifier: a detractor's case is opened
without a prediction, so the first detractor does not wait for the model to be built."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from branchdesk.complaints.service.opening import set_classifier


@pytest.fixture(autouse=True)
def _no_text_classifier() -> Iterator[None]:
    set_classifier(lambda _text: None)
    yield
    set_classifier(None)
