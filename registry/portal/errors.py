"""Refusals of the portal and of invitations (each a problem with its own ``type``)."""

from __future__ import annotations

from registry.errors import BadRequest, Forbidden, NotFound, RegistryError, Unauthorized


class InvitationNotFound(NotFound):
    slug = "invitation-not-found"
    title = "No such invitation"


class InvitationExpired(RegistryError):
    status = 410
    slug = "invitation-expired"
    title = "The invitation has expired; ask the studio for a new one"


class InvitationUsed(RegistryError):
    status = 410
    slug = "invitation-used"
    title = "The invitation has been used already"


class InvitationUndeliverable(RegistryError):
    status = 502
    slug = "invitation-undeliverable"
    title = "The invitation email could not be handed to the mail server"


class EmailNotConfigured(RegistryError):
    status = 422
    slug = "invitation-email-not-configured"
    title = "This registry sends no email (no SMTP server is configured); omit email"


class CsrfRejected(Forbidden):
    slug = "csrf-token-invalid"
    title = "The form's CSRF token is missing or not valid; reload the page and try again"


class NotSignedIn(Unauthorized):
    slug = "portal-not-signed-in"
    title = "Sign in with your passkey first"

    def headers(self) -> dict[str, str]:
        return {}


class PasskeyRejected(BadRequest):
    slug = "passkey-rejected"
    title = "The passkey could not be verified"


class PortalGrantNotFound(NotFound):
    slug = "portal-grant-not-found"
    title = "No such grant among yours"
