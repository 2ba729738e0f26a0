"""A C2PA credential whose private key never leaves AWS KMS (or any KMS with its API).

c2pa builds the COSE structure and hands us the bytes to sign through a callback; we hash
them and ask KMS to sign the digest. KMS answers ES256 with a DER ``ECDSA-Sig-Value``; COSE
(RFC 9053) wants the raw ``r || s`` pair, so the callback converts. c2pa 0.38 happens to
accept DER too, but relying on that would tie us to a lenient reader.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from registry.keys.c2pa_credential import SigningCredentialError
from registry.keys.keyring import is_development_dir

log = logging.getLogger(__name__)

ES256_COORDINATE_BYTES = 32


class KmsSignClient(Protocol):
    """The one method of a boto3 KMS client we use (a local stand-in can provide it too)."""

    def sign(
        self, *, KeyId: str, Message: bytes, MessageType: str, SigningAlgorithm: str
    ) -> dict[str, Any]: ...


def der_to_raw_ecdsa(der: bytes) -> bytes:
    """Convert a DER ECDSA signature to fixed-width big-endian ``r || s`` (COSE / JWS form)."""
    try:
        r, s = decode_dss_signature(der)
    except ValueError as exc:
        raise SigningCredentialError("KMS returned a signature that is not DER ECDSA") from exc
    limit = 1 << (8 * ES256_COORDINATE_BYTES)
    if not (0 < r < limit and 0 < s < limit):
        raise SigningCredentialError("KMS returned a signature for a different curve")
    return r.to_bytes(ES256_COORDINATE_BYTES, "big") + s.to_bytes(ES256_COORDINATE_BYTES, "big")


@dataclass(frozen=True)
class KmsCredential:
    """A certificate chain (leaf first, PEM) whose leaf key is the KMS key ``key_id``."""

    cert_chain_pem: bytes
    key_id: str
    client: KmsSignClient = field(repr=False, compare=False)
    tsa_url: str | None = None
    is_development: bool = False

    def sign_digest_of(self, data: bytes) -> bytes:
        """The c2pa signing callback: ES256 over ``data``, returned as raw ``r || s``."""
        # Sending the digest keeps us under KMS's 4 KB RAW message limit for any manifest.
        digest = hashlib.sha256(data).digest()
        try:
            response = self.client.sign(
                KeyId=self.key_id,
                Message=digest,
                MessageType="DIGEST",
                SigningAlgorithm="ECDSA_SHA_256",
            )
        except Exception:
            # c2pa swallows callback exceptions into a bare failure; keep the cause in our log.
            log.exception("KMS signing failed for key %s", self.key_id)
            raise
        return der_to_raw_ecdsa(response["Signature"])


def load_kms_credential(
    *,
    cert_chain: Path,
    key_id: str,
    tsa_url: str | None = None,
    client: KmsSignClient | None = None,
) -> KmsCredential:
    """Load the chain for a KMS key; ``client`` defaults to boto3's KMS client."""
    try:
        chain_pem = cert_chain.read_bytes()
        x509.load_pem_x509_certificates(chain_pem)
    except (OSError, ValueError) as exc:
        raise SigningCredentialError(f"cannot load the C2PA certificate chain: {exc}") from exc
    if client is None:
        import boto3  # deferred: only deployments that sign with KMS pay for importing boto3

        client = boto3.client("kms")
    return KmsCredential(
        cert_chain_pem=chain_pem,
        key_id=key_id,
        client=client,
        tsa_url=tsa_url,
        is_development=is_development_dir(cert_chain.parent),
    )
