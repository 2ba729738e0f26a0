"""`registry ...` for operators: database, keys, tenants, clients, status lists, the audit log."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from registry.keys.checkpoint_key import CheckpointKey


def _settings() -> Settings:
    return Settings()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A committing session; the engine is disposed after, so no connection outlives a command."""
    from registry.db import Database

    database = Database(url=settings.database_url)
    try:
        with database.session_scope() as session:
            yield session
    finally:
        database.dispose()


def _emit(data: dict[str, str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


# The commands defined in other modules of registry.cli, by module: pipeline (httpx, rich),
# worker, records.
_LAZY_COMMANDS = {
    "sign": "pipeline",
    "verify": "pipeline",
    "screen": "pipeline",
    "worker": "worker",
    "webhooks": "worker",
    "generators": "records",
    "record": "records",
}


class _RegistryGroup(click.Group):
    """The command group; the pipeline commands (httpx, rich) and the worker's load only when
    they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY_COMMANDS:
            module = importlib.import_module(f"registry.cli.{_LAZY_COMMANDS[cmd_name]}")
            command: click.Command = getattr(module, cmd_name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_RegistryGroup)
def main() -> None:
    """Consent Registry administration."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations."""
    from registry import migrate

    settings = _settings()
    migrate.upgrade(str(settings.database_url), revision)
    click.echo(f"database at revision {revision}")


@main.group()
def keys() -> None:
    """Signing keys."""


@keys.command("init")
def keys_init() -> None:
    """Create development keys under the data directory if there are none."""
    from registry.keys.keyring import init_keys

    settings = _settings()
    kid = init_keys(settings.keys_dir, development=settings.env != "production")
    click.echo(f"created token signing key {kid}" if kid else "token signing keys present")
    _init_checkpoint_key(settings)
    _init_c2pa_credential(settings)


def _init_checkpoint_key(settings: Settings) -> None:
    from registry.audit.checkpoints import log_name
    from registry.keys.checkpoint_key import init_checkpoint_key, load_checkpoint_key

    created = init_checkpoint_key(settings.keys_dir, development=settings.env != "production")
    vkey = load_checkpoint_key(settings.keys_dir, name=log_name(settings.issuer)).verifier.vkey
    click.echo(f"{'created' if created else 'present'}: audit checkpoint key {vkey}")


def _init_c2pa_credential(settings: Settings) -> None:
    try:
        from registry.keys.c2pa_credential import create_dev_credential
    except ImportError:  # the labelling capability is not installed in this build
        return
    if settings.c2pa_cert_chain or settings.c2pa_kms_key_id:
        return
    create_dev_credential(settings.keys_dir / "c2pa")
    click.echo(f"development C2PA credential in {settings.keys_dir}/c2pa (NOT for production)")


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new token signing key active; old public keys stay in the JWKS."""
    from registry.keys.keyring import rotate_keys

    kid = rotate_keys(_settings().keys_dir)
    click.echo(f"active key is now {kid}")


@main.group()
def orgs() -> None:
    """Organizations (tenants)."""


@orgs.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def orgs_create(name: str, as_json: bool) -> None:
    """Create an organization."""
    from registry.auth.services import create_organization

    with _session(_settings()) as session:
        org = create_organization(session, name=name, actor="cli")
        _emit({"org_id": org.id, "name": org.name}, as_json)


@main.group()
def clients() -> None:
    """API clients."""


@clients.command("create")
@click.option("--org", "org_id", required=True)
@click.option("--scope", "scope", required=True, help='space-separated, e.g. "grants:read"')
@click.option("--name", default="")
@click.option("--json", "as_json", is_flag=True)
def clients_create(org_id: str, scope: str, name: str, as_json: bool) -> None:
    """Create an API client; its secret is shown only now."""
    from registry.auth.services import create_client, parse_scopes
    from registry.errors import RegistryError

    try:
        scopes = parse_scopes(scope)
        with _session(_settings()) as session:
            client, secret = create_client(
                session, org_id=org_id, scopes=scopes, name=name, actor="cli"
            )
            data = {"org_id": org_id, "client_id": client.client_id, "client_secret": secret}
    except (RegistryError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    _emit(data, as_json)


@clients.command("disable")
@click.argument("client_id")
def clients_disable(client_id: str) -> None:
    """Disable a client: its secret and every access token issued to it stop working now."""
    from registry.auth.services import disable_client

    try:
        with _session(_settings()) as session:
            disable_client(session, client_id=client_id, actor="cli")
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"client {client_id} is disabled")


@main.group()
def storage() -> None:
    """Media storage."""


@storage.command("reconcile")
@click.option("--repair", is_flag=True, help="delete orphaned files and unfinished writes")
@click.option("--grace-minutes", default=60, show_default=True, help="leave younger files alone")
def storage_reconcile(repair: bool, grace_minutes: int) -> None:
    """Report stored media files without a row (and the reverse); exit 1 if any are found."""
    from datetime import timedelta

    from registry.media.reconcile import reconcile_storage
    from registry.storage import build_storage

    settings = _settings()
    with _session(settings) as session:
        found = reconcile_storage(
            session,
            build_storage(settings),
            repair=repair,
            grace=timedelta(minutes=grace_minutes),
        )
    verb = "deleted" if found.repaired else "found"
    for key in found.orphans:
        click.echo(f"orphan file ({verb}): {key}")
    for key in found.incomplete:
        click.echo(f"unfinished write ({verb}): {key}")
    for key in found.missing:
        click.echo(f"MISSING file of a media row: {key}", err=True)
    if found.missing or (found.orphans and not found.repaired):
        sys.exit(1)
    click.echo("storage and media rows agree" if found.consistent else "storage repaired")


@main.group()
def statuslist() -> None:
    """The status lists of consent tokens."""


@statuslist.command("expire")
@click.option("--batch", default=1000, show_default=True, help="grants per transaction")
@click.option("--json", "as_json", is_flag=True)
def statuslist_expire(batch: int, as_json: bool) -> None:
    """Mark INVALID the entries of grants past valid_until (run it every minute or so)."""
    from registry.consent.status_entries import expire_due

    settings = _settings()
    expired: list[str] = []
    while True:
        with _session(settings) as session:
            grant_ids = [grant.id for grant in expire_due(session, limit=batch)]
        expired += grant_ids
        if len(grant_ids) < batch:
            break
    if as_json:
        click.echo(json.dumps({"expired": expired}))
    else:
        click.echo(f"{len(expired)} grant(s) expired in their status lists")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a checkpoint kept outside the registry (repeatable); its signature is checked first",
)
def audit_verify(checkpoint_files: tuple[Path, ...]) -> None:
    """Recompute every hash chain and hold it against its stored checkpoint and kept ones.

    Reports every break and exits 1 if there is any; exits 2, checking nothing, when a
    checkpoint file is refused (malformed, another log's, or not signed by this registry).
    """
    from registry.audit.checkpoints import open_checkpoint, verify_log
    from registry.audit.errors import CheckpointRefused

    settings = _settings()
    kept = []
    if checkpoint_files:
        verifier = _checkpoint_key(settings).verifier
        for path in checkpoint_files:
            try:
                kept.append(open_checkpoint(path.read_bytes(), verifier, source=str(path)))
            except CheckpointRefused as exc:
                click.echo(f"REFUSED checkpoint {path}: {exc.detail}", err=True)
                sys.exit(2)
    with _session(settings) as session:
        checked, breaks = verify_log(session, kept)
    for b in breaks:
        where = f" at seq {b.seq}" + (f" (event id {b.event_id})" if b.event_id else "")
        click.echo(f"BROKEN chain {b.chain}{where}: {b.reason}", err=True)
    if breaks:
        click.echo(f"{len(breaks)} breaks in {checked} events", err=True)
        sys.exit(1)
    against = f" and {len(kept)} kept checkpoints" if kept else ""
    click.echo(
        f"audit log intact: {checked} events checked against the stored checkpoints{against}"
    )


@audit.command("checkpoints")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write <log id>.checkpoint files here (default: print the notes)",
)
def audit_checkpoints(out_dir: Path | None) -> None:
    """Sign a checkpoint of every chain now, to keep outside the registry."""
    from registry.audit.checkpoints import all_logs, signed_checkpoint
    from registry.audit.errors import AuditLogInconsistent

    settings = _settings()
    key = _checkpoint_key(settings)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    refused = []
    with _session(settings) as session:
        for head in all_logs(session):
            try:
                note = signed_checkpoint(session, head, key)
            except AuditLogInconsistent:
                refused.append(head.chain)
                continue
            if out_dir is None:
                click.echo(f"# chain {head.chain}\n{note}")
            else:
                (out_dir / f"{head.log_id}.checkpoint").write_text(note)
                click.echo(f"chain {head.chain}: {out_dir / head.log_id}.checkpoint")
    for chain in refused:
        click.echo(f"NOT SIGNED chain {chain}: it does not match its stored checkpoint", err=True)
    if refused:
        sys.exit(1)


def _checkpoint_key(settings: Settings) -> CheckpointKey:
    from registry.audit.checkpoints import log_name
    from registry.keys.checkpoint_key import CheckpointKeyError, load_checkpoint_key

    try:
        return load_checkpoint_key(settings.keys_dir, name=log_name(settings.issuer))
    except CheckpointKeyError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("demo")
def demo() -> None:
    """Create a demo organization, its client and an approved demo generator (VoiceForge 2.1)
    if there is none, and print them once."""
    from registry.auth.services import SCOPES, create_client, create_organization, first_client
    from registry.generators.schemas import GeneratorCreate
    from registry.generators.services import create_generator

    with _session(_settings()) as session:
        if first_client(session) is not None:
            click.echo("demo credentials were created earlier (they are shown only once)")
            return
        org = create_organization(session, name="Demo Studio", actor="demo")
        client, secret = create_client(
            session, org_id=org.id, scopes=frozenset(SCOPES), name="demo", actor="demo"
        )
        demo_generator = GeneratorCreate(
            name="VoiceForge",
            version="2.1",
            provider="Demo provider",
            documentation_url="https://example.org/voiceforge-2.1/model-card",
            license="demo licence",
            training_data="unknown",
            training_data_notes="a demonstration entry: replace it with the tools you approve",
            risk_class="low",
            modalities=["image", "audio", "video"],
        )
        generator = create_generator(
            session, org_id=org.id, body=demo_generator, actor="demo", approved_by="demo"
        )
    click.echo("Demo organization and API client (the secret is shown only this once):")
    click.echo(f"  REGISTRY_CLIENT_ID={client.client_id}")
    click.echo(f"  REGISTRY_CLIENT_SECRET={secret}")
    click.echo(f"  org_id={org.id}")
    click.echo(f"  generator_id={generator.id}")
    click.echo(
        "An approved demo generator, VoiceForge 2.1: cite it with --generator VoiceForge@2.1"
    )
