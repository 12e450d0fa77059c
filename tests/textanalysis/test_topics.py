"""Keywords per period, NMF topics and category trends on a constructed set."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from branchdesk.textanalysis.topics import (
    DatedText,
    category_trend,
    keywords_by_period,
    period_label,
    topics,
)

WEEK_45 = date(2026, 11, 2)  # Monday of ISO week 45
WEEK_46 = date(2026, 11, 9)

ITEMS = [
    DatedText("排隊排了一個小時，櫃員還很慢", WEEK_45),
    DatedText("排隊太久，只開一個櫃檯", date(2026, 11, 3)),
    DatedText("又要排隊，等候時間太長", date(2026, 11, 4)),
    DatedText("櫃檯太少，排隊排到門口", date(2026, 11, 5)),
    DatedText("手續費太貴，收費不透明", WEEK_46),
    DatedText("手續費被重複收取，收費不合理", date(2026, 11, 10)),
    DatedText("又被收手續費，收費太高", date(2026, 11, 11)),
    DatedText("年費和手續費收費都太貴", date(2026, 11, 12)),
    DatedText("The mobile app crashes at login", date(2026, 11, 12)),
    DatedText("Mobile app crashes after the update", date(2026, 11, 13)),
    DatedText("App crashes whenever I open the mobile app", date(2026, 11, 13)),
    DatedText("", date(2026, 11, 13)),
]


def test_period_labels() -> None:
    assert period_label(date(2026, 11, 29), "day") == "2026-11-29"
    assert period_label(date(2026, 11, 29), "week") == "2026-W48"
    assert period_label(date(2027, 1, 1), "week") == "2026-W53"
    assert period_label(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "month") == "2026-11"
    with pytest.raises(ValueError, match="period"):
        period_label(date(2026, 11, 29), "year")


def test_keywords_per_week_lead_with_that_weeks_subject_in_its_script() -> None:
    keywords = keywords_by_period(ITEMS, period="week", top=3)
    assert list(keywords) == ["2026-W45", "2026-W46"]
    assert keywords["2026-W45"][0].term == "排隊"
    assert keywords["2026-W45"][0].count == 4
    assert {k.term for k in keywords["2026-W46"]} <= {"手續費", "收費", "app", "crashes", "mobile"}
    assert "手續費" in {k.term for k in keywords["2026-W46"]}
    for words in keywords.values():
        scores = [k.score for k in words]
        assert scores == sorted(scores, reverse=True)
    # Traditional input shows Traditional keywords (features are Simplified inside)
    assert all("续" not in k.term and "队" not in k.term for w in keywords.values() for k in w)


def test_simplified_text_shows_simplified_keywords() -> None:
    items = [DatedText("手续费太贵，收费不透明", WEEK_46), DatedText("手续费收费太高", WEEK_46)]
    terms = [k.term for k in keywords_by_period(items, period="month", top=2)["2026-11"]]
    assert set(terms) == {"手续费", "收费"}


def test_topics_group_texts_about_the_same_thing() -> None:
    found = topics(ITEMS, period="week", count=3, top=3)
    assert len(found) == 3
    assert sum(topic.size for topic in found) == 11  # the empty text belongs to no topic
    groups = {frozenset(topic.words) for topic in found}
    words = {word for group in groups for word in group}
    assert {"排隊", "手續費", "app"} <= words
    by_word = {word: topic for topic in found for word in topic.words}
    assert by_word["排隊"].by_period == {"2026-W45": 4}
    assert by_word["手續費"].by_period == {"2026-W46": 4}
    assert by_word["app"].size == 3
    assert [topic.number for topic in found] == [1, 2, 3]


def test_too_little_text_gives_no_topics_and_no_keywords() -> None:
    assert topics([DatedText("排隊", WEEK_45)]) == []
    assert topics([DatedText("", WEEK_45)] * 10) == []
    assert keywords_by_period([]) == {}


def test_category_trend_counts_per_period() -> None:
    trend = category_trend(ITEMS[:5], ["waiting_time"] * 4 + ["fees_charges"], period="week")
    assert trend == {
        "2026-W45": Counter({"waiting_time": 4}),
        "2026-W46": Counter({"fees_charges": 1}),
    }


def test_a_topic_shared_by_both_scripts_speaks_the_majority_script() -> None:
    items = [
        DatedText("手續費太貴，收費不合理", WEEK_46),
        DatedText("手续费太贵，收费不合理", WEEK_46),
        DatedText("手续费又涨了，收费太高", WEEK_46),
        DatedText("排队太久，柜台太少", WEEK_45),
        DatedText("排队排了很久，柜台只开一个", WEEK_45),
        DatedText("排隊太久，櫃檯太少", WEEK_45),
        DatedText("又要排队，柜台太慢", WEEK_45),
        DatedText("手续费被多收，收费不透明", WEEK_46),
    ]
    found = topics(items, period="week", count=2, top=2)
    assert {frozenset(topic.words) for topic in found} == {
        frozenset({"手续费", "收费"}),
        frozenset({"排队", "柜台"}),
    }
    assert [topic.size for topic in found] == [4, 4]
