"""The portal's parts, built once per app from the settings (``AppState.portal``)."""

from __future__ import annotations

from dataclasses import dataclass

from registry.portal.mailer import Mailer
from registry.portal.passkeys import RelyingParty
from registry.ratelimit import AddressRateLimit
from registry.settings import Settings


@dataclass(frozen=True)
class Portal:
    relying_party: RelyingParty
    # Per client address: invitation pages and passkey registrations; sign-in attempts.
    invitation_limit: AddressRateLimit
    signin_limit: AddressRateLimit
    mailer: Mailer | None  # None: no SMTP server configured, links are only returned
    invitation_ttl_hours: int
    public_url: str

    @classmethod
    def build(cls, settings: Settings) -> Portal:
        def limit(rate: str, scope: str) -> AddressRateLimit:
            return AddressRateLimit(
                rate,
                storage=settings.rate_limit_storage_uri,
                key_prefix=settings.rate_limit_key_prefix,
                scope=scope,
                refusal="from one address",
                advice="wait a minute and try again",
            )

        mailer = None
        if settings.smtp_host:
            mailer = Mailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=settings.smtp_password,
                timeout=settings.smtp_timeout,
            )
        origin = settings.portal_origin or settings.public_url
        return cls(
            relying_party=RelyingParty.for_origin(origin),
            invitation_limit=limit(settings.portal_invitation_rate, "portal-invitation"),
            signin_limit=limit(settings.portal_signin_rate, "portal-signin"),
            mailer=mailer,
            invitation_ttl_hours=settings.invitation_ttl_hours,
            public_url=origin.rstrip("/"),
        )
