"""create_app(): routers, error handlers, templates, static files, middleware."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from branchdesk import __version__
from branchdesk.core.clock import utcnow
from branchdesk.core.config import Settings, get_settings
from branchdesk.core.db import Database
from branchdesk.core.security import Signer
from branchdesk.core.web import (
    STATIC_DIR,
    Metrics,
    RequestContextMiddleware,
    build_templates,
    install_error_handlers,
)
from branchdesk.queue.live import EventFeed, LiveWaits, come_back_notices

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    warm_ups: Sequence[threading.Thread] = (),
    freeze_heap: bool = False,
) -> FastAPI:
    """The app. ``freeze_heap`` (a served process, not tests): once start-up's warm-ups (the
    wait models, and the ``warm_ups`` threads) are done, everything alive moves to the
    collector's permanent generation (`gc.freeze`), so full collections stop re-scanning the
    long-lived app, models and caches; a request's garbage is collected as before."""
    settings = settings or get_settings()
    database = database or Database(settings.database_url)
    metrics = Metrics()
    waits = LiveWaits()
    feed = EventFeed(database, waits, on_activity=come_back_notices(database, waits))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Learn from recent history in the background: until it is done, estimates fall back
        # to the catalog standard, and start-up stays fast.
        warm_up = asyncio.create_task(asyncio.to_thread(waits.warm_up, database, now=utcnow()))
        settled = asyncio.create_task(_freeze_after(warm_up, warm_ups)) if freeze_heap else None
        await feed.start()  # live screens, the wait models and come-back notices follow it
        yield
        if settled is not None:
            settled.cancel()
        await feed.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(warm_up, timeout=1)

    app = FastAPI(
        lifespan=lifespan,
        title="branchdesk",
        version=__version__,
        summary="Bank branch service platform: queue, catalog, customers, ledger, feedback, risk.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.signer = Signer(settings.resolved_secret_key())
    app.state.templates = build_templates()
    app.state.metrics = metrics
    app.state.default_locale = settings.default_locale
    app.state.waits = waits
    app.state.feed = feed

    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    from branchdesk import ops
    from branchdesk.appointments import api as appointments_api
    from branchdesk.appointments import views as appointments_views
    from branchdesk.care import api as care_api
    from branchdesk.care import views as care_views
    from branchdesk.catalog import api as catalog_api
    from branchdesk.catalog import views as catalog_views
    from branchdesk.complaints import api as complaints_api
    from branchdesk.complaints import views as complaints_views
    from branchdesk.compliance import api as compliance_api
    from branchdesk.compliance import views as compliance_views
    from branchdesk.crm import api as crm_api
    from branchdesk.crm import views as crm_views
    from branchdesk.customers import api as customers_api
    from branchdesk.feedback import api as feedback_api
    from branchdesk.feedback import views as feedback_views
    from branchdesk.identity import api as identity_api
    from branchdesk.identity import views as identity_views
    from branchdesk.ledger import api as ledger_api
    from branchdesk.ledger import views as ledger_views
    from branchdesk.loans import api as loans_api
    from branchdesk.loans import views as loans_views
    from branchdesk.loyalty import api as loyalty_api
    from branchdesk.loyalty import views as loyalty_views
    from branchdesk.operations import api as operations_api
    from branchdesk.operations import views as operations_views
    from branchdesk.portal import api as portal_api
    from branchdesk.portal import views as portal_views
    from branchdesk.quality import api as quality_api
    from branchdesk.quality import views as quality_views
    from branchdesk.queue import api as queue_api
    from branchdesk.queue import views as queue_views
    from branchdesk.risk.cases import api as risk_api
    from branchdesk.risk.cases import views as risk_views
    from branchdesk.social import api as social_api
    from branchdesk.social import views as social_views
    from branchdesk.teller import views as teller_views
    from branchdesk.training import api as training_api
    from branchdesk.training import views as training_views

    for router in (
        ops.router,
        identity_api.router,
        catalog_api.router,
        customers_api.router,
        crm_api.router,
        crm_views.router,
        care_api.router,
        care_views.router,
        care_views.portal_router,
        appointments_api.router,
        ledger_api.router,
        portal_api.router,
        portal_api.staff_router,
        queue_api.router,
        identity_views.router,
        catalog_views.router,
        ledger_views.router,
        loans_api.router,
        loans_views.router,
        loyalty_api.router,
        loyalty_api.portal_router,
        loyalty_views.router,
        loyalty_views.portal_router,
        portal_views.router,
        appointments_views.router,
        queue_views.router,
        complaints_api.router,
        complaints_api.hooks,
        complaints_views.router,
        teller_views.router,
        feedback_api.router,
        feedback_views.router,
        quality_api.router,
        quality_views.router,
        social_api.router,
        social_views.router,
        risk_api.router,
        risk_views.router,
        training_api.router,
        operations_api.router,
        compliance_api.router,
        compliance_views.router,
        operations_views.router,
        training_views.router,
    ):
        app.include_router(router)
    return app


async def _freeze_after(warm_up: asyncio.Task[int], threads: Sequence[threading.Thread]) -> None:
    with contextlib.suppress(Exception):  # a failed warm-up is logged where it failed
        await warm_up
    for thread in threads:
        await asyncio.to_thread(thread.join)
    gc.collect()
    gc.freeze()
    log.info("start-up done: %d long-lived objects frozen", gc.get_freeze_count())


def serve_app() -> FastAPI:
    """The factory `branchdesk serve` hands to uvicorn (once per worker process)."""
    from branchdesk import textanalysis
    from branchdesk.core.web import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    text_model = textanalysis.warm_up()  # train the complaint/survey text model off requests
    return create_app(settings, warm_ups=[text_model], freeze_heap=True)
