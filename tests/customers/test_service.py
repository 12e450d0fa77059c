from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Conflict, NotFound, RuleViolation
from branchdesk.core.ids import is_valid_mod97
from branchdesk.core.security import Signer
from branchdesk.customers import service
from branchdesk.customers.models import Customer, IdDocumentType
from branchdesk.customers.schemas import CustomerCreate
from branchdesk.identity.roles import Role
from tests.factories import NOW, make_branch, make_user, principal


def test_id_number_is_encrypted_hashed_and_masked(db: Session, signer: Signer) -> None:
    branch = make_branch(db, code="CUS1")
    teller = principal(db, make_user(db, Role.teller, (branch,)))
    data = CustomerCreate(
        full_name="李小龍", latin_name="LI Xiaolong", id_document_type=IdDocumentType.national_id,
        id_number="a123 456 789", birth_on=date(1990, 11, 27), home_branch_code="cus1",
        email="li@example.com",
    )  # fmt: skip
    customer = service.create_customer(db, data=data, actor=teller, pii=signer, now=NOW)
    assert customer.id_number_masked == "A1****6789"
    assert "A123456789" not in customer.id_number_encrypted
    assert signer.decrypt(customer.id_number_encrypted) == "A123456789"
    assert customer.id_number_hash == signer.lookup_hash("A123456789")
    assert is_valid_mod97(customer.customer_number)
    with pytest.raises(Conflict) as duplicate:
        service.create_customer(
            db, data=data.model_copy(update={"id_number": "A123456789"}), actor=teller,
            pii=signer, now=NOW,
        )  # fmt: skip
    assert duplicate.value.field == "id_number"
    read = service.customer_read(db, customer)
    assert (read.home_branch_code, read.id_number_masked) == ("CUS1", "A1****6789")


def test_future_birth_date_and_unknown_branch_are_refused(db: Session, signer: Signer) -> None:
    data = CustomerCreate(
        full_name="X", id_document_type=IdDocumentType.passport, id_number="P1234567",
        birth_on=date(2030, 1, 1),
    )  # fmt: skip
    with pytest.raises(RuleViolation) as future:
        service.create_customer(db, data=data, actor=None, pii=signer, now=NOW)
    assert future.value.field == "birth_on"
    with pytest.raises(RuleViolation) as branch:
        service.create_customer(
            db, data=data.model_copy(update={"birth_on": None, "home_branch_code": "ZZZ"}),
            actor=None, pii=signer, now=NOW,
        )  # fmt: skip
    assert branch.value.field == "home_branch_code"
    assert db.execute(select(func.count()).select_from(Customer)).scalar_one() == 0


def test_customers_of_other_branches_are_not_found(db: Session, signer: Signer) -> None:
    home, away = make_branch(db), make_branch(db)
    data = CustomerCreate(
        full_name="周杰", id_document_type=IdDocumentType.hk_id, id_number="K1234567",
        home_branch_code=away.code,
    )  # fmt: skip
    customer = service.create_customer(db, data=data, actor=None, pii=signer, now=NOW)
    teller = principal(db, make_user(db, Role.teller, (home,)))
    with pytest.raises(NotFound):
        service.get_customer(db, customer_number=customer.customer_number, actor=teller)
    assert service.search_customers(db, actor=teller, query="周") == []
