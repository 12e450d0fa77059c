"""The education library: created by staff in three languages, targeted by segment, shown in
the portal (only what the customer's segments allow) and at the kiosk, every read counted."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.care.models import EducationItem, EducationRead
from branchdesk.care.service.education import reads_of_customer
from branchdesk.core.notify import RecordingNotifier
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from tests.care.test_campaigns import segment
from tests.factories import bearer, make_branch, make_customer, make_user
from tests.portal.conftest import enrol_fast, page_login


def item(slug: str, kind: str = "fraud_warning", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "slug": slug, "kind": kind, "title_zh_hant": f"繁 {slug}", "title_zh_hans": f"简 {slug}",
        "title_en": f"EN {slug}", "body_zh_hant": "第一段\n\n第二段", "body_zh_hans": "第一段",
        "body_en": "First paragraph\n\nSecond paragraph",
    }  # fmt: skip
    values.update(overrides)
    return values


def test_library_targeting_portal_and_kiosk_reads(
    db: Session, signer: Signer, client: TestClient, portal_app: FastAPI,
    notifier: RecordingNotifier,
) -> None:  # fmt: skip
    branch = make_branch(db)
    quality = make_user(db, Role.quality_officer)
    auth = bearer(signer, quality)
    assert (
        client.post("/api/v1/education", json=item("fake-calls"), headers=auth).status_code == 201
    )
    made = client.post(
        "/api/v1/education",
        json=item("fund-risk", "product_explainer", segment_kind="asset_tier", segment="affluent"),
        headers=auth,
    )
    assert made.status_code == 201, made.text
    for bad, status, field in (
        (item("fake-calls"), 409, "slug"),
        (item("Bad Slug"), 422, "slug"),
        (item("half", segment_kind="asset_tier"), 422, "segment"),
        (item("odd", kind="gossip"), 422, "kind"),
    ):
        refused = client.post("/api/v1/education", json=bad, headers=auth)
        assert (refused.status_code, refused.json()["field"]) == (status, field)
    teller = make_user(db, Role.teller, (branch,))
    assert client.post("/api/v1/education", json=item("nope"),
                       headers=bearer(signer, teller)).status_code == 403  # fmt: skip
    assert db.scalar(select(func.count()).select_from(EducationItem)) == 2

    mass = make_customer(db, signer, home_branch_id=branch.id, phone="+886912000301")
    rich = make_customer(db, signer, home_branch_id=branch.id, phone="+886912000302")
    segment(db, [rich], "asset_tier", "affluent")
    segment(db, [mass], "asset_tier", "mass")
    for customer in (mass, rich):
        enrol_fast(db, customer)

    page_login(client, notifier, mass.customer_number)
    library = client.get("/my/learn")
    assert library.status_code == 200
    assert "EN fake-calls" in library.text
    assert "EN fund-risk" not in library.text
    assert client.get("/my/learn/fund-risk").status_code == 404
    opened = client.get("/my/learn/fake-calls")
    assert opened.status_code == 200
    assert "<p>First paragraph</p>" in opened.text
    assert "<p>Second paragraph</p>" in opened.text

    client.cookies.clear()
    page_login(client, notifier, rich.customer_number)
    client.cookies.set("bd_lang", "zh-Hant")
    mine = client.get("/my/learn")
    assert "繁 fake-calls" in mine.text
    assert "繁 fund-risk" in mine.text
    assert client.get("/my/learn/fund-risk").status_code == 200

    client.cookies.clear()
    client.cookies.set("bd_lang", "zh-Hans")
    kiosk = client.get(f"/kiosk/{branch.code}/learn")
    assert kiosk.status_code == 200
    assert "简 fake-calls" in kiosk.text
    assert "简 fund-risk" not in kiosk.text
    assert client.get(f"/kiosk/{branch.code}/learn/fund-risk").status_code == 404
    assert client.get(f"/kiosk/{branch.code}/learn/fake-calls").status_code == 200
    assert client.get(f"/kiosk/{branch.code}/learn/fake-calls").status_code == 200

    listed = {i["slug"]: i for i in client.get("/api/v1/education", headers=auth).json()}
    assert {
        slug: (i["portal_reads"], i["kiosk_reads"], i["readers"]) for slug, i in listed.items()
    } == {
        "fake-calls": (1, 2, 1),
        "fund-risk": (1, 0, 1),
    }
    assert db.scalar(select(func.count()).select_from(EducationRead)) == 4
    assert [r.slug for r in reads_of_customer(db, customer_id=rich.id, locale="en")] == [
        "fund-risk"
    ]
