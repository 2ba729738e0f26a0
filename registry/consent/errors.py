"""Refusals of grant policy and lifecycle (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import Conflict, NotFound, RegistryError


class GrantPolicyViolation(RegistryError):
    status = 422
    slug = "grant-policy-violation"
    title = "The grant does not meet the registry's consent policy"


class DescriptionNotSpecific(GrantPolicyViolation):
    slug = "grant-description-not-specific"
    title = "The purpose description is not specific enough"


class InvalidPeriod(GrantPolicyViolation):
    slug = "grant-invalid-period"
    title = "valid_until must be after valid_from"


class MinorRequiresGuardian(GrantPolicyViolation):
    slug = "grant-minor-requires-guardian"
    title = "A minor's grant must be signed by a guardian"


class MinorPastMajority(GrantPolicyViolation):
    slug = "grant-minor-past-majority"
    title = "A minor's grant must end by their 18th birthday"


class DeceasedRequiresAuthority(GrantPolicyViolation):
    slug = "grant-deceased-requires-authority"
    title = "A deceased person's grant needs an estate or authorized representative with evidence"


class GrantorNotAuthorized(GrantPolicyViolation):
    slug = "grant-grantor-not-authorized"
    title = "This grantor cannot consent for this subject"


class TrainingTermRequired(GrantPolicyViolation):
    slug = "grant-training-term-required"
    title = "Training operations need an explicit training term"


class UnknownModality(GrantPolicyViolation):
    slug = "grant-unknown-modality"
    title = "Unknown modality"


class UnknownOperation(GrantPolicyViolation):
    slug = "grant-unknown-operation"
    title = "Unknown operation"


class UnknownTerritory(GrantPolicyViolation):
    slug = "grant-unknown-territory"
    title = "Unknown territory"


class UnknownMediaType(GrantPolicyViolation):
    slug = "grant-unknown-media-type"
    title = "Unknown media type"


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


class SubjectDeclaredDoNotSynthesize(GrantPolicyViolation):
    slug = "grant-subject-declared-do-not-synthesize"
    title = "The person has declared that their voice and likeness may not be synthesized"


class SubjectDeclaredDoNotTrain(GrantPolicyViolation):
    slug = "grant-subject-declared-do-not-train"
    title = "The person has declared that their voice and likeness may not train AI"
