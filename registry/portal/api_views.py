"""The studio's side of the portal over the API: invite a subject."""

from __future__ import annotations

from flask import Blueprint

from registry.api import Rendered, operation
from registry.auth.models import Organization
from registry.auth.principal import Principal
from registry.db import get_session
from registry.portal import invitations
from registry.portal.errors import EmailNotConfigured
from registry.portal.schemas import InvitationCreate, InvitationPublic
from registry.state import app_state

bp = Blueprint("portal_api", __name__)


@bp.post("/v1/subjects/<subject_id>/invitations")
@operation(
    summary="Invite a subject to the portal (a single-use, expiring link)",
    tags=["subjects"],
    body=InvitationCreate,
    response=InvitationPublic,
    status=201,
    scopes=["grants:write"],
    errors=(400, 401, 403, 404, 413, 415, 422, 502),
    description="The link lets the person (or whoever grants for them) create a passkey "
    "account, see the grants in their name, confirm, decline or withdraw them. With `email`, "
    "the registry also sends it through its SMTP server (REGISTRY_SMTP_HOST); the address is "
    "not stored. The link is shown once.",
)
def invite_subject(principal: Principal, subject_id: str, body: InvitationCreate) -> Rendered:
    portal = app_state().portal
    if body.email and portal.mailer is None:
        raise EmailNotConfigured("this registry has no SMTP server (REGISTRY_SMTP_HOST)")
    session = get_session()
    invitation, url = invitations.create_invitation(
        session,
        org_id=principal.org_id,
        subject_id=subject_id,
        actor=principal.actor,
        base_url=portal.public_url,
        ttl_hours=body.expires_in_hours or portal.invitation_ttl_hours,
        emailed=body.email is not None,
    )
    if body.email and portal.mailer is not None:
        # Before the commit: an email that cannot be handed over leaves no invitation.
        studio = session.get(Organization, principal.org_id)
        portal.mailer.send_invitation(
            to=body.email,
            studio=studio.name if studio else "A studio",
            url=url,
            expires=f"{invitation.expires_at:%d %b %Y %H:%M} UTC",
        )
    public = InvitationPublic(
        id=invitation.id,
        subject_id=invitation.subject_id,
        url=url,
        expires_at=invitation.expires_at,
        emailed=body.email is not None,
    )
    return Rendered(public, headers={"Cache-Control": "no-store"})
