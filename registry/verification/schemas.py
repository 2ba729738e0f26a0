"""The verification result: a verdict, its checks, and what the registry knows of the file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.consent.scope import GapReason

CheckName = Literal[
    "manifest_present",
    "integrity",
    "signer_trusted",
    "ai_label",
    "training_mining",
    "consent",
    "regulatory_eu",
    "regulatory_cn",
    "regulatory_ca_sb942",
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
    sha256: str
    source_sha256: str
    mime_type: str
    created_at: str
    generator: dict[str, str]


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
    recovered_from: Literal["source_hash", "signed_hash"] | None
    known_asset: KnownAsset | None = None
    takedown: Takedown | None = Field(
        default=None, description="Set when a takedown of this file was requested"
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
