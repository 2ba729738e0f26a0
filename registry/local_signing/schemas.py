"""API shapes of signing sessions and of the media list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from registry.intake.sniff import SUPPORTED_MIME_TYPES
from registry.media.schemas import MediaAssetPublic, MediaMetadata, _Request

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Lowercase hex SHA-256")]
# A pipeline's manifest store is ~13 KiB: the claim, the assertions, the certificate chain and
# the space c2pa reserves for the signature (pipelines make no claim thumbnail). 46 KiB is
# ample, and its base64 fits in a JSON body of 64 KiB.
MAX_MANIFEST_STORE = 46 * 1024
MAX_FILE_BYTES = 2**53  # a declared size; the registry never holds the file


class SigningSessionRequest(MediaMetadata):
    """``POST /v1/signing-sessions``: the metadata of ``POST /v1/media`` and the file's facts."""

    mime_type: Literal[SUPPORTED_MIME_TYPES] = Field(  # type: ignore[valid-type]
        description="What the file is (the registry cannot sniff a file it never receives)"
    )
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="Bytes of the file to sign")
    source_sha256: Sha256 | None = Field(
        default=None,
        description="SHA-256 of the file to sign; here or with the signature (a pipeline may "
        "hash the file while c2pa signs it)",
    )
    fingerprints: list[
        Annotated[str, Field(min_length=10, max_length=80, pattern=r"^ISCC:[A-Z2-7]+$")]
    ] = Field(
        default_factory=list,
        max_length=16,
        description="ISCC Image- or Audio-Code units of the whole content "
        "(registry.provenance.fingerprints); they become c2pa.soft-binding assertions",
    )


class SigningSessionPublic(BaseModel):
    id: str
    media_id: str = Field(description="The asset the signature records")
    manifest_label: str
    manifest_definition: dict[str, Any] = Field(
        description="Give it to the c2pa Builder as it is: the claim must carry exactly "
        "these assertions, plus one hard binding"
    )
    certificate_chain: str = Field(description="The registry's C2PA chain, PEM, leaf first")
    alg: Literal["es256"] = "es256"
    mime_type: str
    size: int
    source_sha256: str | None
    created_at: datetime
    expires_at: datetime
    signed_at: datetime | None


class SignatureRequest(_Request):
    manifest: Annotated[
        str,
        Field(
            min_length=4,
            max_length=(MAX_MANIFEST_STORE * 4) // 3 + 4,
            pattern=r"^[A-Za-z0-9+/]*={0,2}$",
            description="Base64 of the manifest store c2pa built for the file (what "
            "`Builder.sign` returns), signed with a placeholder: the registry checks its "
            "claim and assertions and signs the claim",
        ),
    ]
    source_sha256: Sha256 | None = Field(
        default=None, description="SHA-256 of the source, if the session was opened without it"
    )


class SignatureResponse(BaseModel):
    signature: str = Field(description="Base64 of the ES256 signature (raw r || s, 64 bytes)")
    media: MediaAssetPublic
