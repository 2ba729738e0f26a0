"""Typed settings (environment prefix ``REGISTRY_``). Read in ``create_app``, never at import."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105 - refused in production
DEFAULT_WATERMARK_SECRET = "development-only-watermark-secret-change-me"  # noqa: S105 - refused too
DEFAULT_PROMPT_SECRET = "development-only-prompt-secret-change-me"  # noqa: S105 - refused too
# Words of example values (e.g. infra/compose.yaml's "change-me-to-32-or-more-...").
_PLACEHOLDER = re.compile(r"change[-_ ]?me|placeholder|example|replace[-_ ]?me", re.IGNORECASE)


def _in_data_dir(name: str) -> Callable[[dict[str, Any]], Path]:
    """A default under the data directory (``data`` lacks it only when it failed validation)."""
    return lambda data: Path(data.get("data_dir", "var")) / name


_DERIVED = frozenset(
    {
        "database_url",
        "public_url",
        "keys_dir",
        "storage_dir",
        "public_verify",
        "webhook_allow_private_urls",
    }
)


def _weak_secret(value: str, default: str) -> bool:
    """The development default, too short, or an example value."""
    return value == default or len(value) < 32 or bool(_PLACEHOLDER.search(value))


class ConfigurationError(RuntimeError):
    """Settings that must not be used in this environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    port: int = 8000
    # Fields whose default comes from another field read it from ``data``, the fields
    # validated before them (pydantic validates in declaration order).
    database_url: str = Field(
        default_factory=lambda data: f"sqlite:///{_in_data_dir('registry.db')(data).as_posix()}"
    )
    database_pool_size: int = 10
    # Public status reads may go to a read replica.
    database_read_url: str | None = None
    # PostgreSQL deadlines, in seconds (0: none). Connecting covers the whole handshake; the
    # statement and lock timeouts are enforced by the server and cancel only that statement
    # (a 503). Every lock the request path takes is held for milliseconds (the signing path
    # holds its grants only while it records the asset), so waiting 10 s means trouble.
    database_connect_timeout: int = Field(default=5, ge=0)
    database_statement_timeout: float = Field(default=30.0, ge=0)
    database_lock_timeout: float = Field(default=10.0, ge=0)
    secret_key: str = DEFAULT_SECRET_KEY
    # The key of the invisible watermark embedded in signed images is an HMAC of the asset id
    # under this secret (registry/provenance/watermark.py): whoever knows it can forge a mark
    # that the registry would recognise. Changing it leaves marks already embedded unreadable
    # as keys (their fingerprints still match).
    watermark_secret: str = DEFAULT_WATERMARK_SECRET
    # Prompt text a studio asks to keep is encrypted (AES-256-GCM) under a key derived from
    # this secret (registry/records/prompts.py); losing it loses the text, never the digests.
    prompt_secret: str = DEFAULT_PROMPT_SECRET

    # Identity of the service in tokens and manifests.
    issuer: str = "http://127.0.0.1:8000"
    audience: str = "consent-registry"
    # Where manifests and consent assertions point (the issuer unless it differs).
    public_url: str = Field(default_factory=lambda data: data.get("issuer", ""))
    access_token_ttl_seconds: int = Field(default=3600, ge=60, le=3600)
    keys_dir: Path = Field(default_factory=_in_data_dir("keys"))

    # Media storage.
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path = Field(default_factory=_in_data_dir("blobs"))
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_create_bucket: bool = True
    s3_multipart_threshold_bytes: int = 16 * 1024 * 1024
    s3_presign_seconds: int = 900
    # botocore's deadlines: connecting, and each socket read or write (not a whole transfer:
    # a large upload goes on as long as bytes move). A call is tried at most max_attempts
    # times, so a store that stops answering fails a call (503) after about
    # max_attempts * read_timeout seconds, plus 1 s per try of an upload (botocore waits
    # that long for "100 Continue").
    s3_connect_timeout: float = Field(default=3.0, gt=0)
    s3_read_timeout: float = Field(default=10.0, gt=0)
    s3_max_attempts: int = Field(default=2, ge=1)

    # C2PA signing credential.
    c2pa_cert_chain: Path | None = None
    c2pa_private_key: Path | None = None
    c2pa_kms_key_id: str | None = None
    c2pa_tsa_url: str | None = None
    c2pa_thumbnails: bool = False
    # Signing sessions (media signed where it lives): how long one stays open; a large file
    # gets more, since its pipeline hashes all of it before c2pa asks for the signature.
    signing_session_seconds: int = Field(default=300, ge=10, le=3600)
    signing_session_seconds_per_gib: int = Field(default=60, ge=0, le=3600)
    trust_anchors: Path | None = None

    # Anonymous verification (rate-limited): on in development, off in production.
    public_verify: bool = Field(default_factory=lambda data: data.get("env") == "development")
    # Remote manifests and OCSP are fetched only when an operator allows it.
    verify_allow_network: bool = False
    rate_limit_storage_uri: str = "memory://"
    rate_limit_key_prefix: str = "registry"
    anonymous_verify_rate: str = "30/minute"
    # How many proxies in front of the service append to X-Forwarded-For (nginx of
    # docs/deployment.md: 1). Their entries give the client's address (per-address limits);
    # 0 trusts no such header, since a client can send it itself.
    proxy_hops: int = Field(default=0, ge=0, le=5)
    # Anonymous verification also spends bytes and c2pa time, per address and minute: the body's
    # Content-Length is checked (and charged) before it is read, the helper's c2pa CPU seconds
    # after the call. One body larger than the byte budget is a 413.
    anonymous_verify_bytes_per_minute: int = Field(default=512 * 1024 * 1024, gt=0)
    anonymous_verify_c2pa_seconds_per_minute: float = Field(default=20.0, gt=0)
    # At most this many anonymous verifications at once per worker process (the rest get a
    # 429 at once), so that they never hold all its threads (REGISTRY_THREADS: 8).
    anonymous_verify_concurrency: int = Field(default=4, ge=1)
    # Each c2pa call runs in a helper process (registry/c2pa/budget.py), at most c2pa_workers at
    # once per worker process, within c2pa_seconds + c2pa_seconds_per_gib per GiB of its file
    # (wall clock) and an address space of c2pa_memory_mb + c2pa_memory_per_byte x its size.
    c2pa_workers: int = Field(default=4, ge=1)
    c2pa_seconds: float = Field(default=5.0, gt=0)
    c2pa_seconds_per_gib: float = Field(default=60.0, ge=0)
    # The fixed part for watermarking and fingerprinting calls (they decode the media).
    provenance_seconds: float = Field(default=30.0, gt=0)
    c2pa_memory_mb: int = Field(default=512, gt=0)
    c2pa_memory_per_byte: float = Field(default=8.0, ge=0)
    max_upload_bytes: int = 2 * 1024 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    # Request bodies (registry/body_deadline.py): each read waits at most this many seconds
    # for the next bytes, and the whole body must arrive within that plus its length at
    # body_min_rate bytes per second (0: no whole-body deadline).
    body_read_timeout: float = Field(default=30.0, gt=0)
    body_min_rate: int = Field(default=16 * 1024, ge=0)
    # /readyz answers within this many seconds, whatever its dependencies do.
    readiness_timeout: float = Field(default=0.8, gt=0)
    # Token Status Lists (draft-ietf-oauth-status-list) of consent tokens: entries in a new
    # list (a multiple of 8; a list takes grants up to half its size, the rest are decoys),
    # the list token's ``ttl`` (how long a relying party may use a fetched list before fetching
    # it again) and its validity (``exp - iat``: how long an offline copy may be relied on).
    status_list_size: int = Field(default=1 << 20, ge=8, multiple_of=8)
    status_list_ttl_seconds: int = Field(default=300, gt=0)
    status_list_validity_seconds: int = Field(default=86400, ge=60)

    # Operations (docs/operations.md). Logs: one JSON object per line, or readable text
    # (`make run`); gunicorn reads the same variables (infra/gunicorn.conf.py).
    log_format: Literal["json", "text"] = "json"
    log_level: str = "info"
    # /metrics needs "Authorization: Bearer <metrics_token>" when set; unset, it is open in
    # development and absent (404) in production, where REGISTRY_METRICS_BIND serves it on a
    # port of its own instead. The webhook worker serves its own metrics on
    # worker_metrics_bind (host:port) when set.
    metrics_token: str | None = None
    # Off: no per-request timing hooks and no /metrics route (benchmarks/instrumentation.py
    # measures the difference).
    metrics_enabled: bool = True
    worker_metrics_bind: str | None = None

    # Webhooks (registry/webhooks): endpoint URLs resolving to loopback, private or link-local
    # addresses are allowed only in development (checked at creation and at each delivery).
    webhook_allow_private_urls: bool = Field(
        default_factory=lambda data: data.get("env") == "development"
    )
    # One attempt's deadline (the spec recommends 15-30 s); a worker's claim on a delivery
    # (its lease) outlives it, after which a worker that died is replaced by another.
    webhook_timeout: float = Field(default=15.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    # Retries back off exponentially (with jitter) for at least this long, then give up; an
    # endpoint failing without a success for webhook_disable_after_hours is disabled.
    webhook_retry_hours: float = Field(default=24.0, gt=0)
    webhook_disable_after_hours: float = Field(default=72.0, gt=0)
    # The worker: deliveries at once, how often it looks for due work when idle, and how
    # often the expiry job runs.
    worker_concurrency: int = Field(default=8, ge=1)
    worker_poll_seconds: float = Field(default=0.2, gt=0)
    worker_expiry_seconds: float = Field(default=30.0, gt=0)

    # The portal (registry/portal): invitation links are valid this long (a studio may ask for
    # less); invitation emails go through this SMTP server (no host: links are only returned
    # to the studio). Passkeys are bound to portal_origin's host (default: public_url).
    invitation_ttl_hours: int = Field(default=72, ge=1, le=720)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Consent Registry <no-reply@localhost>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = Field(default=10.0, gt=0)
    portal_origin: str | None = None
    # Per client address: invitation pages and passkey registrations, and sign-in attempts.
    portal_invitation_rate: str = "20/minute"
    portal_signin_rate: str = "20/minute"
    portal_session_hours: int = Field(default=12, ge=1, le=720)

    @model_validator(mode="before")
    @classmethod
    def _none_means_default(cls, data: Any) -> Any:
        """An explicit None for a derived field asks for its default, as leaving it out does."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k in _DERIVED)}
        return data

    @model_validator(mode="after")
    def _lease_outlives_attempt(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout:
            raise ValueError("webhook_lease_seconds must be longer than webhook_timeout")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_production(self) -> None:
        """Refuse development-only settings when ``env`` is production."""
        if self.env != "production":
            return
        problems = [
            f"REGISTRY_{name.upper()} must be set to a secret of 32+ characters"
            for name, default in (
                ("secret_key", DEFAULT_SECRET_KEY),
                ("watermark_secret", DEFAULT_WATERMARK_SECRET),
                ("prompt_secret", DEFAULT_PROMPT_SECRET),
            )
            if _weak_secret(getattr(self, name), default)
        ]
        if self.public_verify and self.rate_limit_storage_uri.startswith("memory://"):
            problems.append(
                "REGISTRY_RATE_LIMIT_STORAGE_URI must be shared storage (redis://...) when "
                "REGISTRY_PUBLIC_VERIFY is on: memory:// counts per worker process"
            )
        if self.webhook_allow_private_urls:
            problems.append(
                "REGISTRY_WEBHOOK_ALLOW_PRIVATE_URLS must be off: webhooks to loopback, private "
                "or link-local addresses are refused in production"
            )
        if self.is_sqlite:
            problems.append("REGISTRY_DATABASE_URL must point at PostgreSQL, not SQLite")
        if not (self.c2pa_kms_key_id or (self.c2pa_cert_chain and self.c2pa_private_key)):
            problems.append(
                "a production C2PA credential is required "
                "(REGISTRY_C2PA_CERT_CHAIN + REGISTRY_C2PA_PRIVATE_KEY, "
                "or REGISTRY_C2PA_KMS_KEY_ID)"
            )
        if problems:
            raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
