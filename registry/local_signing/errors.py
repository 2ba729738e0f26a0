"""Refusals of signing sessions (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import Conflict, NotFound, RegistryError


class SigningSessionNotFound(NotFound):
    slug = "signing-session-not-found"
    title = "Signing session not found"


class SigningSessionExpired(RegistryError):
    status = 410
    slug = "signing-session-expired"
    title = "The signing session has expired; start a new one"


class SigningSessionUsed(Conflict):
    slug = "signing-session-used"
    title = "The signing session has signed already (one signature per session)"


class SourceHashRequired(RegistryError):
    status = 422
    slug = "source-hash-required"
    title = "Give the source's SHA-256 with the session or with the signature"


class SourceHashMismatch(RegistryError):
    status = 422
    slug = "source-hash-mismatch"
    title = "The source's SHA-256 differs from the one the session was opened with"


class NotAManifestToSign(RegistryError):
    """The bytes are not a C2PA manifest store of one manifest whose assertions hash to what
    its claim lists (``assertion`` names the one that does not)."""

    status = 422
    slug = "not-a-manifest-to-sign"
    title = "The bytes are not a consistent C2PA manifest store to sign"


class ClaimNotAsAuthorized(RegistryError):
    """The claim's assertions, signer, manifest label, title or generator differ from what the
    session authorized (``missing`` and ``unexpected`` list assertion labels)."""

    status = 422
    slug = "claim-not-as-authorized"
    title = "The claim does not carry what the signing session authorized"


class ClaimWithoutAiLabel(ClaimNotAsAuthorized):
    slug = "claim-without-ai-label"
    title = "The claim lacks the actions assertion that labels the media as AI-generated"


class ClaimWithoutHardBinding(ClaimNotAsAuthorized):
    slug = "claim-without-hard-binding"
    title = "The claim binds no content (no c2pa.hash.data, c2pa.hash.bmff or c2pa.hash.boxes)"


class FingerprintInvalid(RegistryError):
    status = 422
    slug = "fingerprint-invalid"
    title = "A fingerprint is not an ISCC Image- or Audio-Code unit"
