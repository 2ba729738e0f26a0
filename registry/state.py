"""Typed access to what ``create_app`` builds: one ``AppState`` per app.

Views call ``app_state()``; code holding the app (tests, the CLI, benchmarks) calls
``state_of(app)``. Services never do: they take what they need as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from registry.consent.tokens import ConsentTokenSigner
    from registry.db import Database
    from registry.intake.receiver import Intake
    from registry.keys.checkpoint_key import CheckpointKey
    from registry.keys.keyring import KeyRing
    from registry.media.services import Signing
    from registry.ops import Readiness
    from registry.portal.setup import Portal
    from registry.ratelimit import AddressRateLimit, AnonymousVerifyCost
    from registry.settings import Settings
    from registry.statuslist.publish import StatusListPublisher
    from registry.storage import BlobStorage
    from registry.verification.services import Verifier

EXTENSION = "registry"


@dataclass
class AppState:
    """The parts of one app, wired together by ``create_app``."""

    settings: Settings
    keyring: KeyRing
    database: Database
    storage: BlobStorage
    intake: Intake
    signing: Signing
    verifier: Verifier
    anonymous_verify_limit: AddressRateLimit
    # Signs the audit log's checkpoints (Ed25519, C2SP signed notes).
    checkpoint_key: CheckpointKey
    anonymous_verify_cost: AnonymousVerifyCost  # bytes and c2pa time per address
    readiness: Readiness  # what /readyz checks, each within its deadline
    status_lists: StatusListPublisher  # the signed status lists of consent tokens
    consent_signer: ConsentTokenSigner  # signs consent tokens (keyring, issuer, status lists)
    portal: Portal  # the person's portal: passkeys, its limits, the mailer
    # Built on first request of /openapi.json (it walks every route once).
    openapi_document: dict[str, Any] | None = field(default=None, repr=False)


def state_of(app: Flask) -> AppState:
    """The state of ``app``."""
    state: AppState = app.extensions[EXTENSION]
    return state


def app_state() -> AppState:
    """The state of the app handling the current request or CLI command."""
    return state_of(current_app)
