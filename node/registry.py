"""The node's registry: its own log, the witness it runs for other logs, and the cosignatures it
collects from its own witnesses.

Wiring only: the rules live in ``registry/`` (entries, governance, log, witness, mirror) and the SQL
in ``storage/``. On open it checks the stored tree against the last signed checkpoint and refuses
to serve on mismatch, signs the empty tree's checkpoint on first start, and authorises the node's
own institution as a writer through a governance entry, as any other institution would be.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from errors import InvalidValue
from identity import did_key
from identity.keys import PublicKey
from registry.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from registry.cosignature import CosignatureVerifier, Cosigner, verify_cosignatures
from registry.entries import Entry, EntryType, sign_entry
from registry.governance import GovernancePolicy
from registry.log import Admitted, Log
from registry.note import Ed25519Signer, Ed25519Verifier, append_signatures
from registry.witness import AddCheckpointOutcome, AddCheckpointRequest, LogConfig, Witness
from storage.records import RegistryEntryRow

if TYPE_CHECKING:
    from node import Node

__all__ = ["RegistryService", "entry_row"]

log = logging.getLogger(__name__)

ROLES_OF_OPERATOR = ("issuer", "writer")


class RegistryService:
    def __init__(self, node: Node, log_signer: Ed25519Signer, policy: GovernancePolicy) -> None:
        self.node = node
        self.origin = node.config.origin
        self.log_signer = log_signer
        self.policy = policy
        self.log = Log(
            node.store,
            origin=self.origin,
            policy=policy,
            sign_checkpoint=self._sign,
            row_factory=entry_row,
            now=node.now,
        )

    @classmethod
    def open(cls, node: Node) -> RegistryService:
        origin = node.config.origin
        seed = node.keyring.private_key("registry-log").private_bytes()
        signer = Ed25519Signer.from_seed(origin, seed)
        service = cls(node, signer, _policy(node))
        service.log.verify_integrity()
        service.log.ensure_checkpoint()
        service._authorise_self()
        return service

    # --- keys and identities ----------------------------------------------------------------------

    @property
    def log_vkey(self) -> str:
        return self.log_signer.verifier().vkey

    @property
    def log_verifier(self) -> Ed25519Verifier:
        return self.log_signer.verifier()

    def cosigner(self) -> Cosigner:
        seed = self.node.keyring.private_key("registry-witness").private_bytes()
        return Cosigner.from_seed(self.witness_name, seed)

    @property
    def witness_name(self) -> str:
        return self.origin.rsplit("/registry", 1)[0] + "/witness"

    @property
    def witness_vkey(self) -> str:
        return self.cosigner().verifier().vkey

    def _sign(self, size: int, root: bytes) -> bytes:
        return sign_checkpoint(Checkpoint(self.origin, size, root), [self.log_signer])

    # --- governance -------------------------------------------------------------------------------

    def _authorise_self(self) -> None:
        """Make this node's institution a writer of its own log, once."""
        did = self.node.institution.did
        writers = self.log.writers()
        governance_key = self.node.keyring.public_key("registry-governance")
        if did in writers.writers or governance_key not in self.policy.keys:
            return  # already a writer, or governance is held elsewhere: an operator adds it
        self.authorize(did, self.node.keyring.public_key("registry-writer"), ROLES_OF_OPERATOR)

    def governance_entry(
        self, entry_type: EntryType, did: str, registry_key: PublicKey | None,
        roles: Sequence[str] = (),
    ) -> Entry:
        """Build a governance entry for ``did`` signed with this node's governance key."""
        if entry_type is EntryType.WRITER_ADD:
            if registry_key is None:
                raise InvalidValue("writer.add needs the writer's registry key")
            payload: dict[str, object] = {
                "did": did, "registry_key": registry_key.to_jwk(), "roles": list(roles)
            }
        else:
            payload = {"did": did}
        return sign_entry(
            log=self.origin,
            entry_type=entry_type,
            subject=did,
            prev=self.node.store.registry_subject_head(did),
            time=self.node.now(),
            nonce=secrets.token_bytes(16),
            payload=payload,
            writer=self.node.institution.did,
            keys=[self.node.keyring.private_key("registry-governance")],
        )

    def authorize(self, did: str, registry_key: PublicKey, roles: Sequence[str]) -> Admitted:
        return self.log.append(self.governance_entry(EntryType.WRITER_ADD, did, registry_key,
                                                     roles).data)

    def revoke(self, did: str) -> Admitted:
        return self.log.append(self.governance_entry(EntryType.WRITER_REMOVE, did, None).data)

    def write(self, entry_type: EntryType, subject: str, payload: dict[str, object]) -> Admitted:
        """Append an entry as this institution (signed with its registry writer key)."""
        entry = sign_entry(
            log=self.origin,
            entry_type=entry_type,
            subject=subject,
            prev=self.node.store.registry_subject_head(subject),
            time=self.node.now(),
            nonce=secrets.token_bytes(16),
            payload=payload,
            writer=self.node.institution.did,
            keys=[self.node.keyring.private_key("registry-writer")],
        )
        return self.log.append(entry.data)

    # --- witnessing other logs --------------------------------------------------------------------

    def witness(self) -> Witness:
        logs = {
            origin: LogConfig(origin, (Ed25519Verifier.from_vkey(vkey),))
            for origin, vkey in self.node.store.witnessed_logs()
        }
        return Witness(logs, self.node.store, (self.cosigner(),))

    def add_checkpoint(self, body: bytes) -> AddCheckpointOutcome:
        return self.witness().add_checkpoint(body, timestamp=self.node.unix_now())

    # --- collecting cosignatures for this log -----------------------------------------------------

    def request_for(self, old_size: int) -> tuple[int, bytes, bytes]:
        """The add-checkpoint body that moves a witness from ``old_size`` to the latest
        checkpoint; returns ``(size, note, body)``."""
        size, _root, note = self._latest()
        plain = _strip_cosignatures(note, self.log_verifier)
        proof = self.log.consistency_proof(old_size, size) if 0 < old_size < size else []
        body = AddCheckpointRequest(old_size, tuple(proof), plain).to_bytes()
        return size, plain, body

    def store_cosignatures(self, name: str, vkey: str, size: int, lines: bytes) -> None:
        """Check a witness's cosignature lines and add them to the checkpoint of ``size``."""
        verifier = CosignatureVerifier.from_vkey(vkey)
        with self.node.store.transaction():
            current = self.node.store.checkpoint_at(size)
            if current is None:
                raise InvalidValue(f"no checkpoint of size {size}")
            _size, root, note = current
            combined = append_signatures(note, lines)
            # Only keep the note if the witness's line really verifies over our checkpoint.
            _cp, cosigs = verify_cosignatures(combined, [verifier])
            if not cosigs:
                raise InvalidValue(f"witness {name} returned no valid cosignature")
            self.node.store.add_checkpoint(size, root, combined, self.node.now())
            self.node.store.set_registry_witness_size(name, size)

    def _latest(self) -> tuple[int, bytes, bytes]:
        latest = self.node.store.latest_checkpoint()
        if latest is None:
            raise InvalidValue("the registry has no checkpoint")
        return latest

    def verify_note(self, note: bytes) -> Checkpoint:
        return open_checkpoint(note, [self.log_verifier], origin=self.origin).checkpoint


def _strip_cosignatures(note: bytes, verifier: Ed25519Verifier) -> bytes:
    """The note with only the log's own signature line (what witnesses are sent)."""
    text, _, signatures = note.rpartition(b"\n\n")
    lines = [line for line in signatures.split(b"\n") if line]
    prefix = ("\u2014 " + verifier.name + " ").encode()
    own = [line for line in lines if line.startswith(prefix)]
    return text + b"\n\n" + b"".join(line + b"\n" for line in own)


def entry_row(admitted: Admitted) -> RegistryEntryRow:
    entry = admitted.entry
    return RegistryEntryRow(
        index=admitted.index,
        data=entry.data,
        leaf_hash=admitted.leaf_hash,
        type=str(entry.type),
        subject=entry.subject,
        prev=entry.prev,
        writer=entry.writer,
    )


def _policy(node: Node) -> GovernancePolicy:
    configured = node.config.governance_keys
    if configured:
        keys = tuple(did_key.public_key_from_did(did) for did in configured)
    else:
        keys = (node.keyring.public_key("registry-governance"),)
    return GovernancePolicy(keys, node.config.governance_threshold)
