"""The verification result: a verdict, its checks, and what the registry knows of the file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.consent.scope import GapReason
from registry.records.public import CreationDisclosure

CheckName = Literal[
    "manifest_present",
    "integrity",
    "signer_trusted",
    "ai_label",
    "training_mining",
    "consent",
    "declarations",  # only when a person the file cites has a declaration in force
    "regulatory_eu",
    "regulatory_cn",
    "regulatory_ca_sb942",
    "provenance",
]
Status = Literal["pass", "warn", "fail", "not_applicable"]
Verdict = Literal["pass", "warn", "fail"]


class Check(BaseModel):
    check: CheckName
    status: Status
    code: str = Field(description="Stable machine-readable reason, e.g. consent.revoked")
    message: str = Field(description="A sentence for a person")


class ManifestSummary(BaseModel):
    active_manifest: str | None
    signer: str | None
    signer_issuer: str | None
    signed_at: str | None = Field(description="From a timestamp authority, or the claimed time")
    generator: str | None
    digital_source_type: str | None
    claim_generator: str | None
    title: str | None


class GrantVerdict(BaseModel):
    grant_id: str
    status_now: str
    status_at_signing: str | None
    in_scope: bool
    scope_gap: GapReason | None = Field(
        default=None, description="Why the claimed use is outside the grant, if it is"
    )
    token_matches: bool
    status_url: str | None = None


class KnownAsset(BaseModel):
    id: str
    sha256: str | None = Field(description="Null for media signed without uploading")
    source_sha256: str
    mime_type: str
    created_at: str
    generator: dict[str, str]


class RecoveredGrant(BaseModel):
    grant_id: str
    status_now: str = Field(
        description="active, revoked, suspended, superseded, expired, not_yet_valid, or "
        "unknown for a grant no longer in the registry"
    )
    status_url: str


class RecoveredAsset(BaseModel):
    """A registered asset a file without intact credentials matched, and what its manifest
    says. No personal data: ``media_url`` only for the organization that signed it."""

    asset_id: str
    manifest_id: str = Field(description="The label of the manifest the registry signed")
    similarity: float = Field(
        description="1.0 for a watermark; 1 - distance/bits for a fingerprint; for video, the "
        "share of the file's frames that matched"
    )
    alg: str = Field(description="Soft-binding algorithm, e.g. io.iscc.v0")
    unit: str = Field(description="What matched: image, audio, video-frame or watermark")
    distance: int = Field(description="Hamming distance of the closest code")
    at_ms: int | None = Field(description="Where in the asset the closest frame lies (video)")
    ai_generated: bool = Field(description="What the registered manifest discloses")
    digital_source_type: str
    generator: dict[str, str]
    created_at: datetime
    manifest_url: str = Field(description="Download the registered manifest (application/c2pa)")
    media_url: str | None = Field(
        default=None, description="The signed file, for the organization that signed it"
    )
    consent_in_force: bool = Field(description="Every grant the asset cites is active now")
    grants: list[RecoveredGrant]


class Recovered(BaseModel):
    """How a file whose label was stripped or broken was recognised, and as what."""

    method: Literal["watermark", "fingerprint"]
    matches: list[RecoveredAsset]


class Takedown(BaseModel):
    """The registry asked for this file to be taken down (a grant it cited was revoked with
    the effect ``unpublish``)."""

    requested_at: datetime


class VerifyResult(BaseModel):
    verdict: Verdict
    summary: str
    labelled_ai_generated: bool
    checks: list[Check]
    manifest: ManifestSummary | None
    grants: list[GrantVerdict]
    recovered_from: Literal["source_hash", "signed_hash", "watermark", "fingerprint"] | None
    known_asset: KnownAsset | None = None
    recovered: Recovered | None = Field(
        default=None,
        description="Registered media this file matched by its watermark or fingerprints, "
        "when it carries no manifest (or a broken one) and its bytes are not known",
    )
    takedown: Takedown | None = Field(
        default=None, description="Set when a takedown of this file was requested"
    )
    creation: CreationDisclosure | None = Field(
        default=None,
        description="The generator's public inventory facts and what the people did",
    )
    sha256: str
    mime_type: str


class VerifyObjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    key: Annotated[str, Field(min_length=1, max_length=1024)]


VERIFY_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "contentMediaType": "application/octet-stream"}
                },
            }
        },
        "application/octet-stream": {
            "schema": {"type": "string", "contentMediaType": "application/octet-stream"},
        },
        "application/json": {"schema": {"$ref": "#/components/schemas/VerifyObjectRequest"}},
    },
}
