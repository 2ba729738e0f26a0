"""Consent tokens: a compact JWS (ES256) over a grant's scope, free of personal data.

Anyone can verify one offline with the registry's JWKS; ``jti`` is the grant id, so the
current status is one public request away (``GET /v1/grants/{jti}/status``). Tokens issued
since status lists exist also name their entry in one (``status.status_list``: ``idx`` and
``uri``, draft-ietf-oauth-status-list), which a relying party checks offline
(``registry.statuslist.offline``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import jwt

from registry.consent.models import ConsentGrant
from registry.keys.keyring import KeyRing
from registry.metrics import counted_token
from registry.statuslist.offline import CONSENT_TOKEN_TYPE
from registry.statuslist.publish import StatusListPublisher

__all__ = ["CONSENT_TOKEN_TYPE", "ConsentTokenSigner", "token_claims", "token_sha256"]


def token_sha256(token: str) -> str:
    """What a C2PA manifest records to bind a file to this exact grant."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_claims(
    grant: ConsentGrant,
    *,
    issuer: str,
    pseudonym: str,
    status_list: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of a grant's token: its scope and period, no names or free text, and its
    entry in a status list (``{"idx", "uri"}``) when it has one."""
    claims: dict[str, Any] = {
        "jti": grant.id,
        "iss": issuer,
        "sub": pseudonym,
        "iat": int(grant.created_at.timestamp()),
        "nbf": int(grant.valid_from.timestamp()),
        "exp": int(grant.valid_until.timestamp()),
        "grantee": grant.grantee_org_id,
        "ver": grant.version,
        "supersedes": grant.supersedes,
        "scope": {
            "modalities": sorted(grant.modalities),
            "operations": sorted(grant.operations),
            # Categories and project references only: descriptions may name people.
            "purposes": [
                {"category": p["category"], "project_ref": p.get("project_ref")}
                for p in grant.purposes
            ],
            "territories": sorted(grant.territories),
            "media_types": sorted(grant.media_types),
            "prohibited_uses": sorted(grant.prohibited_uses),
            "training": grant.training,
        },
    }
    if status_list is not None:
        claims["status"] = {"status_list": status_list}
    if grant.confirmed_at is not None:
        # The person confirmed these terms themselves (the portal), not only the studio.
        claims["confirmed"] = {"by": "subject", "at": int(grant.confirmed_at.timestamp())}
    return claims


@dataclass(frozen=True)
class ConsentTokenSigner:
    """Signs consent tokens with the keyring's active key; ``status_lists`` says where the
    tokens' status lists are published and how large new ones are."""

    keyring: KeyRing
    issuer: str
    status_lists: StatusListPublisher

    @counted_token("consent")
    def sign(self, grant: ConsentGrant, *, pseudonym: str, list_id: int, idx: int) -> str:
        key = self.keyring.active
        status_list = {"idx": idx, "uri": self.status_lists.uri(list_id)}
        return jwt.encode(
            token_claims(grant, issuer=self.issuer, pseudonym=pseudonym, status_list=status_list),
            key.private_key,
            algorithm="ES256",
            headers={"kid": key.kid, "typ": CONSENT_TOKEN_TYPE},
        )
