"""Every table, imported in one place so Alembic and the app see the same metadata."""

from registry.audit.models import AuditCheckpoint, AuditEvent
from registry.auth.models import ApiClient, Organization
from registry.consent.models import ConsentGrant, Subject
from registry.idempotency import IdempotencyRecord
from registry.media.models import ManifestStore, MediaAsset
from registry.provenance.models import ProvenanceCode
from registry.statuslist.models import StatusList, StatusListEntry

__all__ = [
    "ApiClient",
    "AuditCheckpoint",
    "AuditEvent",
    "ConsentGrant",
    "IdempotencyRecord",
    "ManifestStore",
    "MediaAsset",
    "Organization",
    "ProvenanceCode",
    "StatusList",
    "StatusListEntry",
    "Subject",
]
