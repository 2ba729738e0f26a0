"""Refusals of grant policy and lifecycle (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import Conflict, NotFound, RegistryError, problem_class


class GrantPolicyViolation(RegistryError):
    status = 422
    slug = "grant-policy-violation"
    title = "The grant does not meet the registry's consent policy"


def _policy(slug: str, title: str) -> type[GrantPolicyViolation]:
    return problem_class(GrantPolicyViolation, slug, title)


DescriptionNotSpecific = _policy(
    "grant-description-not-specific", "The purpose description is not specific enough"
)
InvalidPeriod = _policy("grant-invalid-period", "valid_until must be after valid_from")
MinorRequiresGuardian = _policy(
    "grant-minor-requires-guardian", "A minor's grant must be signed by a guardian"
)
MinorPastMajority = _policy(
    "grant-minor-past-majority", "A minor's grant must end by their 18th birthday"
)
DeceasedRequiresAuthority = _policy(
    "grant-deceased-requires-authority",
    "A deceased person's grant needs an estate or authorized representative with evidence",
)
GrantorNotAuthorized = _policy(
    "grant-grantor-not-authorized", "This grantor cannot consent for this subject"
)
TrainingTermRequired = _policy(
    "grant-training-term-required", "Training operations need an explicit training term"
)
UnknownModality = _policy("grant-unknown-modality", "Unknown modality")
UnknownOperation = _policy("grant-unknown-operation", "Unknown operation")
UnknownTerritory = _policy("grant-unknown-territory", "Unknown territory")
UnknownMediaType = _policy("grant-unknown-media-type", "Unknown media type")


class SubjectNotFound(NotFound):
    slug = "subject-not-found"
    title = "Subject not found"


class GrantNotFound(NotFound):
    slug = "grant-not-found"
    title = "Grant not found"


class InvalidSubject(RegistryError):
    status = 422
    slug = "subject-invalid"
    title = "The subject's details are inconsistent"


class InvalidTransition(Conflict):
    slug = "grant-invalid-transition"
    title = "The grant cannot make this change from its current status"
