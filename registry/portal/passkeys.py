"""Passkeys (WebAuthn) with py_webauthn: the options a browser needs, and checking what it
answers. The relying party is the portal's origin (``REGISTRY_PORTAL_ORIGIN``, default the
public URL); a passkey is discoverable, so signing in needs no user name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from registry.portal.errors import PasskeyRejected

__all__ = ["NewPasskey", "RelyingParty", "base64url_to_bytes", "bytes_to_base64url"]


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url
    public_key: str  # base64url
    sign_count: int


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str
    name: str = "Consent Registry"

    @classmethod
    def for_origin(cls, origin: str) -> RelyingParty:
        origin = origin.rstrip("/")
        return cls(rp_id=urlsplit(origin).hostname or "localhost", origin=origin)

    def registration_options(self, *, user_handle: bytes, label: str) -> tuple[str, bytes]:
        """The options for ``navigator.credentials.create`` (JSON) and their challenge."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.name,
            user_id=user_handle,
            user_name=label,
            user_display_name=label,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
        )
        return options_to_json(options), options.challenge

    def verify_registration(self, credential: dict[str, Any], challenge: bytes) -> NewPasskey:
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                require_user_verification=True,
            )
        except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError) as exc:
            raise PasskeyRejected(f"the new passkey was not accepted: {exc}") from exc
        return NewPasskey(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
        )

    def authentication_options(self, allow: list[str] | None = None) -> tuple[str, bytes]:
        options = generate_authentication_options(
            rp_id=self.rp_id,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allow or []
            ],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return options_to_json(options), options.challenge

    def verify_authentication(
        self, credential: dict[str, Any], challenge: bytes, *, public_key: str, sign_count: int
    ) -> int:
        """The authenticator's new signature counter, or :class:`PasskeyRejected`."""
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=base64url_to_bytes(public_key),
                credential_current_sign_count=sign_count,
                require_user_verification=True,
            )
        except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError) as exc:
            raise PasskeyRejected(f"the passkey was not accepted: {exc}") from exc
        return int(verified.new_sign_count)
