"""`registry sign`, `registry verify` and `registry screen`: the pipeline side of the CLI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from registry.client import (
    GrantCitation,
    RegistryApiError,
    RegistryClient,
    RegistryUnreachable,
    SignedMedia,
    parse_generator,
    parse_human,
)
from registry.records.prompts import digest as prompt_digest
from registry.records.vocabulary import HUMAN_ACTIONS

console = Console(stderr=True)


def server_options(command=None, *, required: bool = True):  # type: ignore[no-untyped-def]
    """--url / --client-id / --client-secret, also from REGISTRY_URL and friends."""
    if command is None:
        return lambda cmd: server_options(cmd, required=required)
    for option in reversed(
        [
            click.option(
                "--url",
                envvar="REGISTRY_URL",
                default="http://127.0.0.1:8000",
                show_default=True,
                help="Registry base URL [env REGISTRY_URL]",
            ),
            click.option(
                "--client-id",
                envvar="REGISTRY_CLIENT_ID",
                required=required,
                help="[env REGISTRY_CLIENT_ID]",
            ),
            click.option(
                "--client-secret",
                envvar="REGISTRY_CLIENT_SECRET",
                required=required,
                help="[env REGISTRY_CLIENT_SECRET]",
            ),
        ]
    ):
        command = option(command)
    return command


@contextmanager
def transfer_bar(description: str, *more: str) -> Iterator[Any]:
    """A progress bar (one per description, in one display); yields the update callable, or
    a tuple of them when there are several."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:

        def updater(text: str) -> Callable[[int, int], None]:
            task = progress.add_task(text, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total or None)

            return update

        updates = tuple(updater(text) for text in (description, *more))
        yield updates if more else updates[0]


@contextmanager
def api_errors() -> Iterator[None]:
    """Every problem the API returns becomes a readable message and exit status 1."""
    try:
        yield
    except (RegistryApiError, RegistryUnreachable) as exc:  # str() is the readable message
        raise click.ClickException(str(exc)) from exc


@click.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--grant", "grant_ids", multiple=True, required=True, help="Grant id (repeatable)")
@click.option(
    "--modality",
    "modalities",
    multiple=True,
    required=True,
    help="Modality used, e.g. voice (repeatable)",
)
@click.option("--purpose", required=True, help="A purpose category or project_ref of the grant")
@click.option("--territory", required=True, help="ISO 3166-1 alpha-2 code, e.g. US")
@click.option("--generator", help="NAME@VERSION of an approved generator of the inventory")
@click.option("--generator-id", help="Id of an approved generator (registry generators list)")
@click.option(
    "--human",
    "human",
    multiple=True,
    help='What a person did: "[ROLE/]ACTION: DESCRIPTION", e.g. "editing: cut and color grade" '
    f"(repeatable; ACTION: {', '.join(HUMAN_ACTIONS)})",
)
@click.option(
    "--prompt",
    "prompts",
    multiple=True,
    help="A prompt used (repeatable): only its SHA-256 is sent, unless --keep-prompt-text",
)
@click.option(
    "--keep-prompt-text",
    is_flag=True,
    help="Send the prompt text, to be kept encrypted in the registry (never in the manifest)",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An input file the work was made from (repeatable): only its SHA-256 is sent",
)
@click.option(
    "--source-type",
    default="trainedAlgorithmicMedia",
    show_default=True,
    type=click.Choice(["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]),
)
@click.option("--title")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the signed file"
)
@click.option(
    "--local",
    is_flag=True,
    help="Sign here, without uploading: the registry authorizes the use and signs the claim; "
    "the file never leaves this machine (--out defaults to NAME.signed.EXT)",
)
@click.option(
    "--fingerprint",
    is_flag=True,
    help="With --local: compute the content's ISCC codes here and record them (soft bindings)",
)
@click.option(
    "--source-sha256",
    help="With --local: the file's SHA-256 if the pipeline has it (else computed here)",
)
@click.option("--json", "as_json", is_flag=True, help="Print the media asset as JSON")
@server_options
def sign(
    file: Path,
    grant_ids: tuple[str, ...],
    modalities: tuple[str, ...],
    purpose: str,
    territory: str,
    generator: str | None,
    generator_id: str | None,
    human: tuple[str, ...],
    prompts: tuple[str, ...],
    keep_prompt_text: bool,
    inputs: tuple[Path, ...],
    source_type: str,
    title: str | None,
    out: Path | None,
    local: bool,
    fingerprint: bool,
    source_sha256: str | None,
    as_json: bool,
    url: str,
    client_id: str,
    client_secret: str,
) -> None:
    """Label FILE as AI-generated under the cited grants, and fetch the signed copy."""
    if (generator is None) == (generator_id is None):
        raise click.UsageError("give exactly one of --generator and --generator-id")
    try:
        parsed_generator = parse_generator(generator) if generator else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--generator") from exc
    creation = _creation(human, prompts, keep_prompt_text, inputs)
    uses = [GrantCitation(g, tuple(modalities), purpose, territory) for g in grant_ids]
    if (fingerprint or source_sha256) and not local:
        raise click.UsageError("--fingerprint and --source-sha256 go with --local")
    if local:
        out = out or file.with_name(f"{file.stem}.signed{file.suffix}")
        with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
            prints = local_fingerprints(file) if fingerprint else []
            with transfer_bar(f"hash {file.name}", f"sign {file.name}") as (hashed, signed):
                asset = registry.sign_local(
                    file,
                    out,
                    uses,
                    parsed_generator,
                    generator_id=generator_id,
                    creation=creation,
                    digital_source_type=source_type,
                    title=title,
                    fingerprints=prints,
                    source_sha256=source_sha256,
                    progress=signed,
                    hash_progress=hashed,
                )
        _print_signed(asset, out, as_json=as_json)
        return
    with api_errors(), RegistryClient(url, client_id, client_secret) as registry:
        with transfer_bar(f"upload {file.name}") as update:
            asset = registry.sign_media(
                file,
                uses,
                parsed_generator,
                generator_id=generator_id,
                creation=creation,
                digital_source_type=source_type,
                title=title,
                progress=update,
            )
        if out is not None:
            with transfer_bar(f"download {out.name}") as update:
                registry.download(asset.id, out, progress=update)
    _print_signed(asset, out, as_json=as_json)


def _print_signed(asset: SignedMedia, out: Path | None, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(asset.__dict__, indent=2))
        return
    where = "stored by the registry" if asset.stored else "signed here, not uploaded"
    click.echo(f"signed: media {asset.id} ({asset.mime_type}, {asset.size} bytes, {where})")
    click.echo(f"  sha256   {asset.sha256 or asset.source_sha256 + ' (source)'}")
    click.echo(f"  manifest {asset.manifest_id}")
    if out is not None:
        click.echo(f"  written  {out}")


def local_fingerprints(path: Path) -> list[str]:
    """The ISCC Image- or Audio-Code of the whole content (what a session records)."""
    from registry.intake.sniff import sniff
    from registry.provenance.fingerprints import ALG, Scope, fingerprint

    kind = sniff(path).kind
    if kind == "video":
        return []  # frame codes have timespans; a session takes whole-content codes only
    return [
        fp.iscc
        for fp in fingerprint(path, kind)
        if fp.alg == ALG and fp.variant is None and fp.scope == Scope()
    ]


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _creation(
    human: tuple[str, ...], prompts: tuple[str, ...], keep: bool, inputs: tuple[Path, ...]
) -> dict[str, object] | None:
    """The creation record to send: prompts as digests unless their text is to be kept."""
    try:
        contributions = [parse_human(text) for text in human]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--human") from exc
    if keep and not prompts:
        raise click.UsageError("--keep-prompt-text needs --prompt")
    creation: dict[str, object] = {}
    if contributions:
        creation["human"] = contributions
    if prompts and keep:
        creation["prompts"], creation["keep_prompt_text"] = list(prompts), True
    elif prompts:
        creation["prompt_sha256"] = [prompt_digest(p) for p in prompts]
    if inputs:
        creation["inputs"] = [{"sha256": _file_sha256(p), "label": p.name} for p in inputs]
    return creation or None


VERDICT_EXIT = {"pass": 0, "warn": 1, "fail": 2}
MARKS = {
    "pass": "[green]PASS[/]",
    "warn": "[yellow]WARN[/]",
    "fail": "[red]FAIL[/]",
    "not_applicable": "[dim]n/a[/]",
}


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the verification result as JSON")
@server_options(required=False)
def verify(
    file: Path, as_json: bool, url: str, client_id: str | None, client_secret: str | None
) -> None:
    """Ask the registry about FILE. Exit status 0 pass, 1 warn, 2 fail (3: could not verify)."""
    try:
        with RegistryClient(url, client_id, client_secret) as registry:
            result = registry.verify_media(file)
    except (RegistryApiError, RegistryUnreachable) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(3) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_report(file, result)
    raise SystemExit(VERDICT_EXIT[result["verdict"]])


def _print_report(file: Path, result: dict) -> None:  # type: ignore[type-arg]
    out = Console(soft_wrap=True)
    out.print(f"{MARKS[result['verdict']]}  {file.name}: {result['summary']}")
    manifest = result.get("manifest") or {}
    if manifest:
        out.print(
            f"  generator {manifest.get('generator') or '-'}; signed by "
            f"{manifest.get('signer') or manifest.get('signer_issuer') or '-'} "
            f"at {manifest.get('signed_at') or '-'}"
        )
    creation = result.get("creation") or {}
    tool = creation.get("generator")
    if tool:
        out.print(
            f"  made with {tool['name']} {tool['version']} by {tool['provider']} "
            f"(training data: {tool['training_data'].replace('_', ' ')})",
            highlight=False,
        )
    for person in creation.get("human", []):
        out.print(
            f"  by a person ({person['role']}): {person['action'].replace('_', ' ')}, "
            f"{person['description']}",
            highlight=False,
        )
    recovered = result.get("recovered") or {}
    for match in recovered.get("matches", []):
        generator = match["generator"]
        by = "watermark" if match["unit"] == "watermark" else "fingerprint"
        consent = "in force" if match["consent_in_force"] else "NOT in force"
        out.print(
            f"  recognised by its {by} ({match['alg']}, similarity {match['similarity']:.0%}): "
            f"asset {match['asset_id']}, AI-generated by {generator.get('name')} "
            f"{generator.get('version')}, created {match['created_at']}; consent {consent}; "
            f"manifest {match['manifest_url']}",
            highlight=False,
        )
    for grant in result.get("grants", []):
        out.print(
            f"  grant {grant['grant_id']}: now {grant['status_now']}, at signing "
            f"{grant['status_at_signing'] or 'unknown'}"
        )
    for check in result["checks"]:
        out.print(
            f"  {MARKS[check['status']]:<6} {check['check']:<20} {check['code']}: "
            f"{check['message']}",
            highlight=False,
        )


# registered synthetic media whose consent is in force: 1 (label it); not in force: 2 (block it)
SCREEN_EXIT = {"unregistered": 0, "in_force": 1, "not_in_force": 2}


@click.command("screen")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the screening result as JSON")
@server_options(required=False)
def screen(
    file: Path, as_json: bool, url: str, client_id: str | None, client_secret: str | None
) -> None:
    """Is FILE registered synthetic media, and is its consent in force? Exit status 0 not
    registered, 1 registered with consent in force, 2 registered without (revoked, suspended,
    expired, ...), 3 could not screen."""
    try:
        with RegistryClient(url, client_id, client_secret) as registry:
            result = registry.screen_media(file)
    except (RegistryApiError, RegistryUnreachable) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(3) from exc
    if not result["registered"]:
        outcome = "unregistered"
    else:
        outcome = "in_force" if result["consent"] == "in_force" else "not_in_force"
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_screening(file, result)
    raise SystemExit(SCREEN_EXIT[outcome])


def _print_screening(file: Path, result: dict) -> None:  # type: ignore[type-arg]
    out = Console(soft_wrap=True)
    if not result["registered"]:
        label = " (labelled AI-generated by its own manifest)" if result["ai_generated"] else ""
        out.print(f"{file.name}: not registered here{label}", highlight=False)
        return
    match = result["match"] or {}
    how = match.get("method", "-")
    if match.get("alg"):
        how += f" {match['alg']}, similarity {match['similarity']:.2f}"
    mark = "[green]" if result["consent"] == "in_force" else "[red]"
    out.print(
        f"{file.name}: registered synthetic media; consent {mark}{result['consent']}[/]",
        highlight=False,
    )
    out.print(f"  manifest {result['manifest_id']}  (found by {how})", highlight=False)
    asset = result.get("asset")
    if asset:
        out.print(f"  asset {asset['id']}", highlight=False)
        for grant in asset["grants"]:
            out.print(f"  grant {grant['grant_id']}: {grant['status_now']}", highlight=False)
