"""Care services (see the package docstring); one module per topic."""

from __future__ import annotations
