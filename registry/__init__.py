"""Consent Registry: consent grants, C2PA labelling and verification for synthetic media."""

from __future__ import annotations

import logging
import math

from flask import Flask

from registry.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application: the only place where the parts are wired together."""
    from registry import db, headers, http_errors, metrics_http, ops, request_ids, tracing
    from registry.audit import views as audit_views
    from registry.audit.checkpoints import log_name
    from registry.auth import views as auth_views
    from registry.c2pa import budget
    from registry.consent import views as consent_views
    from registry.consent.tokens import ConsentTokenSigner
    from registry.errors import ServiceUnavailable
    from registry.generators import views as generators_views
    from registry.intake.receiver import Intake
    from registry.keys.checkpoint_key import init_checkpoint_key, load_checkpoint_key
    from registry.keys.configured import load_signing_credential, trust_anchors
    from registry.keys.keyring import KeyRing
    from registry.local_signing import views as local_signing_views
    from registry.media import views as media_views
    from registry.media.services import Signing
    from registry.portal import api_views as portal_api_views
    from registry.portal import views as portal_views
    from registry.portal.setup import Portal
    from registry.ratelimit import AddressCostLimit, AddressRateLimit, AnonymousVerifyCost
    from registry.records import views as records_views
    from registry.records.prompts import prompt_key
    from registry.screening import views as screening_views
    from registry.settings import ConfigurationError
    from registry.softbinding_api import views as softbinding_views
    from registry.state import EXTENSION, AppState, state_of
    from registry.statuslist import views as statuslist_views
    from registry.statuslist.publish import StatusListPublisher
    from registry.storage import StorageUnavailable, build_storage
    from registry.verification import views as verification_views
    from registry.verification.services import Verifier
    from registry.watches import views as watches_views
    from registry.webhooks import views as webhooks_views

    settings = settings or Settings()
    settings.check_production()
    keyring = KeyRing(keys_dir=settings.keys_dir)
    if settings.env == "production" and keyring.is_development:
        raise ConfigurationError("refusing to start in production with development signing keys")
    credential = load_signing_credential(settings)
    if settings.env == "production" and credential.is_development:
        raise ConfigurationError("refusing to start in production with a development C2PA key")
    if settings.env != "production":
        init_checkpoint_key(settings.keys_dir)  # development: made on first start if missing
    checkpoint_key = load_checkpoint_key(settings.keys_dir, name=log_name(settings.issuer))
    if settings.env == "production" and checkpoint_key.is_development:
        raise ConfigurationError(
            "refusing to start in production with a development audit checkpoint key"
        )
    storage = build_storage(settings)

    app = Flask(__name__)
    # Flask's own settings, derived from ours: the session signing key, and the body size
    # werkzeug refuses before a view runs. Everything else is read from ``Settings``.
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=settings.max_upload_bytes)
    # The portal's session cookie (a person signed in with a passkey) and its CSRF tokens.
    app.config.update(
        SESSION_COOKIE_NAME="registry_portal",
        SESSION_COOKIE_SECURE=settings.env == "production",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.portal_session_hours * 3600,
    )
    database = db.Database(
        url=settings.database_url,
        pool_size=settings.database_pool_size,
        read_url=settings.database_read_url,
        deadlines=db.Deadlines(
            connect=settings.database_connect_timeout or None,
            statement=settings.database_statement_timeout or None,
            lock=settings.database_lock_timeout or None,
        ),
    )
    status_lists = StatusListPublisher(
        keyring=keyring,
        issuer=settings.issuer,
        base_url=settings.public_url,
        size=settings.status_list_size,
        ttl_seconds=settings.status_list_ttl_seconds,
        validity_seconds=settings.status_list_validity_seconds,
    )
    app.extensions[EXTENSION] = AppState(
        settings=settings,
        keyring=keyring,
        database=database,
        storage=storage,
        intake=Intake(
            spool_dir=settings.data_dir / "spool",
            max_bytes=settings.max_upload_bytes,
            storage=storage,
        ),
        signing=Signing(
            storage=storage,
            credential=credential,
            registry_url=settings.public_url,
            thumbnails=settings.c2pa_thumbnails,
            presign_seconds=settings.s3_presign_seconds,
            watermark_secret=settings.watermark_secret.encode(),
            prompt_key=prompt_key(settings.prompt_secret.encode()),
        ),
        verifier=Verifier(
            trust_anchors_pem=trust_anchors(settings),
            allow_network=settings.verify_allow_network,
        ),
        # Anonymous verification is rate-limited per client address (Redis in production).
        anonymous_verify_limit=AddressRateLimit(
            settings.anonymous_verify_rate,
            storage=settings.rate_limit_storage_uri,
            key_prefix=settings.rate_limit_key_prefix,
            scope="anonymous-verify",
        ),
        checkpoint_key=checkpoint_key,
        portal=Portal.build(settings),
        status_lists=status_lists,
        consent_signer=ConsentTokenSigner(keyring, settings.issuer, status_lists),
        readiness=ops.Readiness(
            {
                "the database": (database.ping, ServiceUnavailable),
                "media storage": (storage.check, StorageUnavailable),
            },
            timeout=settings.readiness_timeout,
        ),
        anonymous_verify_cost=AnonymousVerifyCost(
            upload_bytes=AddressCostLimit(
                settings.anonymous_verify_bytes_per_minute,
                unit="bytes",
                storage=settings.rate_limit_storage_uri,
                key_prefix=settings.rate_limit_key_prefix,
                scope="anonymous-verify-bytes",
            ),
            c2pa_milliseconds=AddressCostLimit(
                math.ceil(settings.anonymous_verify_c2pa_seconds_per_minute * 1000),
                unit="milliseconds of c2pa work",
                storage=settings.rate_limit_storage_uri,
                key_prefix=settings.rate_limit_key_prefix,
                scope="anonymous-verify-c2pa",
            ),
            concurrent=settings.anonymous_verify_concurrency,
        ),
    )
    # Every c2pa call runs in a helper process within a budget (registry/c2pa/budget.py); the
    # helpers start now, while the worker loads the rest.
    budget.configure(
        budget.Budget(
            seconds=settings.c2pa_seconds,
            seconds_per_gib=settings.c2pa_seconds_per_gib,
            provenance_seconds=settings.provenance_seconds,
            memory_bytes=settings.c2pa_memory_mb * 1024 * 1024,
            memory_per_byte=settings.c2pa_memory_per_byte,
            workers=settings.c2pa_workers,
        )
    )
    left_behind = state_of(app).intake.sweep()
    if left_behind:
        log.warning("removed %d spool directories of workers that died", len(left_behind))
    request_ids.init_app(app)
    if settings.metrics_enabled:
        metrics_http.init_app(app)
    db.init_app(app)
    http_errors.init_app(app)
    headers.init_app(app)
    blueprints = (
        ops.bp,
        auth_views.bp,
        consent_views.bp,
        audit_views.bp,
        media_views.bp,
        generators_views.bp,
        records_views.bp,
        local_signing_views.bp,
        verification_views.bp,
        screening_views.bp,
        softbinding_views.bp,
        statuslist_views.bp,
        webhooks_views.bp,
        watches_views.bp,
        portal_api_views.bp,
        portal_views.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    tracing.init_app(app, database)  # only when OTEL_* variables configure an exporter

    if settings.env == "development":
        log.warning("Consent Registry is running in DEVELOPMENT mode (dev keys, local storage)")
    return app
