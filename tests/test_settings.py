"""Settings: typed, read from REGISTRY_* when the app is built, strict in production."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import registry
from registry import create_app
from registry.keys.keyring import init_keys
from registry.settings import (
    DEFAULT_PROMPT_SECRET,
    DEFAULT_SECRET_KEY,
    DEFAULT_WATERMARK_SECRET,
    ConfigurationError,
    Settings,
)

POSTGRES_URL = "postgresql+psycopg://registry@db.internal:5432/registry"
STRONG_SECRET = "s" * 48


@pytest.fixture(autouse=True)
def no_registry_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test states its settings; nothing leaks in from the shell running the suite."""
    for name in list(os.environ):
        if name.startswith("REGISTRY_"):
            monkeypatch.delenv(name)


def production(tmp_path: Path, **overrides: Any) -> Settings:
    """Production settings that pass every check, except what ``overrides`` changes."""
    values: dict[str, Any] = {
        "env": "production",
        "data_dir": tmp_path / "data",
        "database_url": POSTGRES_URL,
        "secret_key": STRONG_SECRET,
        "watermark_secret": "w" * 48,
        "prompt_secret": "p" * 48,
        "c2pa_cert_chain": tmp_path / "chain.pem",
        "c2pa_private_key": tmp_path / "key.pem",
        **overrides,
    }
    return Settings(**values, _env_file=None)  # type: ignore[call-arg]


def test_complete_production_settings_pass_the_production_check(tmp_path: Path) -> None:
    production(tmp_path).check_production()


def test_production_accepts_a_kms_key_as_the_c2pa_credential(tmp_path: Path) -> None:
    production(
        tmp_path, c2pa_cert_chain=None, c2pa_private_key=None, c2pa_kms_key_id="arn:aws:kms:key"
    ).check_production()


def test_production_refuses_the_default_secret_key(tmp_path: Path) -> None:
    settings = production(tmp_path, secret_key=DEFAULT_SECRET_KEY)

    with pytest.raises(ConfigurationError, match="REGISTRY_SECRET_KEY"):
        settings.check_production()


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    settings = production(tmp_path, secret_key="too-short")

    with pytest.raises(ConfigurationError, match="REGISTRY_SECRET_KEY"):
        settings.check_production()


def test_production_refuses_an_sqlite_database(tmp_path: Path) -> None:
    settings = production(tmp_path, database_url=f"sqlite:///{tmp_path / 'registry.db'}")

    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        settings.check_production()


def test_production_refuses_the_default_database_in_the_data_dir(tmp_path: Path) -> None:
    settings = production(tmp_path, database_url=None)

    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        settings.check_production()


def test_production_refuses_a_missing_c2pa_credential(tmp_path: Path) -> None:
    settings = production(tmp_path, c2pa_cert_chain=None, c2pa_private_key=None)

    with pytest.raises(ConfigurationError, match="C2PA credential"):
        settings.check_production()


def test_production_refuses_a_c2pa_chain_without_its_private_key(tmp_path: Path) -> None:
    settings = production(tmp_path, c2pa_private_key=None)

    with pytest.raises(ConfigurationError, match="C2PA credential"):
        settings.check_production()


def test_production_refusal_lists_every_problem_at_once(tmp_path: Path) -> None:
    settings = Settings(env="production", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]

    with pytest.raises(ConfigurationError) as refused:
        settings.check_production()

    message = str(refused.value)
    assert "REGISTRY_SECRET_KEY" in message
    assert "PostgreSQL" in message
    assert "C2PA credential" in message


def test_development_accepts_the_defaults(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, _env_file=None).check_production()  # type: ignore[call-arg]


def test_create_app_refuses_production_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "production")
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path))

    with pytest.raises(ConfigurationError, match="refusing to start in production"):
        create_app()


def test_create_app_in_production_refuses_development_signing_keys(tmp_path: Path) -> None:
    settings = production(tmp_path)
    init_keys(settings.keys_dir, development=True)  # type: ignore[arg-type]
    assert (settings.keys_dir / "jwt" / "DEVELOPMENT-ONLY").exists()  # type: ignore[operator]

    with pytest.raises(ConfigurationError, match="development signing keys"):
        create_app(settings)


def test_settings_are_read_from_registry_prefixed_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGISTRY_MAX_UPLOAD_BYTES", "1024")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.data_dir == tmp_path
    assert settings.max_upload_bytes == 1024
    assert settings.database_url == f"sqlite:///{(tmp_path / 'registry.db').as_posix()}"
    assert settings.keys_dir == tmp_path / "keys"


def test_public_verify_defaults_on_in_development_and_off_in_production(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, _env_file=None).public_verify is True  # type: ignore[call-arg]
    assert production(tmp_path).public_verify is False


def test_access_token_lifetime_above_one_hour_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, access_token_ttl_seconds=7200, _env_file=None)  # type: ignore[call-arg]


def test_unknown_environment_name_is_refused_when_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "bogus")

    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_importing_the_package_does_not_read_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "bogus")

    reloaded = importlib.reload(registry)

    assert callable(reloaded.create_app)


def test_importing_every_module_does_not_read_settings(tmp_path: Path) -> None:
    # A fresh interpreter, so that modules imported earlier in this run prove nothing.
    script = (
        "import pkgutil, importlib, registry\n"
        "for m in pkgutil.walk_packages(registry.__path__, 'registry.'):\n"
        "    if m.name != 'registry.wsgi':  # the WSGI entry point builds the app by design\n"
        "        importlib.import_module(m.name)\n"
    )
    env = {**os.environ, "REGISTRY_ENV": "bogus", "REGISTRY_DATA_DIR": str(tmp_path / "no")}

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-to-32-or-more-random-characters",
        "CHANGEME-" + "x" * 32,
        "placeholder-" + "x" * 32,
        "replace_me_" + "x" * 32,
        "an-example-secret-" + "x" * 32,
    ],
)
def test_production_refuses_a_placeholder_secret_key(tmp_path: Path, secret: str) -> None:
    settings = production(tmp_path, secret_key=secret)

    with pytest.raises(ConfigurationError, match="REGISTRY_SECRET_KEY"):
        settings.check_production()


@pytest.mark.parametrize(
    "secret",
    [DEFAULT_WATERMARK_SECRET, "w" * 31, "change-me-to-32-or-more-random-characters"],
)
def test_production_refuses_a_weak_watermark_secret(tmp_path: Path, secret: str) -> None:
    settings = production(tmp_path, watermark_secret=secret)

    with pytest.raises(ConfigurationError, match="REGISTRY_WATERMARK_SECRET") as refused:
        settings.check_production()
    assert "REGISTRY_SECRET_KEY" not in str(refused.value)


def test_production_accepts_a_watermark_secret_of_32_characters(tmp_path: Path) -> None:
    production(tmp_path, watermark_secret="w" * 32).check_production()


@pytest.mark.parametrize(
    "secret", [DEFAULT_PROMPT_SECRET, "p" * 31, "replace-me-with-32-or-more-random-characters"]
)
def test_production_refuses_a_weak_prompt_secret(tmp_path: Path, secret: str) -> None:
    settings = production(tmp_path, prompt_secret=secret)

    with pytest.raises(ConfigurationError, match="REGISTRY_PROMPT_SECRET") as refused:
        settings.check_production()
    assert "REGISTRY_WATERMARK_SECRET" not in str(refused.value)


def test_production_accepts_a_prompt_secret_of_32_characters(tmp_path: Path) -> None:
    production(tmp_path, prompt_secret="p" * 32).check_production()


def test_production_refuses_per_process_rate_limits_for_public_verification(
    tmp_path: Path,
) -> None:
    settings = production(tmp_path, public_verify=True, rate_limit_storage_uri="memory://")

    with pytest.raises(ConfigurationError, match="REGISTRY_RATE_LIMIT_STORAGE_URI"):
        settings.check_production()


def test_production_accepts_shared_rate_limits_or_no_public_verification(tmp_path: Path) -> None:
    production(
        tmp_path, public_verify=True, rate_limit_storage_uri="redis://127.0.0.1:6379/0"
    ).check_production()
    production(tmp_path, public_verify=False).check_production()


@pytest.mark.parametrize(("hops", "valid"), [(-1, False), (0, True), (5, True), (6, False)])
def test_proxy_hops_are_bounded(tmp_path: Path, hops: int, valid: bool) -> None:
    if valid:
        assert Settings(data_dir=tmp_path, proxy_hops=hops).proxy_hops == hops
    else:
        with pytest.raises(ValidationError, match="proxy_hops"):
            Settings(data_dir=tmp_path, proxy_hops=hops)


def test_private_webhook_urls_are_allowed_in_development_only(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, _env_file=None).webhook_allow_private_urls  # type: ignore[call-arg]
    assert not production(tmp_path).webhook_allow_private_urls
    settings = production(tmp_path, webhook_allow_private_urls=True)
    with pytest.raises(ConfigurationError, match="REGISTRY_WEBHOOK_ALLOW_PRIVATE_URLS"):
        settings.check_production()


def test_a_webhook_lease_must_outlive_an_attempt(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, webhook_timeout=15, webhook_lease_seconds=15.5, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="webhook_lease_seconds"):
        Settings(data_dir=tmp_path, webhook_timeout=15, webhook_lease_seconds=15, _env_file=None)  # type: ignore[call-arg]
