"""The one rule for what a grant allows: does it cover this use, and what was its status then?

Signing asks before it embeds a manifest; verification asks of a file that cites the grant.
Both get a :class:`ScopeGap` (or None) and a status word, and map them to their own problem
type or check code. Nothing here reads the database: the rule is a function of the grant's
terms and lifecycle columns, so it is tested as a table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from registry.consent.vocabulary import ANY_TERRITORY

GENERATE = "generate"  # the operation every file the registry labels was made by

GapReason = Literal[
    "modality", "operation", "purpose", "territory", "media_type", "not_yet_valid", "expired"
]
# ``status_now`` and ``status_at`` answer one of GRANT_STATUSES, or this for a moment before
# ``valid_from``.
NOT_YET_VALID: Final = "not_yet_valid"


class GrantScope(Protocol):
    """The columns of a grant the rule reads (``ConsentGrant`` has them)."""

    modalities: list[str]
    operations: list[str]
    purposes: list[dict[str, Any]]
    media_types: list[str]
    territories: list[str]
    valid_from: datetime
    valid_until: datetime
    status: str
    status_changed_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Use:
    """One use of a grant: what a pipeline asks to sign, or what a signed file claims."""

    modalities: Collection[str]
    purpose: str | None  # a purpose category or a project_ref of the grant
    territory: str | None
    media_kind: str  # image, audio or video
    operation: str = GENERATE


@dataclass(frozen=True)
class ScopeGap:
    """Why a use is outside a grant: a stable ``reason`` and a sentence for a person."""

    reason: GapReason
    detail: str


def effective_status(status: str, valid_until: datetime, now: datetime) -> str:
    """The stored status, except that an active grant at or past ``valid_until`` is expired."""
    if status == "active" and now >= valid_until:
        return "expired"
    return status


def status_now(grant: GrantScope, now: datetime) -> str:
    """The grant's status at this moment: its stored status decides, then its validity period."""
    status = effective_status(grant.status, grant.valid_until, now)
    if status == "active" and now < grant.valid_from:
        return NOT_YET_VALID
    return status


def status_at(grant: GrantScope, moment: datetime) -> str:
    """The grant's status at a past ``moment``, as far as its record tells.

    A revocation counts from ``revoked_at``; a suspension or supersession still in force
    counts from when it was recorded (from always, when no time was recorded); then the
    validity period decides. Suspensions that were lifted leave no trace to go on.
    """
    if grant.revoked_at is not None and grant.revoked_at <= moment:
        return "revoked"
    if grant.status in ("pending_confirmation", "declined"):
        return grant.status  # it never covered a use
    changed = grant.status_changed_at
    if grant.status == "suspended" and (changed is None or changed <= moment):
        return "suspended"
    if grant.status == "superseded" and (changed is None or changed <= moment):
        return "superseded"
    if moment >= grant.valid_until:
        return "expired"
    if moment < grant.valid_from:
        return NOT_YET_VALID
    return "active"


def granted_purposes(purposes: Sequence[Mapping[str, Any]]) -> set[str]:
    """What a use may name as its purpose: each purpose's category and its project_ref."""
    names = {str(p["category"]) for p in purposes if p.get("category")}
    return names | {str(p["project_ref"]) for p in purposes if p.get("project_ref")}


def scope_gap(grant: GrantScope, use: Use, *, at: datetime | None = None) -> ScopeGap | None:
    """Why ``use`` (made at ``at``, when known) is outside ``grant``, or None when it is inside."""
    missing = sorted(set(use.modalities) - set(grant.modalities))
    if missing or not use.modalities:
        return ScopeGap("modality", f"modalities {', '.join(missing) or '(none)'} are not granted")
    if use.operation not in grant.operations:
        return ScopeGap("operation", f"the grant does not allow the operation {use.operation}")
    if use.purpose is None or use.purpose not in granted_purposes(grant.purposes):
        return ScopeGap("purpose", f"purpose {use.purpose!r} is not one of the grant's purposes")
    if ANY_TERRITORY not in grant.territories and use.territory not in grant.territories:
        return ScopeGap("territory", f"territory {use.territory} is not granted")
    if use.media_kind not in grant.media_types:
        return ScopeGap("media_type", f"{use.media_kind} media is not granted")
    if at is not None and at < grant.valid_from:
        return ScopeGap(NOT_YET_VALID, f"the use predates the grant (from {grant.valid_from})")
    if at is not None and at >= grant.valid_until:
        return ScopeGap("expired", f"the use is after the grant ended ({grant.valid_until})")
    return None
