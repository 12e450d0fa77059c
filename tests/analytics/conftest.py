"""Registers the ``spark`` marker (Spark tests start a JVM: deselect with -m "not spark")."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spark: starts a local Spark session (deselect: not spark)")
