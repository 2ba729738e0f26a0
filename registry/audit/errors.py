"""Refusals of the audit log's checkpoints."""

from __future__ import annotations

from registry.errors import InternalError, NotFound, RegistryError


class AuditLogNotFound(NotFound):
    slug = "audit-log-not-found"
    title = "No audit log has this id"


class AuditLogInconsistent(InternalError):
    """The chain's newest event is not the head its stored checkpoint records: the registry
    refuses to sign a checkpoint over a log that was changed behind its back."""

    slug = "audit-log-inconsistent"
    title = "The audit log does not match its stored checkpoint"


class CheckpointRefused(RegistryError):
    """A checkpoint (a kept file) that is malformed, of another log, or not signed by us."""

    status = 422
    slug = "checkpoint-refused"
    title = "The checkpoint is refused"
