"""The classifier without a database: labels, confidences, languages, data, artifacts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from branchdesk.textanalysis import (
    CATEGORIES,
    SENTIMENTS,
    Classification,
    classify,
    classify_many,
    service,
)
from branchdesk.textanalysis.datagen import generate, render
from branchdesk.textanalysis.evaluation import evaluate
from branchdesk.textanalysis.model import (
    ArtifactError,
    CorrectionExample,
    TextModel,
    fingerprint,
    load_artifact,
    load_examples,
)
from branchdesk.textanalysis.normalize import detect_language, normalise, text_hash

CLEAR = [
    ("櫃員態度很差，一直不耐煩", "staff_attitude", "negative", "zh-Hant"),
    ("排隊等了一個小時，太久了", "waiting_time", "negative", "zh-Hant"),
    ("信用卡年費沒說清楚就扣款", "fees_charges", "negative", "zh-Hant"),
    ("分行環境乾淨明亮，很舒服", "environment_facilities", "positive", "zh-Hant"),
    ("手机银行更新后一直闪退", "digital_channels", "negative", "zh-Hans"),
    ("转账被重复扣款了", "transaction_error", "negative", "zh-Hans"),
    ("理财经理推销基金时说保本，结果亏了很多", "product_mis_selling", "negative", "zh-Hans"),
    ("请问补办银行卡需要带什么证件", "account_access", "neutral", "zh-Hans"),
    ("The teller was rude and impatient", "staff_attitude", "negative", "en"),
    (
        "My personal data was leaked and I get sales calls every day",
        "privacy_data",
        "negative",
        "en",
    ),
    ("The new app is great, transfers are easy", "digital_channels", "positive", "en"),
    ("I queued for fifty minutes before anyone served me", "waiting_time", "negative", "en"),
]

# (category, sentiment) macro-F1 floors: the held-out figures measured with the shipped data
# (docs/textanalysis.md) minus a margin of about 0.1.
FLOORS = {
    "zh-Hant": (0.77, 0.83),
    "zh-Hans": (0.72, 0.87),
    "en": (0.65, 0.69),
    "all": (0.72, 0.80),
}


@pytest.mark.parametrize(("text", "category", "sentiment", "language"), CLEAR)
def test_clear_examples_get_their_labels_in_every_script(
    text: str, category: str, sentiment: str, language: str
) -> None:
    result = classify(text)
    assert (result.category, result.sentiment, result.language) == (category, sentiment, language)
    assert 0.5 < result.category_confidence <= 1.0
    assert 0.5 < result.sentiment_confidence <= 1.0
    assert result.corrected is False


@pytest.mark.parametrize("text", ["", "   ", "!!!???", "asdfgh qwerty zxcvb", "😀😀", "12345"])
def test_empty_or_garbage_text_is_other_with_low_confidence(text: str) -> None:
    result = classify(text)
    assert result.category == "other"
    assert result.sentiment == "neutral"
    assert result.category_confidence == pytest.approx(0.1)
    assert result.sentiment_confidence == pytest.approx(0.1)


def test_confidences_are_probabilities_for_many_texts() -> None:
    texts = [e.text for e in load_examples("heldout.csv")] + ["x" * 10_000, "銀行" * 3000]
    results = classify_many(texts)
    assert len(results) == len(texts)
    for result in results:
        assert isinstance(result, Classification)
        assert result.category in CATEGORIES
        assert result.sentiment in SENTIMENTS
        assert 0.0 <= result.category_confidence <= 1.0
        assert 0.0 <= result.sentiment_confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("銀行櫃檯服務態度很差", "zh-Hant"),
        ("等咗好耐都冇人理", "zh-Hant"),
        ("银行柜台服务态度很差", "zh-Hans"),
        ("The ATM swallowed my card", "en"),
        ("ATM食咗我張卡", "zh-Hant"),
        ("ATM吞了我的银行卡", "zh-Hans"),
        ("", "en"),
    ],
)
def test_language_is_detected_from_the_script(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_traditional_and_simplified_share_one_normal_form() -> None:
    assert normalise("  銀行  櫃檯 ") == normalise("银行 柜台") == "银行 柜台"
    assert text_hash("手續費太貴") == text_hash("手续费太贵")


def test_heldout_macro_f1_stays_above_the_measured_floor(shipped_model: TextModel) -> None:
    scores = {s.language: s for s in evaluate(shipped_model, load_examples("heldout.csv"))}
    assert set(scores) == set(FLOORS)
    for language, (category_floor, sentiment_floor) in FLOORS.items():
        assert scores[language].category_macro_f1 >= category_floor, language
        assert scores[language].sentiment_macro_f1 >= sentiment_floor, language
    assert scores["all"].examples == 135


def test_shipped_training_set_is_the_generated_one_and_covers_every_label() -> None:
    path = Path(service.__file__).with_name("data") / "train.csv"
    assert path.read_text(encoding="utf-8") == render(generate())
    examples = load_examples("train.csv")
    assert len(examples) >= 600
    categories = Counter((e.language, e.category) for e in examples)
    sentiments = Counter((e.language, e.sentiment) for e in examples)
    for language in ("zh-Hant", "zh-Hans", "en"):
        for category in CATEGORIES:
            assert categories[(language, category)] >= 10, (language, category)
        for sentiment in SENTIMENTS:
            assert sentiments[(language, sentiment)] >= 30, (language, sentiment)


def test_heldout_set_shares_no_text_with_the_training_set() -> None:
    train_hashes = {text_hash(e.text) for e in load_examples("train.csv")}
    heldout = load_examples("heldout.csv")
    assert len(heldout) == 135
    assert not [e.text for e in heldout if text_hash(e.text) in train_hashes]
    assert all(detect_language(e.text) in ("zh-Hant", "zh-Hans", "en") for e in heldout)


def test_fingerprint_follows_the_data_and_the_corrections() -> None:
    examples = load_examples("train.csv")
    plain = fingerprint(examples, [])
    assert plain == fingerprint(list(examples), [])
    assert plain != fingerprint(examples[1:], [])
    assert plain != fingerprint(examples, [CorrectionExample("a", "category", "other")])


def test_artifact_round_trip_and_configured_loading(
    shipped_model: TextModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped_model.save(tmp_path / "model")
    meta = (tmp_path / "model" / "model.json").read_text(encoding="utf-8")
    assert shipped_model.data_fingerprint in meta
    loaded = load_artifact(tmp_path / "model")
    texts = [e.text for e in load_examples("heldout.csv")[:20]]
    assert loaded.classify_many(texts) == shipped_model.classify_many(texts)

    # configured: the next first use loads the artifact instead of training
    replace(shipped_model, data_fingerprint="from-artifact").save(tmp_path / "marked")
    monkeypatch.setenv(service.MODEL_ENV, str(tmp_path / "marked"))
    service.reset_model_cache()
    assert service.get_model().data_fingerprint == "from-artifact"
    assert classify("櫃員態度很差").category == "staff_attitude"


def test_unusable_artifacts_are_refused(shipped_model: TextModel, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        load_artifact(tmp_path / "missing")
    shipped_model.save(tmp_path / "model")
    meta = tmp_path / "model" / "model.json"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace('"model_version": 1', '"model_version": 99'),
        encoding="utf-8",
    )
    with pytest.raises(ArtifactError, match="model version"):
        load_artifact(tmp_path / "model")


def test_training_csv_parses_as_csv() -> None:
    content = (Path(service.__file__).with_name("data") / "heldout.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {row["category"] for row in rows} == set(CATEGORIES)
    assert {row["sentiment"] for row in rows} == set(SENTIMENTS)


def test_jieba_loads_its_bundled_dictionary_quietly_into_a_private_cache(
    capfd: pytest.CaptureFixture[str],
) -> None:
    import tempfile

    from branchdesk.textanalysis import normalize

    normalize._tokenizer.cache_clear()
    tokenizer = normalize._tokenizer()
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""
    assert tokenizer.tmp_dir == str(Path(tempfile.gettempdir()) / "branchdesk-jieba")
    assert (Path(tokenizer.tmp_dir) / "jieba.cache").is_file()
    assert normalize.tokens(normalise("手續費太貴")) == ["手续费", "太贵"]
