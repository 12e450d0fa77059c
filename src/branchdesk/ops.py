"""Operations endpoints: liveness, readiness (database reachable) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from branchdesk.core.db import Database
from branchdesk.core.web import Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers")
def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        with database.read_only() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": database.dialect})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    registry: Metrics = request.app.state.metrics
    return PlainTextResponse(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
