"""Corrections: stored, audited, validated, and learnt by the next model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import RuleViolation
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.textanalysis import classify, list_corrections, record_correction, service
from branchdesk.textanalysis.model import TextModel
from branchdesk.textanalysis.models import TextCorrection
from branchdesk.textanalysis.normalize import text_hash
from tests.factories import make_user

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
# Mentions a card and a fee: the shipped model calls it fees_charges.
TEXT = "信用卡年費沒說清楚就扣款"


def _count(db: Session, model: type[object]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_correction_is_stored_and_changes_the_next_prediction(
    db: Session, shipped_model: TextModel, model_cache: service._Cache
) -> None:
    user = make_user(db, role=Role.quality_officer)
    before = classify(TEXT, db=db)
    assert before.category == "fees_charges"
    audits = _count(db, AuditEntry)

    row = record_correction(
        db,
        text=TEXT,
        field="category",
        predicted=before.category,
        corrected="account_access",
        source_type="complaint",
        source_id="CMP-2026-000001",
        actor_id=user.id,
        now=NOW,
    )
    assert (row.field, row.predicted, row.corrected, row.language) == (
        "category",
        "fees_charges",
        "account_access",
        "zh-Hant",
    )
    assert row.text_hash == text_hash("信用卡年费没说清楚就扣款")
    assert row.created_at == NOW
    assert [
        c.id for c in list_corrections(db, source_type="complaint", source_id="CMP-2026-000001")
    ] == [row.id]
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert _count(db, AuditEntry) == audits + 1
    assert (entry.action, entry.object_type, entry.object_id) == (
        "textanalysis.correct_label",
        "complaint",
        "CMP-2026-000001",
    )
    assert entry.actor_id == user.id
    assert entry.detail == {
        "field": "category",
        "predicted": "fees_charges",
        "corrected": "account_access",
    }

    # a sentiment correction of another text keeps that text's category
    app_text = "The new app is great, transfers are easy"
    app_before = classify(app_text)  # without a session: the cached model as it is
    assert model_cache.model is shipped_model  # nothing retrained before this point
    record_correction(
        db,
        text=app_text,
        field="sentiment",
        predicted=app_before.sentiment,
        corrected="neutral",
        source_type="survey_response",
        source_id="42",
        actor_id=None,
        now=NOW,
    )

    after = classify(TEXT, db=db)  # sees the new corrections and retrains
    assert model_cache.model is not shipped_model
    assert model_cache.model is not None
    assert model_cache.model.corrections == 2
    assert (after.category, after.category_confidence, after.corrected) == (
        "account_access",
        1.0,
        True,
    )
    assert after.sentiment == before.sentiment
    # the Simplified spelling of the same text is the same text
    assert classify("信用卡年费没说清楚就扣款", db=db).category == "account_access"
    # the regression itself moved towards the corrected label, not only the lookup
    features = model_cache.model._features([TEXT])
    classes = list(shipped_model.category_model.classes_)
    index = classes.index("account_access")
    old_p = shipped_model.category_model.predict_proba(shipped_model._features([TEXT]))[0][index]
    new_p = model_cache.model.category_model.predict_proba(features)[0][index]
    assert new_p > old_p
    app_after = classify(app_text, db=db)
    assert (app_after.category, app_after.sentiment, app_after.sentiment_confidence) == (
        app_before.category,
        "neutral",
        1.0,
    )
    assert app_after.category_confidence < 1.0
    # unchanged table: the cached model is reused
    cached = model_cache.model
    classify("排隊太久", db=db)
    assert model_cache.model is cached


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"field": "severity"}, "field"),
        ({"corrected": "angry"}, "corrected"),
        ({"field": "sentiment", "corrected": "waiting_time"}, "corrected"),
        ({"text": "   "}, "text"),
        ({"source_type": ""}, "source_type"),
    ],
)
def test_invalid_corrections_are_refused_and_nothing_is_written(
    db: Session, changes: dict[str, str], field: str
) -> None:
    arguments: dict[str, object] = {
        "text": TEXT,
        "field": "category",
        "predicted": "fees_charges",
        "corrected": "account_access",
        "source_type": "complaint",
        "source_id": "CMP-2026-000002",
        "actor_id": None,
        "now": NOW,
    }
    arguments.update(changes)
    audits = _count(db, AuditEntry)
    with pytest.raises(RuleViolation) as raised:
        record_correction(db, **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert _count(db, TextCorrection) == 0
    assert _count(db, AuditEntry) == audits


def test_committed_correction_reaches_callers_without_a_session(
    db: Session, shipped_model: TextModel, model_cache: service._Cache
) -> None:
    text = "分行冷氣太冷了，凍到手都僵"
    assert classify(text).category == "environment_facilities"
    record_correction(
        db,
        text=text,
        field="category",
        predicted="environment_facilities",
        corrected="other",
        source_type="complaint",
        source_id="CMP-2026-000003",
        actor_id=None,
        now=NOW,
    )
    assert model_cache.pending == []  # nothing is learnt before the commit
    db.commit()  # the test's outer transaction still rolls everything back afterwards
    assert service.wait_for_retrain(120)
    result = classify(text)  # no session: the background retrain swapped the model in
    assert (result.category, result.corrected) == ("other", True)
    assert model_cache.model is not shipped_model
    assert model_cache.state is not None
    assert model_cache.state.count == 1


def test_rolled_back_correction_is_not_learnt(db: Session, model_cache: service._Cache) -> None:
    record_correction(
        db,
        text="排隊太久",
        field="category",
        predicted="waiting_time",
        corrected="other",
        source_type="complaint",
        source_id="CMP-2026-000004",
        actor_id=None,
        now=NOW,
    )
    db.rollback()
    db.commit()
    assert model_cache.pending == []
    assert model_cache.worker is None
    assert classify("排隊太久").category == "waiting_time"


def test_configured_artifact_is_used_until_corrections_outdate_it(
    db: Session,
    shipped_model: TextModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replace(shipped_model, trained_at="artifact").save(tmp_path / "model")
    monkeypatch.setenv(service.MODEL_ENV, str(tmp_path / "model"))
    service.reset_model_cache()
    assert service.get_model(db).trained_at == "artifact"  # same data, no corrections: used
    record_correction(
        db,
        text="排隊太久",
        field="category",
        predicted="waiting_time",
        corrected="other",
        source_type="complaint",
        source_id="CMP-2026-000005",
        actor_id=None,
        now=NOW,
    )
    service.reset_model_cache()
    model = service.refresh_model(db)  # the artifact lacks the correction: trained instead
    assert model.trained_at != "artifact"
    assert model.corrections == 1


def test_warm_up_builds_the_model_in_the_background(
    shipped_model: TextModel, model_cache: service._Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.reset_model_cache()
    monkeypatch.setattr(service, "train", lambda examples, corrections=(): shipped_model)
    thread = service.warm_up()
    thread.join(60)
    assert model_cache.model is shipped_model
