"""`registry generators ...` (the inventory of approved AI tools) and `registry record`
(the creation record of a signed work), over the API like `registry sign`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from registry.cli.pipeline import api_errors, server_options
from registry.client import RegistryClient
from registry.generators.vocabulary import (
    GENERATOR_STATES,
    MEDIA_KINDS,
    RISK_CLASSES,
    TRAINING_DATA,
)


def _print(entry: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(entry, indent=2))
        return
    click.echo(f"{entry['id']}  {entry['name']} {entry['version']}  [{entry['state']}]")
    for key in (
        "provider",
        "documentation_url",
        "license",
        "training_data",
        "training_data_notes",
        "risk_class",
        "approved_by",
        "approved_at",
        "retired_at",
        "retired_reason",
    ):
        if entry.get(key):
            click.echo(f"  {key:<20} {entry[key]}")
    click.echo(f"  {'modalities':<20} {', '.join(entry['modalities'])}")


def _facts_options(*, required: bool) -> Any:
    """--name, --version, ... (required when creating, optional when updating)."""
    options = [
        click.option("--name", required=required),
        click.option("--version", required=required),
        click.option("--provider", required=required, help="Who makes the model"),
        click.option("--documentation-url", help="Model card or documentation URL"),
        click.option("--license", help="Licence, e.g. an SPDX id"),
        click.option("--training-data", type=click.Choice(TRAINING_DATA), required=required),
        click.option("--training-data-notes"),
        click.option("--risk-class", type=click.Choice(RISK_CLASSES), required=required),
        click.option(
            "--modality",
            "modalities",
            multiple=True,
            type=click.Choice(MEDIA_KINDS),
            required=required,
            help="A kind of media it produces (repeatable)",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON"),
    ]

    def decorate(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in values.items() if v not in (None, ())}
    if "modalities" in fields:
        fields["modalities"] = list(fields["modalities"])
    return fields


@click.group("generators")
def generators() -> None:
    """The organization's inventory of AI tools; signing cites only approved ones."""


@generators.command("create")
@_facts_options(required=True)
@server_options
def create(url: str, client_id: str, client_secret: str, **values: Any) -> None:
    """Add a generator (pending until approved)."""
    as_json = values.pop("as_json")
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        _print(registry.create_generator(**_fields(values)), as_json)


@generators.command("update")
@click.argument("generator_id")
@_facts_options(required=False)
@server_options
def update(generator_id: str, url: str, client_id: str, client_secret: str, **values: Any) -> None:
    """Change a generator's facts (an approved one returns to pending)."""
    as_json = values.pop("as_json")
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        _print(registry.update_generator(generator_id, **_fields(values)), as_json)


@generators.command("list")
@click.option("--state", type=click.Choice(GENERATOR_STATES))
@click.option("--json", "as_json", is_flag=True)
@server_options
def list_(state: str | None, as_json: bool, url: str, client_id: str, client_secret: str) -> None:
    """List the inventory."""
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        items = registry.list_generators(state=state)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for entry in items:
        click.echo(
            f"{entry['id']}  {entry['name']}@{entry['version']}  {entry['state']:<8}  "
            f"{entry['provider']}  ({', '.join(entry['modalities'])})"
        )


@generators.command("show")
@click.argument("generator_id")
@click.option("--json", "as_json", is_flag=True)
@server_options
def show(generator_id: str, as_json: bool, url: str, client_id: str, client_secret: str) -> None:
    """Show one generator."""
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        _print(registry.get_generator(generator_id), as_json)


@generators.command("approve")
@click.argument("generator_id")
@click.option("--approver", help="Who approved it (kept in the inventory, never published)")
@click.option("--json", "as_json", is_flag=True)
@server_options
def approve(
    generator_id: str,
    approver: str | None,
    as_json: bool,
    url: str,
    client_id: str,
    client_secret: str,
) -> None:
    """Approve a generator: signing may cite it from now on."""
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        _print(registry.approve_generator(generator_id, approver=approver), as_json)


@generators.command("retire")
@click.argument("generator_id")
@click.option("--reason")
@click.option("--json", "as_json", is_flag=True)
@server_options
def retire(
    generator_id: str,
    reason: str | None,
    as_json: bool,
    url: str,
    client_id: str,
    client_secret: str,
) -> None:
    """Retire a generator for good (records keep citing it)."""
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        _print(registry.retire_generator(generator_id, reason=reason), as_json)


@click.command("record")
@click.argument("media_id")
@click.option(
    "--html",
    "out_html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the printable HTML page here",
)
@server_options
def record(
    media_id: str, out_html: Path | None, url: str, client_id: str, client_secret: str
) -> None:
    """The creation record of a signed work (JSON), or its printable page (--html FILE)."""
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        if out_html is not None:
            out_html.write_text(registry.media_record_page(media_id), encoding="utf-8")
            click.echo(f"written {out_html}")
            return
        click.echo(json.dumps(registry.media_record(media_id), indent=2))
