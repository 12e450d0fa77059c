"""The customer 360 page (and its short form for the teller console: ``?view=short``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from branchdesk.core.clock import utcnow
from branchdesk.core.web import DbSession, render, request_locale
from branchdesk.crm import service
from branchdesk.identity.deps import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/customers/{customer_number}/360", response_class=HTMLResponse)
def customer_360_page(
    request: Request, db: DbSession, principal: PageUser, customer_number: str, view: str = ""
) -> Response:
    locale = getattr(request.state, "locale", None) or request_locale(request)
    data = service.get_customer_360(
        db, customer_number=customer_number, actor=principal, now=utcnow(), locale=locale
    )
    template = "crm/short.html" if view == "short" else "crm/customer_360.html"
    return render(request, template, {"c": data})
