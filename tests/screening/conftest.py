"""The registered media fixtures of the resolution tests (tests/softbinding_api/conftest.py)."""

from tests.softbinding_api.conftest import registered, snapshot, unmarked

__all__ = ["registered", "snapshot", "unmarked"]
