"""HTML screens of the queue (kiosk, lobby display, teller console, phone page, lobby desk)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
