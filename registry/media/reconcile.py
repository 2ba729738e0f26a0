"""Making the media rows and the stored files agree again after crashes.

Signing stores the file, then commits its row; a failure in between discards the file, but a
process killed there (or a store that was down) leaves an object without a row. Writes that
never finished leave temporary files (local) or incomplete multipart uploads (S3). A row
without its object should never happen; it is reported, since only a backup can repair it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.db import utcnow
from registry.media.models import MediaAsset
from registry.storage import BlobStorage

MEDIA_PREFIX = "media/"
# A signing in flight has stored its file but not yet committed its row; files younger than
# this are left alone.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Reconciliation:
    """What was out of step: files without rows, rows without files, unfinished writes."""

    orphans: list[str]
    missing: list[str]
    incomplete: list[str]
    repaired: bool

    @property
    def consistent(self) -> bool:
        return not (self.orphans or self.missing or self.incomplete)


def reconcile_storage(
    session: Session,
    storage: BlobStorage,
    *,
    repair: bool,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
) -> Reconciliation:
    """Compare the stored media files with the asset rows; with ``repair``, delete orphans
    and unfinished writes older than ``grace``."""
    cutoff = (now or utcnow()) - grace
    # Media signed without uploading (``stored`` false) have no file: no key to compare.
    recorded = {
        key for key in session.scalars(sa.select(col(MediaAsset.storage_key))) if key is not None
    }
    blobs = storage.list_blobs(MEDIA_PREFIX)
    stored = {blob.key for blob in blobs}
    orphans = [blob.key for blob in blobs if blob.key not in recorded and blob.modified < cutoff]
    missing = sorted(recorded - stored)
    if not repair:
        return Reconciliation(orphans, missing, [], repaired=False)
    for key in orphans:
        storage.delete(key)
    incomplete = storage.sweep_incomplete(cutoff)
    return Reconciliation(orphans, missing, incomplete, repaired=True)
