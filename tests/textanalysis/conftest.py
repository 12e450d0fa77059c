"""One model trained per test session; each test sees a private cache holding it."""

from __future__ import annotations

import pytest

from branchdesk.textanalysis import service
from branchdesk.textanalysis.model import TextModel, load_examples, train


@pytest.fixture(scope="session")
def shipped_model() -> TextModel:
    return train(load_examples("train.csv"))


@pytest.fixture(autouse=True)
def model_cache(shipped_model: TextModel, monkeypatch: pytest.MonkeyPatch) -> service._Cache:
    """classify() uses the session's model; a test that retrains leaves no trace behind."""
    cache = service._Cache()
    cache.model = shipped_model
    cache.state = service._CorrectionsState(0, None)
    monkeypatch.setattr(service, "_cache", cache)
    monkeypatch.delenv(service.MODEL_ENV, raising=False)
    return cache
