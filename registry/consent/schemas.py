"""API shapes of subjects and consent grants (requests validate; responses never hold secrets)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from registry.consent.vocabulary import (
    EVIDENCE_KINDS,
    GRANT_STATUSES,
    GRANTOR_ROLES,
    MEDIA_TYPES,
    MODALITIES,
    OPERATIONS,
    REVOCATION_EFFECTS,
    TRAINING_TERMS,
    country_codes,
    currency_codes,
)
from registry.pagination import PageQuery

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Enumerations are checked by grant policy so each refusal has its own problem type; the
# schema still documents the vocabulary.
Modality = Annotated[str, Field(max_length=32, json_schema_extra={"enum": list(MODALITIES)})]
OperationName = Annotated[str, Field(max_length=32, json_schema_extra={"enum": list(OPERATIONS)})]
MediaType = Annotated[str, Field(max_length=32, json_schema_extra={"enum": list(MEDIA_TYPES)})]
Territory = Annotated[
    str,
    Field(
        max_length=8,
        description="ISO 3166-1 alpha-2 code, or * for worldwide",
        json_schema_extra={"enum": ["*", *sorted(country_codes())]},
    ),
]
Country = Annotated[
    str,
    Field(
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2 code",
        json_schema_extra={"enum": sorted(country_codes())},
    ),
]


class RequestModel(BaseModel):
    # strict: a wrong JSON type is an error, never silently coerced.
    model_config = ConfigDict(extra="forbid", strict=True)


class SubjectCreate(RequestModel):
    display_name: ShortText
    status: Literal["living", "deceased"] = "living"
    date_of_birth: date | None = None
    date_of_death: date | None = None
    jurisdictions: list[Country] = Field(default_factory=list, max_length=50)
    external_ref: ShortText | None = None

    @field_validator("jurisdictions")
    @classmethod
    def _known_countries(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in country_codes()]
        if unknown:
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {', '.join(unknown)}")
        return value


class SubjectPublic(BaseModel):
    id: str
    pseudonymous_id: str
    display_name: str
    status: Literal["living", "deceased"]
    date_of_birth: date | None
    date_of_death: date | None
    minor: bool
    jurisdictions: list[str]
    external_ref: str | None
    created_at: datetime


class SubjectList(BaseModel):
    items: list[SubjectPublic]
    next_cursor: str | None


class GrantedBy(RequestModel):
    role: Literal[GRANTOR_ROLES]  # type: ignore[valid-type]
    name: ShortText
    authority_evidence: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class Representation(RequestModel):
    kind: Literal["counsel", "union"]
    reference: ShortText


class Purpose(RequestModel):
    category: Code
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    project_ref: ShortText | None = None


class Compensation(RequestModel):
    model: Literal["flat_fee", "royalty", "per_use", "union_scale", "none", "other"]
    amount: Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,4})?$")] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    payee: ShortText | None = None
    reference: ShortText | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        if value is not None and value not in currency_codes():
            raise ValueError("not an ISO 4217 currency code")
        return value


class Evidence(RequestModel):
    kind: Literal[EVIDENCE_KINDS]  # type: ignore[valid-type]
    sha256: Sha256
    storage_key: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None


class GrantTerms(RequestModel):
    """Everything a grant says except whom it is about."""

    granted_by: GrantedBy
    representation: Representation | None = None
    modalities: list[Modality] = Field(min_length=1, max_length=len(MODALITIES))
    operations: list[OperationName] = Field(min_length=1, max_length=len(OPERATIONS))
    purposes: list[Purpose] = Field(min_length=1, max_length=20)
    prohibited_uses: list[Code] = Field(default_factory=list, max_length=50)
    media_types: list[MediaType] = Field(min_length=1, max_length=len(MEDIA_TYPES))
    territories: list[Territory] = Field(min_length=1, max_length=250)
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    consent_timestamp: AwareDatetime | None = None
    compensation: Compensation | None = None
    training: Literal[TRAINING_TERMS] | None = None  # type: ignore[valid-type]
    evidence: list[Evidence] = Field(default_factory=list, max_length=50)
    requires_confirmation: bool = Field(
        default=False,
        description="Issue the grant as pending_confirmation: it covers no use until the "
        "person confirms it in the portal (POST /v1/subjects/{id}/invitations)",
    )


class GrantCreate(GrantTerms):
    subject_id: Annotated[str, Field(min_length=1, max_length=36)]


class GrantSupersede(GrantTerms):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class GrantRevoke(RequestModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    effect: Literal[REVOCATION_EFFECTS] = "stop_new_use"  # type: ignore[valid-type]


class GrantTransition(RequestModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Revocation(BaseModel):
    at: datetime
    reason: str
    effect: str


class GrantPublic(BaseModel):
    id: str
    subject_id: str
    subject_pseudonymous_id: str
    grantee_org_id: str
    granted_by: GrantedBy
    representation: Representation | None
    modalities: list[str]
    operations: list[str]
    purposes: list[Purpose]
    prohibited_uses: list[str]
    media_types: list[str]
    territories: list[str]
    valid_from: datetime
    valid_until: datetime
    consent_timestamp: datetime
    compensation: Compensation | None
    training: str
    evidence: list[Evidence]
    version: int
    supersedes: str | None
    superseded_by: str | None
    status: Literal[GRANT_STATUSES]  # type: ignore[valid-type]
    revoked_at: datetime | None
    revocation: Revocation | None
    confirmed_at: datetime | None = Field(
        default=None, description="When the person confirmed the grant in the portal"
    )
    token: str = Field(
        description="Compact JWS (ES256) over the grant's scope; verify with the JWKS"
    )
    token_sha256: str
    created_at: datetime


class GrantList(BaseModel):
    items: list[GrantPublic]
    next_cursor: str | None


class GrantStatus(BaseModel):
    """Public status of a grant: no personal data."""

    id: str
    status: Literal[GRANT_STATUSES]  # type: ignore[valid-type]
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    version: int


class GrantListQuery(PageQuery):
    subject_id: Annotated[str, Field(max_length=36)] | None = None
    status: Literal[GRANT_STATUSES] | None = None  # type: ignore[valid-type]
