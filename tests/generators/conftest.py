"""Signing fixtures of the media tests (one storage backend, the local directory)."""

from __future__ import annotations

from tests.media.conftest import blobs, snapshot, spool_dir

__all__ = ["blobs", "snapshot", "spool_dir"]
