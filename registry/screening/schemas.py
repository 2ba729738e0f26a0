"""The screening answer: small, and without personal data for anyone but the asset's owner."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# How the file was recognised, cheapest first: the exact bytes the registry signed (manifest
# intact) or its unsigned source; a registry manifest found intact in the file (e.g. as the
# ingredient of a later edit); the invisible watermark; the fingerprints of the content.
MatchMethod = Literal["signed_hash", "source_hash", "manifest", "watermark", "fingerprint"]
# The consent behind a registered file now: the worst of its grants' (``unknown``: not
# registered, or a grant the registry does not hold).
ConsentNow = Literal[
    "in_force", "revoked", "suspended", "expired", "superseded", "out_of_scope", "unknown"
]


class ScreenMatch(BaseModel):
    method: MatchMethod
    alg: str | None = Field(description="The soft-binding algorithm, for watermark/fingerprint")
    similarity: float = Field(ge=0, le=1, description="1 for the methods that are exact")


class ScreenGrant(BaseModel):
    grant_id: str
    status_now: str


class ScreenAsset(BaseModel):
    """Only for a token of the organization that registered the asset."""

    id: str
    created_at: str
    grants: list[ScreenGrant]


class ScreenResult(BaseModel):
    registered: bool = Field(description="The registry signed this content")
    ai_generated: bool = Field(
        description="Registered (everything the registry signs is AI-generated), or labelled "
        "so by an intact C2PA manifest"
    )
    consent: ConsentNow
    manifest_id: str | None = Field(description="The registered manifest, for GET /manifests")
    match: ScreenMatch | None
    asset: ScreenAsset | None = None
    sha256: str
    mime_type: str
