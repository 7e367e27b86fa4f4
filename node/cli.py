"""CLI commands for the registry and the witness (``flask --app app registry ...``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

import errors
from identity import did_key
from identity.did import parse_did
from identity.keys import KeyType, PublicKey
from kyc.watchlists import (
    ImportProgress,
    iter_opensanctions_csv,
    iter_un_consolidated_xml,
    un_list_version,
)
from node import Node
from node.dids import deactivate_institution_did, rotate_issuing_keys
from node.mirror import MirrorConfig, sync
from node.peers import HttpReply, publish_cosignatures
from registry.cosignature import CosignatureVerifier
from registry.entries import ROLES
from registry.governance import GovernancePolicy
from registry.note import Ed25519Verifier

__all__ = ["did_cli", "kyc_cli", "registry_cli", "verify_command", "witness_cli"]


def _fail(exc: errors.Error) -> click.ClickException:
    return click.ClickException(f"{exc.code}: {exc.message}")


def registry_cli(get_node: Callable[[], Node]) -> click.Group:
    group = click.Group("registry", help="The registry log this node operates.")

    @group.command("vkey")
    @click.option("--witness", is_flag=True, help="Print the witness cosigning key instead.")
    def vkey(witness: bool) -> None:
        """Print the log's verifier key <name>+<key id hex>+<base64 key>."""
        service = get_node().registry
        click.echo(service.witness_vkey if witness else service.log_vkey)

    @group.command("authorize")
    @click.argument("did")
    @click.option("--roles", default="issuer,writer", show_default=True,
                  help=f"Comma-separated, from {', '.join(ROLES)}.")
    @click.option("--registry-key", default=None,
                  help="The writer's Ed25519 registry key as a did:key or a JWK (JSON). "
                  "Defaults to the key of a did:key DID.")
    def authorize(did: str, roles: str, registry_key: str | None) -> None:
        """Append a governance writer.add entry for an institution's DID."""
        try:
            parse_did(did)
            key = _registry_key(did, registry_key)
            role_list = [r.strip() for r in roles.split(",") if r.strip()]
            admitted = get_node().registry.authorize(did, key, role_list)
        except errors.Error as exc:
            raise _fail(exc) from exc
        click.echo(f"authorised {did} as {','.join(role_list)} at index {admitted.index}")

    @group.command("revoke")
    @click.argument("did")
    def revoke(did: str) -> None:
        """Append a governance writer.remove entry for a DID."""
        try:
            admitted = get_node().registry.revoke(did)
        except errors.Error as exc:
            raise _fail(exc) from exc
        click.echo(f"removed {did} at index {admitted.index}")

    @group.command("add-witness")
    @click.argument("name")
    @click.argument("vkey")
    @click.argument("url")
    def add_witness(name: str, vkey: str, url: str) -> None:
        """Ask the witness at URL (its tlog-witness prefix, e.g. http://host/witness) to
        cosign this log's checkpoints; VKEY is its cosignature/v1 verifier key."""
        try:
            CosignatureVerifier.from_vkey(vkey)
        except errors.Error as exc:
            raise _fail(exc) from exc
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter("the URL must be http(s)", param_hint="URL")
        node = get_node()
        with node.store.transaction():
            node.store.put_registry_witness(name, vkey, url.rstrip("/"))
        click.echo(f"witness {name} added")

    @group.command("cosign")
    def cosign() -> None:
        """Collect cosignatures for the latest checkpoint from every configured witness."""
        outcomes = publish_cosignatures(get_node().registry)
        for name, outcome in outcomes.items():
            click.echo(f"{name}: {outcome}")
        if any(not o.startswith(("cosigned", "up to date")) for o in outcomes.values()):
            raise SystemExit(1)

    @group.command("mirror")
    @click.argument("source_url")
    @click.option("--log-key", "log_vkey", required=True,
                  help="The source log's verifier key (pinned; from its `registry vkey`).")
    @click.option("--governance-key", "governance_keys", multiple=True,
                  help="did:key of a governance key of the source (repeatable).")
    @click.option("--governance-threshold", default=1, show_default=True)
    @click.option("--witness", "witness_vkeys", multiple=True,
                  help="A witness's cosignature verifier key (repeatable).")
    @click.option("--quorum", default=0, show_default=True,
                  help="How many of the --witness keys must have cosigned.")
    def mirror(source_url: str, log_vkey: str, governance_keys: tuple[str, ...],
               governance_threshold: int, witness_vkeys: tuple[str, ...], quorum: int) -> None:
        """Follow another node's log: verify it and keep a checked copy."""
        node = get_node()
        try:
            if not governance_keys:
                raise errors.MissingField("give the source's --governance-key (from its "
                                          "/registry/policy, checked out of band)")
            governance = GovernancePolicy(
                tuple(did_key.public_key_from_did(k) for k in governance_keys),
                governance_threshold,
            )
            config = MirrorConfig(source_url, log_vkey, governance, witness_vkeys, quorum)

            def show(done: int, total: int) -> None:
                click.echo(f"  verified {done}/{total} entries", err=True)

            result = sync(config, node.config.data_dir, now=node.unix_now, now_text=node.now,
                          progress=show)
        except errors.Error as exc:
            evidence = getattr(exc, "evidence_path", None)
            if evidence:
                click.echo(f"evidence written to {evidence}", err=True)
            raise _fail(exc) from exc
        click.echo(f"{result.origin}: verified {result.old_size} -> {result.new_size}, "
                   f"root {base64.b64encode(result.root).decode()}")

    @group.command("checkpoint")
    def checkpoint() -> None:
        """Print the latest checkpoint note."""
        click.echo(get_node().registry.log.checkpoint_note().decode(), nl=False)

    return group


def witness_cli(get_node: Callable[[], Node]) -> click.Group:
    group = click.Group("witness", help="Witness other institutions' logs (C2SP tlog-witness).")

    @group.command("add-log")
    @click.argument("origin")
    @click.argument("vkey")
    def add_log(origin: str, vkey: str) -> None:
        """Cosign checkpoints of the log ORIGIN signed by VKEY (its `registry vkey`)."""
        try:
            verifier = Ed25519Verifier.from_vkey(vkey)
        except errors.Error as exc:
            raise _fail(exc) from exc
        if verifier.name != origin:
            raise click.BadParameter("the key name must be the log's origin", param_hint="VKEY")
        node = get_node()
        with node.store.transaction():
            node.store.add_witnessed_log(origin, vkey, node.now())
        click.echo(f"witnessing {origin}")

    @group.command("list")
    def list_logs() -> None:
        """List witnessed logs and the latest size cosigned for each."""
        node = get_node()
        for origin, _vkey in node.store.witnessed_logs():
            latest = node.store.latest(origin)
            click.echo(f"{origin}\t{latest.size if latest else 0}")

    @group.command("vkey")
    def vkey() -> None:
        """Print this node's witness verifier key (cosignature/v1)."""
        click.echo(get_node().registry.witness_vkey)

    return group


def _registry_key(did: str, given: str | None) -> PublicKey:
    if given is None:
        if not did.startswith("did:key:"):
            raise errors.MissingField("--registry-key is needed for DIDs other than did:key")
        key = did_key.public_key_from_did(did)
    elif given.startswith("did:key:"):
        key = did_key.public_key_from_did(given)
    else:
        try:
            jwk = json.loads(given)
        except json.JSONDecodeError as exc:
            raise errors.InvalidValue("--registry-key must be a did:key or a JWK") from exc
        if not isinstance(jwk, dict):
            raise errors.InvalidValue("--registry-key must be a did:key or a JWK")
        key = PublicKey.from_jwk(jwk)
    if key.key_type is not KeyType.ED25519:
        raise errors.InvalidValue("registry keys are Ed25519")
    return key


def did_cli(get_node: Callable[[], Node]) -> click.Group:
    group = click.Group("did", help="The institution's did:webvh DID.")

    @group.command("show")
    def show() -> None:
        """Print the DID and its current DID document."""
        node = get_node()
        result = node.resolver.resolve(node.institution.did)
        click.echo(node.institution.did)
        click.echo(json.dumps(result.did_document, indent=2))

    @group.command("rotate-keys")
    def rotate_keys() -> None:
        """Replace the issuing keys; old credentials keep verifying, new ones use the new keys."""
        try:
            version = rotate_issuing_keys(get_node())
        except errors.Error as exc:
            raise _fail(exc) from exc
        click.echo(f"rotated the issuing keys: DID version {version}")

    @group.command("deactivate")
    @click.confirmation_option(prompt="Deactivate this institution's DID for good?")
    def deactivate() -> None:
        """Deactivate the DID: its keys then verify nothing new. Cannot be undone."""
        try:
            version = deactivate_institution_did(get_node())
        except errors.Error as exc:
            raise _fail(exc) from exc
        click.echo(f"deactivated: DID version {version}")

    return group


def kyc_cli(get_node: Callable[[], Node]) -> click.Group:
    group = click.Group("kyc", help="KYC watchlists, retention and erasure.")

    @group.command("import-watchlist")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--format", "kind", type=click.Choice(["opensanctions", "un"]), required=True,
                  help="opensanctions: targets.simple.csv; un: UN SC consolidated list XML.")
    @click.option("--source", default=None, help="List name (default: the format's name).")
    @click.option("--version", "version", default=None,
                  help="List version (UN: read from dateGenerated; CSV: required).")
    @click.option("--published", default=None, help="Publication date of this version.")
    @click.option("--pep", is_flag=True, help="Entries are PEPs (OpenSanctions PEP export).")
    def import_watchlist(path: str, kind: str, source: str | None, version: str | None,
                         published: str | None, pep: bool) -> None:
        """Import a watchlist version, then re-screen every approved client against it."""
        node = get_node()
        source = source or kind

        def show(progress: ImportProgress) -> None:
            state = "done" if progress.done else "reading"
            click.echo(f"  {state}: {progress.read} read, {progress.produced} entries, "
                       f"{progress.skipped} skipped", err=True)

        try:
            if kind == "un":
                version = version or un_list_version(path)
                entries = iter_un_consolidated_xml(path, progress=show)
            else:
                if not version:
                    raise errors.MissingField("--version is required for OpenSanctions files")
                handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
                entries = iter_opensanctions_csv(
                    handle, list_name=source, list_version=version, progress=show,
                    default_topics=("role.pep",) if pep else (),
                )
            try:
                count, suspended = node.kyc.import_watchlist(
                    source, version, published or version, entries, actor="cli")
            finally:
                if kind != "un":
                    handle.close()
        except errors.Error as exc:
            raise _fail(exc) from exc
        click.echo(f"imported {count} entries of {source} {version}; "
                   f"{len(suspended)} client(s) suspended by re-screening")
        for application_id in suspended:
            click.echo(f"  suspended {application_id}")

    @group.command("purge")
    def purge() -> None:
        """Erase (crypto-shred) every application whose retention period is over."""
        erased = get_node().kyc.purge(actor="cli")
        click.echo(f"erased {len(erased)} application(s)")

    @group.command("lists")
    def lists() -> None:
        """Show the active watchlist versions."""
        for item in get_node().store.active_watchlists():
            click.echo(f"{item['source']}\t{item['version']}\t{item['entry_count']} entries\t"
                       f"imported {item['imported_at']}")

    return group


def verify_command(get_node: Callable[[], Node]) -> click.Command:
    @click.command("verify")
    @click.argument("presentation", type=click.File("r"))
    @click.option("--nonce", required=True, help="The nonce the presentation must be bound to.")
    @click.option("--audience", required=True, help="The audience (client_id) it was made for.")
    @click.option("--status-list", "status_lists", multiple=True, metavar="URI=FILE",
                  help="A status list token saved earlier (repeatable); checked against the "
                  "registry anchor like a fetched one.")
    @click.option("--online", is_flag=True,
                  help="Fetch status lists from the issuer's endpoint instead.")
    def verify(presentation: IO[str], nonce: str, audience: str,
               status_lists: tuple[str, ...], online: bool) -> None:
        """Verify a presentation offline: issuer keys, trust and status anchors come from this
        node's registry and its verified mirrors; nothing is asked of the issuer. Prints the
        verdict as JSON; exits 1 if it is not valid."""
        node = get_node()
        service = node.verification
        supplied: dict[str, bytes] = {}
        for item in status_lists:
            uri, sep, path = item.partition("=")
            if not sep:
                raise click.BadParameter("use URI=FILE", param_hint="--status-list")
            supplied[uri] = Path(path).read_bytes()
        if not online:
            service.read_own_status_locally = True

            def offline(uri: str, **_: object) -> HttpReply:
                if uri not in supplied:
                    raise errors.ServiceUnavailable(
                        f"offline: no saved status list for {uri} (give --status-list)"
                    )
                return HttpReply(200, supplied[uri], "application/statuslist+jwt")

            service.fetch = offline
        verdict = service.verify(presentation.read().strip(), service.policy(nonce, audience))
        click.echo(json.dumps(verdict.to_json(), indent=2))
        if not verdict.valid:
            raise SystemExit(1)

    return verify
