"""Organizations, API clients and the client-credentials exchange."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from registry.audit.services import record_event
from registry.auth.errors import ClientAuthenticationFailed, InvalidScope
from registry.auth.models import ApiClient, Organization
from registry.db import Database, utcnow
from registry.errors import InvalidToken
from registry.ids import new_token

SCOPES = (
    "grants:read",
    "grants:write",
    "media:sign",
    "verify",
    "audit:read",
    "webhooks",  # manage webhook endpoints, read their delivery logs and events
    "watch",  # watch media and receive (and acknowledge) takedown notices
    "generators",  # change the inventory of generators (AI tools) signing may cite
)
# Compared against when the client id is unknown, so both paths take the same time.
_DUMMY_HASH = hashlib.sha256(b"no such client").hexdigest()


def hash_secret(secret: str) -> str:
    """SHA-256 of a client secret.

    Secrets are 256 random bits, so a fast hash is enough; a slow KDF protects low-entropy
    passwords and would only slow the token endpoint down here.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def create_organization(session: Session, *, name: str, actor: str) -> Organization:
    """A new tenant."""
    org = Organization(name=name)
    session.add(org)
    session.flush()
    record_event(
        session,
        org_id=org.id,
        actor=actor,
        action="organization.created",
        object_type="organization",
        object_id=org.id,
        payload={"name": name},
    )
    return org


def parse_scopes(text: str) -> frozenset[str]:
    """Validate a space-separated scope list."""
    scopes = frozenset(text.split())
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise InvalidScope(f"unknown scope(s): {' '.join(unknown)}; known: {' '.join(SCOPES)}")
    if not scopes:
        raise InvalidScope("at least one scope is required")
    return scopes


def create_client(
    session: Session, *, org_id: str, scopes: frozenset[str], name: str, actor: str
) -> tuple[ApiClient, str]:
    """A new API client and its secret; the secret is never stored and never shown again."""
    if session.get(Organization, org_id) is None:
        raise LookupError(f"no organization {org_id}")
    secret = new_token("crs", 32)
    client = ApiClient(
        client_id=new_token("crc", 16),
        secret_hash=hash_secret(secret),
        org_id=org_id,
        name=name,
        scopes=" ".join(sorted(scopes)),
    )
    session.add(client)
    session.flush()
    record_event(
        session,
        org_id=org_id,
        actor=actor,
        action="client.created",
        object_type="api_client",
        object_id=client.client_id,
        payload={"scopes": client.scopes, "name": name},
    )
    return client, secret


def authenticate_client(session: Session, *, client_id: str, client_secret: str) -> ApiClient:
    """The enabled client with these credentials, checked in constant time."""
    client = session.scalars(
        sa.select(ApiClient).where(col(ApiClient.client_id) == client_id)
    ).one_or_none()
    expected = client.secret_hash if client is not None else _DUMMY_HASH
    matches = hmac.compare_digest(expected, hash_secret(client_secret))
    if client is None or not matches or client.disabled_at is not None:
        raise ClientAuthenticationFailed()
    return client


# One indexed read per authenticated request (``Database.read``: on PostgreSQL a prepared
# statement on the thread's own connection, ~60 us of CPU).
CLIENT_STATE_QUERY = sa.select(col(ApiClient.disabled_at)).where(
    col(ApiClient.client_id) == sa.bindparam("client_id")
)


def check_client_enabled(database: Database, *, client_id: str) -> None:
    """Refuse a token whose client was disabled or deleted since the token was issued."""
    row = database.read(CLIENT_STATE_QUERY, {"client_id": client_id})
    if row is None or row["disabled_at"] is not None:
        raise InvalidToken("the client this access token was issued to is disabled")


def disable_client(session: Session, *, client_id: str, actor: str) -> ApiClient:
    """Disable a client: its secret and every token issued to it stop working at once."""
    client = session.scalars(
        sa.select(ApiClient).where(col(ApiClient.client_id) == client_id)
    ).one_or_none()
    if client is None:
        raise LookupError(f"no client {client_id}")
    if client.disabled_at is None:
        client.disabled_at = utcnow()
        record_event(
            session,
            org_id=client.org_id,
            actor=actor,
            action="client.disabled",
            object_type="api_client",
            object_id=client.client_id,
        )
    return client


def grantable_scopes(client: ApiClient, requested: str | None) -> frozenset[str]:
    """The scopes to put in the token: all of the client's, or the requested subset."""
    if not requested:
        return client.scope_set
    wanted = frozenset(requested.split())
    extra = sorted(wanted - client.scope_set)
    if extra:
        raise InvalidScope(f"the client may not request: {' '.join(extra)}")
    return wanted


def first_client(session: Session) -> ApiClient | None:
    return session.scalars(
        sa.select(ApiClient).order_by(col(ApiClient.created_at)).limit(1)
    ).first()
