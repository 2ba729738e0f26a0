"""Consent Registry: consent grants, C2PA labelling and verification for synthetic media."""

from __future__ import annotations

import logging

from flask import Flask

from registry.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application: the only place where the parts are wired together."""
    from registry import db, http_errors, ops
    from registry.audit import views as audit_views
    from registry.auth import views as auth_views
    from registry.consent import views as consent_views
    from registry.keys.keyring import KeyRing
    from registry.media import views as media_views
    from registry.verification import views as verification_views

    settings = settings or Settings()
    settings.check_production()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        REGISTRY_MAX_JSON_BYTES=settings.max_json_bytes,
    )
    app.extensions["registry.settings"] = settings

    keyring = KeyRing(keys_dir=settings.keys_dir)  # type: ignore[arg-type]
    if settings.env == "production" and keyring.is_development:
        from registry.settings import ConfigurationError

        raise ConfigurationError("refusing to start in production with development signing keys")
    app.extensions["registry.keyring"] = keyring

    database = db.Database(
        url=str(settings.database_url),
        pool_size=settings.database_pool_size,
        read_url=settings.database_read_url,
    )
    db.init_app(app, database)
    http_errors.init_app(app)
    _init_media(app, settings)
    blueprints = (
        ops.bp,
        auth_views.bp,
        consent_views.bp,
        audit_views.bp,
        media_views.bp,
        verification_views.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    _init_rate_limits(app, settings)

    if settings.env == "development":
        log.warning("Consent Registry is running in DEVELOPMENT mode (dev keys, local storage)")
    return app


def _init_media(app: Flask, settings: Settings) -> None:
    """Storage, the C2PA signing credential and the trust anchors of the verifier."""
    from registry.media.services import Signing
    from registry.settings import ConfigurationError
    from registry.signing_setup import load_signing_credential, trust_anchors
    from registry.storage import build_storage
    from registry.verification.services import Verifier

    credential = load_signing_credential(settings)
    if settings.env == "production" and credential.is_development:
        raise ConfigurationError("refusing to start in production with a development C2PA key")
    storage = build_storage(settings)
    app.extensions["registry.storage"] = storage
    app.extensions["registry.verifier"] = Verifier(
        trust_anchors_pem=trust_anchors(settings),
        allow_network=settings.verify_allow_network,
    )
    app.extensions["registry.signing"] = Signing(
        storage=storage,
        credential=credential,
        registry_url=str(settings.public_url),
        thumbnails=settings.c2pa_thumbnails,
        max_bytes=settings.max_upload_bytes,
        spool_dir=settings.data_dir / "spool",
    )


def _init_rate_limits(app: Flask, settings: Settings) -> None:
    """Anonymous verification is rate-limited per client address (storage: Redis in prod)."""
    from registry.ratelimit import AddressRateLimit

    app.extensions["registry.anonymous_verify_limit"] = AddressRateLimit(
        settings.anonymous_verify_rate,
        storage=settings.rate_limit_storage_uri,
        key_prefix=settings.rate_limit_key_prefix,
        scope="anonymous-verify",
    )
