"""The institution's did:webvh DID and DIDs anchored in the registry.

Every did:webvh log line is a ``did.entry`` in the registry (subject = the DID), so the registry
proves the order and inclusion of each version, and a DID's ``did.jsonl`` is the concatenation of
its chain there. Resolution reads the registry (this node's log, then its verified mirrors): it
never fetches a URL, so there is nothing to point it at.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import errors
from identity import did_jwk, did_key, did_webvh
from identity.did import parse_did_url
from identity.keys import PublicKey
from identity.resolver import ResolutionResult
from node.keys import ISSUING_KEYS, issuing_keys
from registry import merkle
from registry.entries import EntryType, parse_entry
from registry.log import Admitted, Log

if TYPE_CHECKING:
    from node import Node

__all__ = [
    "NODE_SERVICE_TYPE",
    "anchor_did_log",
    "deactivate_institution_did",
    "did_domain",
    "did_log_lines",
    "lookup_did_log",
    "make_registry_resolver",
    "resolve_key",
    "rotate_issuing_keys",
]

NODE_SERVICE_TYPE = "KycIdentityNode"
_ENTRY_ORDER = ("versionId", "versionTime", "parameters", "state", "proof")
NODE_SERVICE_ID = "#kyc-node"


def did_domain(public_url: str) -> tuple[str, int | None, list[str]]:
    """The did:webvh domain, port and path for a node reachable at ``public_url``.

    did:webvh needs a fully qualified DNS name; a node on an IP address or bare ``localhost``
    (development, tests) uses ``node.localhost`` (RFC 6761 reserves ``.localhost``).
    """
    parts = urlsplit(public_url)
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    if is_ip or "." not in host:
        host = "node.localhost"
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port if parts.port not in (None, default_port) else None
    # Domain-level DIDs only: did.jsonl is then served at /.well-known/did.jsonl, so a node is
    # expected at the root of its domain.
    return host, port, []


def node_services(public_url: str) -> list[dict[str, str]]:
    return [{"id": NODE_SERVICE_ID, "type": NODE_SERVICE_TYPE, "serviceEndpoint": public_url}]


# --- reading DID logs from the registry --------------------------------------------------------


def _chain(log: Log, did: str) -> list[tuple[int, dict[str, Any]]]:
    size = log.size()
    chain = []
    for index, data in log.store.registry_subject_chain(did):  # type: ignore[attr-defined]
        if index >= size:
            break
        entry = parse_entry(data)
        if entry.type is EntryType.DID_ENTRY:
            stored = entry.payload["log_entry"]
            # The registry keeps JCS (sorted) form; serve the members in the spec's order.
            chain.append((index, {k: stored[k] for k in _ENTRY_ORDER if k in stored}))
    return chain


def did_log_lines(log: Log, did: str) -> list[str]:
    """The DID's did.jsonl lines as anchored in ``log`` (empty if none)."""
    return [did_webvh.entry_line(entry) for _index, entry in _chain(log, did)]


def _logs(node: Node) -> list[Log]:
    return [node.registry.log, *(log for _id, log in node.mirror_logs())]


_FOUND: dict[tuple[int, str], tuple[tuple[int, ...], Any]] = {}
_FOUND_LIMIT = 4096


RegistryView = tuple[list[Log], tuple[int, ...]]


def registry_view(node: Node) -> RegistryView:
    """This node's log and its verified mirrors, with their sizes: every registry-derived
    answer is a function of the sizes (logs only grow by appends)."""
    logs = _logs(node)
    return logs, tuple(log.size() for log in logs)


def _find(
    node: Node, did: str, view: RegistryView | None = None
) -> tuple[Log, list[tuple[int, dict[str, Any]]]] | None:
    """The first log (own, then mirrors) holding ``did``'s chain. Remembered until any of the
    logs grows: a chain only changes by appends. ``view`` is ``registry_view(node)`` when the
    caller already read it."""
    logs, sizes = view if view is not None else registry_view(node)
    key = (id(node), did)
    cached = _FOUND.get(key)
    if cached is not None and cached[0] == sizes:
        return cached[1]  # type: ignore[no-any-return]
    found = None
    for log in logs:
        chain = _chain(log, did)
        if chain:
            found = (log, chain)
            break
    if len(_FOUND) >= _FOUND_LIMIT:
        _FOUND.clear()
    _FOUND[key] = (sizes, found)
    return found


def lookup_did_log(node: Node, did: str) -> list[str]:
    """The DID's did.jsonl lines from this node's log, else from a verified mirror."""
    found = _find(node, did)
    return [] if found is None else [did_webvh.entry_line(e) for _i, e in found[1]]


def make_registry_resolver(node: Node) -> Callable[[str, Mapping[str, str]], ResolutionResult]:
    """did:webvh resolution from the registry, with the version's registry index and its
    inclusion proof against the current checkpoint in the document metadata."""

    def lookup(did: str) -> list[str] | None:
        return lookup_did_log(node, did) or None

    def now() -> datetime:  # read node.clock at each call: tests and the demo may move it
        return node.clock()

    base = did_webvh.make_webvh_resolver(lookup, now)

    def resolve(did: str, options: Mapping[str, str]) -> ResolutionResult:
        result = base(did, options)
        found = _find(node, did) if result.did_document is not None else None
        if found is None:
            return result
        log, chain = found
        version_id = result.document_metadata.get("versionId")
        index = next((i for i, e in chain if e.get("versionId") == version_id), None)
        if index is not None:
            result.document_metadata["registry"] = registry_evidence(log, index)
        return result

    return resolve


def registry_evidence(log: Log, index: int) -> dict[str, Any]:
    """Where an entry sits in the log, and the proof of it against the current checkpoint."""
    size = log.size()
    data = log.entry(index)
    return {
        "origin": log.origin,
        "index": index,
        "leaf_hash": base64.b64encode(merkle.leaf_hash(data)).decode(),
        "tree_size": size,
        "root_hash": base64.b64encode(log.root_at(size)).decode(),
        "inclusion_proof": [
            base64.b64encode(h).decode() for h in log.inclusion_proof(index, size)
        ],
        "checkpoint": log.checkpoint_note().decode("utf-8"),
    }


# --- anchoring ---------------------------------------------------------------------------------


def anchor_did_log(node: Node, did: str, lines: Sequence[str | Mapping[str, Any]]) -> list[int]:
    """Anchor a did:webvh log: check it whole, then append the lines the registry lacks.

    The anchored chain must be a prefix of ``lines`` (a DID's history cannot be rewritten), and
    every document must hold only keys and services. Returns the new entries' indexes.
    """
    verified = did_webvh.verify_log(list(lines), now=node.clock())
    if verified.error is not None:
        raise verified.error
    if did not in verified.dids:
        raise errors.InvalidValue(f"the log is not the log of {did}")
    entries = [version.entry for version in verified.versions]
    anchored = [e for _i, e in _chain(node.registry.log, did)]
    if entries[: len(anchored)] != anchored:
        raise errors.Conflict(
            "the log does not extend the history anchored in the registry", field="did_log"
        )
    indexes: list[int] = []
    for entry in entries[len(anchored):]:
        admitted: Admitted = node.registry.write(
            EntryType.DID_ENTRY, did, {"log_entry": entry}
        )
        indexes.append(admitted.index)
    return indexes


# --- the institution's own DID -----------------------------------------------------------------


def rotate_issuing_keys(node: Node) -> str:
    """Retire the issuing keys, create new ones, and publish a DID version holding only the new
    ones. Credentials signed before keep verifying: their key was valid at their ``iat``.
    Returns the new versionId."""
    did = node.institution.did
    with node.store.transaction():
        for role, kind in ISSUING_KEYS.items():
            node.keyring.rotate(role, kind, node.now())
        lines = did_log_lines(node.registry.log, did)
        entry = did_webvh.update(
            lines, node.keyring.private_key("did-update"),
            keys=list(issuing_keys(node).values()),
            services=node_services(node.config.public_url), now=node.clock(),
        )
        anchor_did_log(node, did, [*lines, did_webvh.entry_line(entry)])
    return str(entry["versionId"])


def deactivate_institution_did(node: Node) -> str:
    """Deactivate the institution's DID for good (its keys then verify nothing new)."""
    did = node.institution.did
    with node.store.transaction():
        lines = did_log_lines(node.registry.log, did)
        entries = did_webvh.deactivate(lines, node.keyring.private_key("did-update"),
                                       now=node.clock())
        anchor_did_log(node, did, [*lines, *(did_webvh.entry_line(e) for e in entries)])
    return str(entries[-1]["versionId"])


# --- keys valid at a time ----------------------------------------------------------------------


def resolve_key(node: Node, did_url: str, at: datetime) -> PublicKey:
    """The verification key ``did_url`` names, if it was valid at ``at``.

    did:key and did:jwk keys never change. For did:webvh the DID's history in the registry
    decides: a key rotated out before ``at``, not yet added at ``at``, or a DID deactivated by
    ``at`` raises a clear error (``key_not_valid_at``, ``did_deactivated``).
    """
    url = parse_did_url(did_url)
    method = url.did.method
    if method == "key":
        key = did_key.public_key_from_did(str(url.did))
        if url.fragment and url.fragment != str(url.did).split(":")[-1]:
            raise errors.DidNotFound(f"{did_url} is not the key of {url.did}")
        return key
    if method == "jwk":
        if url.fragment not in (None, "0"):
            raise errors.DidNotFound(f"{did_url} is not the key of {url.did}")
        return did_jwk.public_key_from_did(str(url.did))
    if method == "webvh":
        found = _find(node, str(url.did))
        if found is None:
            raise errors.DidNotFound(f"no DID log for {url.did} in the registry")
        lines = [did_webvh.entry_line(e) for _i, e in found[1]]
        return did_webvh.key_valid_at(lines, did_url, at, relationship="assertionMethod")
    raise errors.MethodNotSupported(f"did:{method} is not supported")
