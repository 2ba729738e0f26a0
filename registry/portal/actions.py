"""What a person does to their grants and declarations: the same services as the API
(``consent.services``, ``consent.declarations``), so the lifecycle, audit events, webhooks
and status lists follow exactly as when a studio acts. The actor is ``subject:<id>`` of the
profile the grant names, recorded in that studio's audit chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from registry.consent import declarations, services
from registry.consent.models import ConsentGrant, Subject
from registry.consent.schemas import GrantRevoke
from registry.consent.tokens import ConsentTokenSigner
from registry.consent.vocabulary import PENDING_CONFIRMATION, TRAINING_OPERATIONS
from registry.db import utcnow
from registry.portal import accounts
from registry.portal.accounts import PersonGrant
from registry.portal.plain_words import sentence


def actor(pg: PersonGrant) -> str:
    return f"subject:{pg.subject.id}"


def confirm(
    session: Session, pg: PersonGrant, *, person_id: str, signer: ConsentTokenSigner
) -> ConsentGrant:
    """Confirm a pending grant; the evidence hashes what the person saw and who they were."""
    statement = {
        "grant_id": pg.grant.id,
        "token_sha256": pg.grant.token_sha256,
        "subject": pg.subject.pseudonymous_id,
        "account": person_id,
        "shown": f"{pg.studio} may use {sentence(pg.grant, pg.subject)}",
        "method": "passkey session",
    }
    return services.confirm_grant(
        session,
        org_id=pg.grant.org_id,
        grant_id=pg.grant.id,
        signer=signer,
        actor=actor(pg),
        statement=statement,
    )


def decline(session: Session, pg: PersonGrant, *, reason: str) -> ConsentGrant:
    return services.decline_grant(
        session, org_id=pg.grant.org_id, grant_id=pg.grant.id, reason=reason, actor=actor(pg)
    )


def revoke(session: Session, pg: PersonGrant, *, reason: str, unpublish: bool) -> ConsentGrant:
    data = GrantRevoke(reason=reason, effect="unpublish" if unpublish else "stop_new_use")
    return services.revoke_grant(
        session, org_id=pg.grant.org_id, grant_id=pg.grant.id, data=data, actor=actor(pg)
    )


def suspend(session: Session, pg: PersonGrant, *, reason: str) -> ConsentGrant:
    return services.suspend_grant(
        session, org_id=pg.grant.org_id, grant_id=pg.grant.id, reason=reason, actor=actor(pg)
    )


@dataclass(frozen=True)
class Effect:
    """One consequence of a change of declarations, for the page to show before saving."""

    text: str
    grants: list[str]  # plain-words lines of the grants concerned


def effects(
    session: Session, mine: Sequence[Subject], *, have: set[str], wanted: set[str]
) -> list[Effect]:
    """What making ``wanted`` the declarations of the person whose profiles are ``mine``
    (``have``: theirs now, ``accounts.declared``) would change (nothing is written)."""
    now = utcnow()
    grants = accounts.person_grants(session, mine)
    live = [pg for pg in grants if pg.grant.effective_status(now) in ("active", "suspended")]

    def lines(items: list[PersonGrant]) -> list[str]:
        return [f"{pg.studio}: {sentence(pg.grant, pg.subject)}" for pg in items]

    found: list[Effect] = []
    if declarations.DO_NOT_SYNTHESIZE in wanted - have:
        found.append(Effect("No studio can issue a new grant for you.", []))
        pending = [pg for pg in grants if pg.grant.effective_status(now) == PENDING_CONFIRMATION]
        unconfirmed = [pg for pg in live if pg.grant.confirmed_at is None] + pending
        if unconfirmed:
            found.append(
                Effect(
                    "These grants you have not confirmed yourself can no longer be used to "
                    "make new media:",
                    lines(unconfirmed),
                )
            )
        confirmed = [pg for pg in live if pg.grant.confirmed_at is not None]
        if confirmed:
            found.append(
                Effect(
                    "These grants you confirmed stay in force until you withdraw them:",
                    lines(confirmed),
                )
            )
    if declarations.DO_NOT_TRAIN in wanted - have:
        found.append(
            Effect(
                "Every file signed from now on that cites your grants will state that AI "
                "training and data mining are not allowed, and no new grant may include "
                "training.",
                [],
            )
        )
        training = [pg for pg in live if TRAINING_OPERATIONS & set(pg.grant.operations)]
        if training:
            found.append(
                Effect("These grants include training; withdraw them to stop it:", lines(training))
            )
    for kind in sorted(have - wanted):
        word = kind.replace("_", "-")
        found.append(Effect(f"You withdraw your {word} declaration: studios may ask again.", []))
    return found


def declare(session: Session, person_id: str, wanted: set[str]) -> None:
    declarations.declare(session, accounts.profiles(session, person_id), wanted)
