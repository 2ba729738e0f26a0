"""Every table, imported in one place so Alembic and the app see the same metadata."""

from registry.audit.models import AuditCheckpoint, AuditEvent
from registry.auth.models import ApiClient, Organization
from registry.consent.declarations import SubjectDeclaration
from registry.consent.models import ConsentGrant, Subject
from registry.generators.models import GeneratorEntry
from registry.idempotency import IdempotencyRecord
from registry.local_signing.models import SigningSession
from registry.media.models import ManifestStore, MediaAsset
from registry.portal.models import Passkey, Person, PersonProfile, SubjectInvitation
from registry.provenance.models import ProvenanceCode
from registry.records.models import CreationRecord
from registry.statuslist.models import StatusList, StatusListEntry
from registry.watches.models import GrantExpiryAnnouncement, TakedownNotice, Watch
from registry.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "ApiClient",
    "AuditCheckpoint",
    "AuditEvent",
    "ConsentGrant",
    "CreationRecord",
    "GeneratorEntry",
    "GrantExpiryAnnouncement",
    "IdempotencyRecord",
    "ManifestStore",
    "MediaAsset",
    "Organization",
    "Passkey",
    "Person",
    "PersonProfile",
    "ProvenanceCode",
    "SigningSession",
    "StatusList",
    "StatusListEntry",
    "Subject",
    "SubjectDeclaration",
    "SubjectInvitation",
    "TakedownNotice",
    "Watch",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
