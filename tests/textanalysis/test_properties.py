"""Any text at all gets labels from the known sets and confidences in [0, 1]."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchdesk.textanalysis import CATEGORIES, LANGUAGES, SENTIMENTS, classify

_BANKING = st.sampled_from(
    ["櫃員", "排队", "手續費", "app", "card", "卡", "冇", "转账", "privacy", "！", " ", "\n"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(max_size=80), st.lists(_BANKING, max_size=12).map("".join)))
def test_classify_never_fails_and_stays_in_range(text: str) -> None:
    result = classify(text)
    assert result.category in CATEGORIES
    assert result.sentiment in SENTIMENTS
    assert result.language in LANGUAGES
    assert 0.0 <= result.category_confidence <= 1.0
    assert 0.0 <= result.sentiment_confidence <= 1.0
