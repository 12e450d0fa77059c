"""Loss events and control self-assessments through their pages: record, answer, score, review;
bad input is refused with the field and writes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.core.security import Signer
from branchdesk.identity.models import AuditEntry
from branchdesk.identity.roles import Role
from branchdesk.operations.models import CsaQuestionnaire, CsaResponse, LossEvent
from tests.factories import NOW, browser_session, make_branch, make_user
from tests.training.helpers import count


def _login(client: TestClient, signer: Signer, user: object) -> str:
    cookie, csrf = browser_session(signer, user)  # type: ignore[arg-type]  # a User
    client.cookies.set("bd_session", cookie)
    return csrf


def test_loss_events_page_records_and_totals(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db)
    manager = make_user(db, Role.branch_manager, (branch,))
    csrf = _login(client, signer, manager)
    url = f"/operations/branches/{branch.code}/loss-events"
    for kind, amount in (("loss", "1,250.50"), ("near_miss", "0"), ("loss", "100")):
        response = client.post(
            url,
            data={"kind": kind, "category": "cash", "amount": amount, "currency": "TWD",
                  "root_cause": "miscount at close", "occurred_on": "2026-03-02",
                  "csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert response.status_code == 303, response.text
    amounts = sorted(db.execute(select(LossEvent.amount_minor)).scalars())
    assert amounts == [0, 10_000, 125_050]
    for bad, field in (({"amount": "abc"}, "amount"), ({"kind": "fraud"}, "kind"),
                       ({"occurred_on": "2999-01-01"}, "the event lies in the future")):  # fmt: skip
        refused = client.post(
            url,
            data={"kind": "loss", "category": "cash", "amount": "5", "currency": "TWD",
                  "root_cause": "r", "occurred_on": "2026-03-02", "csrf_token": csrf, **bad},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 422, bad
        assert field in refused.text
    assert count(db, LossEvent) == 3
    page = client.get(url, headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 200
    assert "損失事件與險肇事件" in page.text
    assert page.text.count('data-kind="loss"') == 2
    assert "1,350.50" in page.text  # the losses' total


def test_self_assessment_answer_score_and_review(
    client: TestClient, db: Session, signer: Signer
) -> None:
    branch = make_branch(db)
    manager = make_user(db, Role.branch_manager, (branch,))
    officer = make_user(db, Role.compliance_officer, ())
    db.add(
        CsaQuestionnaire(
            code="VAULT", title_zh_hant="金庫", title_zh_hans="金库", title_en="Vault controls",
            questions=[{"zh-Hant": f"問{n}", "zh-Hans": f"问{n}", "en": f"Question {n}"}
                       for n in (1, 2, 3)],
            created_at=NOW,
        )
    )  # fmt: skip
    db.flush()
    url = f"/operations/branches/{branch.code}/self-assessments"
    csrf = _login(client, signer, manager)
    page = client.get(url, headers={"Accept-Language": "en"})
    assert "Question 3" in page.text
    answers = {"answer_1": "yes", "answer_2": "partial", "answer_3": "no"}
    short = client.post(url, data={"questionnaire_code": "VAULT", "period": "2026-Q4",
                                   "answer_1": "yes", "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert short.status_code == 422
    assert "answers" in short.text
    made = client.post(url, data={"questionnaire_code": "VAULT", "period": "2026-Q4",
                                  **answers, "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    again = client.post(url, data={"questionnaire_code": "VAULT", "period": "2026-Q4",
                                   **answers, "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert again.status_code == 409
    response = db.execute(select(CsaResponse)).scalar_one()
    assert (response.answers, response.score) == (["yes", "partial", "no"], 50)
    # the branch manager cannot review
    assert client.post(f"/operations/self-assessments/{response.id}/review",
                       data={"note": "x", "csrf_token": csrf},
                       follow_redirects=False).status_code == 403  # fmt: skip

    csrf = _login(client, signer, officer)
    review = f"/operations/self-assessments/{response.id}/review"
    empty = client.post(review, data={"note": " ", "csrf_token": csrf}, follow_redirects=False)
    assert empty.status_code == 422
    done = client.post(review, data={"note": "vault keys: dual control evidenced",
                                     "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    twice = client.post(review, data={"note": "again", "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
    assert twice.status_code == 409
    db.refresh(response)
    assert response.reviewed_by_id == officer.id
    assert response.review_note == "vault keys: dual control evidenced"
    audit = db.execute(
        select(AuditEntry.action).where(AuditEntry.action.like("csa.%")).order_by(AuditEntry.seq)
    ).scalars()
    assert list(audit) == ["csa.response_submit", "csa.response_review"]
    shown = client.get(url, headers={"Accept-Language": "en"})
    assert f"Reviewed by {officer.username}" in shown.text
    assert 'class="score">50<' in shown.text
