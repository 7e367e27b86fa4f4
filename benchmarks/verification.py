"""Verification benchmark (a script, not a test): presentations verified per second, vs floors.

Run from the repository root::

    .venv/bin/python benchmarks/verification.py            # everything, about 1 minute
    .venv/bin/python benchmarks/verification.py --quick    # smoke run, seconds
    .venv/bin/python benchmarks/verification.py --skip http --profile   # + cProfile

What is measured, for the two SD-JWT VC configurations the node issues (``KycCredential``:
ES256 issuer key, a P-256 holder key; ``KycCredentialEd25519``: EdDSA issuer key, an Ed25519
holder key), each figure beside a floor measured in the same run and as a ratio to it:

* **floor**: the two signature verifications a presentation needs (the issuer's signature and
  the KB-JWT's), over the exact signing inputs and signatures of a real presentation, with
  ``cryptography`` directly: no project code, no parsing.
* **in-process**, on a real node opened on a temp data dir (``open_node``), with a credential
  issued by the node's own ``IssuanceService`` and presented with ``credentials.sd_jwt.present``
  and a KB-JWT (every presentation its own nonce, built before the timed loop):

  - *full*: ``VerificationService.verify``, the whole check list as a bank gets it: issuer key
    from the node's registry (did:webvh history at ``iat``), registry inclusion proof against a
    verified checkpoint, governance trust, signature, disclosures, validity, KB-JWT, the status
    list (the node's own, read from its store) with its registry anchor and signature, status.
    ``verify`` itself keeps no replay state (the nonce is consumed by ``verify_direct`` and the
    OpenID4VP response path, on acceptance only), so the pool of presentations is cycled.
  - *checks only*: the same ``credentials.verifier.Verifier`` with the node's collaborators
    (key at ``iat`` with its evidence, trust, status list with its anchor) answered from memory
    with the values the node gave: every check, none of the node's lookups.
  - *crypto core*: ``credentials.sd_jwt.verify_sd_jwt_vc`` with the issuer key given: issuer
    signature, disclosures, KB-JWT (nonce, aud, iat, sd_hash). The same work as the reference.
  - *verify_direct*: what ``POST /verifier/verify`` runs: the replay check, ``verify``, the
    nonce consumed and a signed receipt filed in one SQLite transaction. Fresh nonces.
  - where the full path's time goes: the node's collaborators timed one by one, and the
    signature verifications per presentation counted.
* **reference**: the IETF reference implementation (PyPI ``sd-jwt``,
  openwallet-foundation-labs/sd-jwt-python; install ``benchmarks/requirements.txt``) verifying
  the same presentations (issuer signature, disclosures, KB-JWT with nonce, aud and sd_hash; it
  checks no ``typ``, validity, status or trust). Skipped with a message if not installed.
* **http**: a real server process (``python app.py --port P``, its own ``KYC_DATA_DIR`` in a
  temp dir, credentials issued by that node, a verifier key from ``flask --app app apikey
  create --role verifier``), client threads on keep-alive connections calling
  ``POST /verifier/verify`` with pre-built presentations, each with its own nonce; then a
  replay of one of them, which must be refused.

Target in-process: >= 0.8x the floor (the checks beyond the two signatures cost little).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import math
import os
import pstats
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _server import APPLICATION, Server  # benchmarks/_server.py, beside this script
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import node.verification as node_verification
from config import Config
from credentials import jose, sd_jwt
from credentials.verifier import FetchedStatusList, ResolvedKey, Verdict, Verifier
from identity.encoding import b64url_decode
from identity.keys import KeyType, PrivateKey, PublicKey
from node import open_node

ROOT = Path(__file__).resolve().parent.parent
INSTITUTION = "Bench Bank"



@dataclass(frozen=True)
class Flavour:
    configuration: str  # the node's credential configuration
    holder: KeyType  # the holder key type (the KB-JWT's)
    floor: str  # the signature algorithm of the floor


FLAVOURS = (
    Flavour("KycCredential", KeyType.P256, "ES256"),
    Flavour("KycCredentialEd25519", KeyType.ED25519, "Ed25519"),
)


def _out(text: str = "") -> None:
    print(text, flush=True)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


# --- a node, a credential, presentations ----------------------------------------------------------


@dataclass
class Subject:
    """One issued credential on one node, its holder key, and what a verifier expects."""

    node: Any
    flavour: Flavour
    credential: str
    holder: PrivateKey
    audience: str
    issuer_key: PublicKey = field(init=False)

    def __post_init__(self) -> None:
        header, payload, _, _ = jose.decode_unverified(sd_jwt.parse(self.credential).issuer_jwt)
        iat = json.loads(payload)["iat"]
        self.issuer_key = self.node.verification.key_at(header["kid"], float(iat)).key

    def present(self, nonce: str) -> str:
        return sd_jwt.present(
            self.credential,
            disclose=sd_jwt.ALL,
            kb_key=self.holder,
            nonce=nonce,
            aud=self.audience,
            iat=int(time.time()),
        )

    def presentations(self, count: int, tag: str) -> list[tuple[str, str]]:
        """``count`` presentations, each with its own nonce: ``(nonce, presentation)``."""
        out = []
        for i in range(count):
            nonce = f"{tag}-{i}-{secrets.token_urlsafe(12)}"
            out.append((nonce, self.present(nonce)))
        return out


def open_bench_node(data_dir: Path, public_url: str) -> Any:
    return open_node(
        Config.from_env(
            {},
            {"data_dir": data_dir, "public_url": public_url, "institution_name": INSTITUTION},
        )
    )


def issue_subjects(node: Any) -> list[Subject]:
    """One credential per flavour, issued by the node's issuance service for an application
    its KYC checks approved. Issued at least a second after the node created its DID, as in
    real use: a credential whose ``iat`` falls in the second of the DID version that holds its
    key makes ``key_at`` resolve twice (``iat`` has whole seconds), which would be measured."""
    created = time.time()
    time.sleep(max(0.0, math.floor(created) + 1.05 - time.time()))
    with node.store.transaction():
        broker = node.store.add_api_key(
            "bench", "broker", secrets.token_hex(32), "bench", node.now()
        )
    row, _ = node.kyc.submit(APPLICATION, broker, "bench", None)
    if row.status != "approved":
        raise SystemExit(f"the benchmark application was not approved: {row.decision}")
    subjects = []
    for flavour in FLAVOURS:
        holder = PrivateKey.generate(flavour.holder)
        issued = node.issuance.issue(
            str(row.id), flavour.configuration, holder.public_key, actor="bench"
        )
        subjects.append(
            Subject(node, flavour, issued.credential, holder, node.verification.client_id)
        )
    return subjects


# --- floor: two signature verifications -----------------------------------------------------------


def _jws_parts(token: str) -> tuple[bytes, bytes]:
    head, body, signature = token.split(".")
    return f"{head}.{body}".encode("ascii"), b64url_decode(signature)


def _raw_verify(key: PublicKey, message: bytes, signature: bytes) -> Callable[[], None]:
    """One verification of ``signature`` with ``cryptography``, set up outside the timed call."""
    if key.key_type is KeyType.ED25519:
        ed = Ed25519PublicKey.from_public_bytes(key.raw)
        return lambda: ed.verify(signature, message)
    p256 = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.raw)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda: p256.verify(der, message, algorithm)


def floor_call(subject: Subject, presentation: str) -> Callable[[int], None]:
    """The issuer signature and the KB-JWT signature of ``presentation``, ``cryptography`` only."""
    parsed = sd_jwt.parse(presentation)
    if parsed.kb_jwt is None:
        raise SystemExit("the presentation has no KB-JWT")
    issuer = _raw_verify(subject.issuer_key, *_jws_parts(parsed.issuer_jwt))
    holder = _raw_verify(subject.holder.public_key, *_jws_parts(parsed.kb_jwt))

    def call(_i: int) -> None:
        issuer()
        holder()

    return call


# --- the IETF reference implementation ------------------------------------------------------------


class Reference:
    """The IETF reference implementation (PyPI ``sd-jwt``) verifying our presentations."""

    def __init__(self) -> None:
        import sd_jwt as package  # noqa: PLC0415 (optional: benchmarks/requirements.txt)
        from jwcrypto.jwk import JWK  # noqa: PLC0415
        from sd_jwt.verifier import SDJWTVerifier  # noqa: PLC0415

        class KbAlg(SDJWTVerifier):  # type: ignore[misc]
            """The package checks the KB-JWT signature with ``alg`` fixed to ES256 (its default
            signing algorithm); for an Ed25519 holder key it is told EdDSA."""

            kb_alg = "ES256"

            def _verify_key_binding_jwt(
                self, expected_aud: Any = None, expected_nonce: Any = None, sign_alg: Any = None
            ) -> None:
                super()._verify_key_binding_jwt(expected_aud, expected_nonce, self.kb_alg)

        self.version = str(package.__version__)
        self._jwk = JWK
        self._verifier = KbAlg

    def verifier(self, subject: Subject, pool: Sequence[tuple[str, str]]) -> Callable[[int], Any]:
        """A call verifying ``pool[i]``: the issuer key resolved once (as a verifier caches it)."""
        issuer_jwk = self._jwk(**subject.issuer_key.to_jwk())
        kb_alg = "EdDSA" if subject.flavour.holder is KeyType.ED25519 else "ES256"
        make = type("Ref" + kb_alg, (self._verifier,), {"kb_alg": kb_alg})
        audience = subject.audience

        def issuer_key(_iss: str, _header: dict[str, Any]) -> Any:
            return issuer_jwk

        def call(i: int) -> Any:
            nonce, presentation = pool[i % len(pool)]
            return make(
                presentation, issuer_key, expected_aud=audience, expected_nonce=nonce
            ).get_verified_payload()

        return call


def reference() -> Reference | None:
    try:
        return Reference()
    except ImportError:
        return None


# --- in-process -----------------------------------------------------------------------------------


def best_rates(
    calls: dict[str, tuple[Callable[[int], object], int]], rounds: int
) -> dict[str, float]:
    """Best-of-``rounds`` rate of each call, the calls measured in alternation within each round
    (so that a burst of load from other processes hits them alike); ``(call, count)`` runs
    ``count / rounds`` times per round, after one warm-up call."""
    best = dict.fromkeys(calls, 0.0)
    for _ in range(rounds):
        for name, (call, count) in calls.items():
            n = max(1, count // rounds)
            call(0)
            start = time.perf_counter()
            for i in range(n):
                call(i)
            best[name] = max(best[name], _rate(n, time.perf_counter() - start))
    return best


def _valid(verdict: Verdict) -> None:
    if not verdict.valid:
        raise SystemExit(f"a presentation was refused: {[c for c in verdict.checks if not c.ok]}")


class Memo:
    """The node's collaborators answered from memory (what the node answered once)."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.keys: dict[tuple[str, float], ResolvedKey] = {}
        self.trusted: dict[str, bool] = {}
        self.status: dict[tuple[str, str], FetchedStatusList] = {}

    def key_at(self, kid: str, at: float) -> ResolvedKey:
        found = self.keys.get((kid, at))
        if found is None:
            found = self.keys[kid, at] = self.service.key_at(kid, at)
        return found

    def trust(self, issuer: str) -> bool:
        found = self.trusted.get(issuer)
        if found is None:
            found = self.trusted[issuer] = self.service.is_trusted(issuer)
        return found

    def fetch_status(self, issuer: str, uri: str) -> FetchedStatusList:
        found = self.status.get((issuer, uri))
        if found is None:
            found = self.status[issuer, uri] = self.service.fetch_status(issuer, uri)
        return found


class Timed:
    """Wraps callables and adds up their wall time (nested wrappers each count their own)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        self.seconds.setdefault(name, 0.0)
        self.calls.setdefault(name, 0)
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds[name] += clock() - start
                self.calls[name] += 1

        return timed


def breakdown(subject: Subject, pool: Sequence[tuple[str, str]], count: int) -> None:
    """Where the full path's time goes: the node's collaborators timed one by one."""
    service = subject.node.verification
    timed = Timed()
    real_resolve = node_verification.dids.resolve_key
    # Nesting (an instance attribute shadows the method for the service's own calls):
    #   key_at > dids.resolve_key, _evidence > _verified_checkpoint
    #   fetch_status > issuer_endpoint, _anchor
    service._verified_checkpoint = timed.wrap(
        "    _verified_checkpoint", service._verified_checkpoint
    )
    service._evidence = timed.wrap("  _evidence (inclusion proof)", service._evidence)
    service.issuer_endpoint = timed.wrap("  issuer_endpoint (DID resolve)", service.issuer_endpoint)
    service._anchor = timed.wrap("  _anchor (registry chain)", service._anchor)
    node_verification.dids.resolve_key = timed.wrap(  # type: ignore[attr-defined]
        "  dids.resolve_key", real_resolve
    )
    verifier = Verifier(
        timed.wrap("key_at", service.key_at),
        timed.wrap("is_trusted", service.is_trusted),
        timed.wrap("fetch_status", service.fetch_status),
    )
    try:
        start = time.perf_counter()
        for i in range(count):
            nonce, presentation = pool[i % len(pool)]
            _valid(verifier.verify_sd_jwt_vc(presentation, service.policy(nonce, subject.audience)))
        total = time.perf_counter() - start
    finally:
        node_verification.dids.resolve_key = real_resolve  # type: ignore[attr-defined]
        for name in ("_verified_checkpoint", "_evidence", "issuer_endpoint", "_anchor"):
            del service.__dict__[name]
    order = [
        "key_at",
        "  dids.resolve_key",
        "  _evidence (inclusion proof)",
        "    _verified_checkpoint",
        "is_trusted",
        "fetch_status",
        "  issuer_endpoint (DID resolve)",
        "  _anchor (registry chain)",
    ]
    outer = sum(timed.seconds[n] for n in ("key_at", "is_trusted", "fetch_status"))
    _out(
        f"    where the full path's time goes ({count} presentations, "
        f"{total / count * 1e3:.2f} ms each):"
    )
    for name in order:
        _out(
            f"      {name:<32} {timed.seconds[name] / count * 1e3:6.2f} ms "
            f"({timed.calls[name] / count:.0f} calls)"
        )
    _out(f"      {'the verifier itself':<32} {(total - outer) / count * 1e3:6.2f} ms")


def count_signatures(subject: Subject, pool: Sequence[tuple[str, str]], count: int) -> str:
    """Signature verifications one full verification performs, by key type (from cProfile)."""
    service = subject.node.verification
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        nonce, presentation = pool[i % len(pool)]
        service.verify(presentation, service.policy(nonce, subject.audience))
    profiler.disable()
    ed = es = 0
    for (_file, _line, name), value in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        if "'verify' of" in name and "Ed25519PublicKey" in name:
            ed += value[1]
        elif "'verify' of" in name and "ECPublicKey" in name:
            es += value[1]
    return f"{es / count:.0f} ES256 + {ed / count:.0f} Ed25519"


def profile_full(subject: Subject, pool: Sequence[tuple[str, str]], count: int) -> None:
    service = subject.node.verification
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        nonce, presentation = pool[i % len(pool)]
        service.verify(presentation, service.policy(nonce, subject.audience))
    profiler.disable()
    _out(
        f"\n### profile of VerificationService.verify, {subject.flavour.configuration}, "
        f"{count} presentations"
    )
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def ours(
    subject: Subject, pool: Sequence[tuple[str, str]], args: argparse.Namespace
) -> dict[str, tuple[Callable[[int], object], int]]:
    """The three in-process tiers as calls verifying ``pool[i]`` (policies built beforehand)."""
    service = subject.node.verification
    policies = [service.policy(nonce, subject.audience) for nonce, _ in pool]
    memo = Memo(service)
    checks_only = Verifier(memo.key_at, memo.trust, memo.fetch_status)
    key, audience, now = subject.issuer_key, subject.audience, subject.node.unix_now()
    size = len(pool)

    def full(i: int) -> None:
        _valid(service.verify(pool[i % size][1], policies[i % size]))

    def checks(i: int) -> None:
        _valid(checks_only.verify_sd_jwt_vc(pool[i % size][1], policies[i % size]))

    def issuer_key(_header: dict[str, Any], _claims: dict[str, Any]) -> PublicKey:
        return key

    def core(i: int) -> None:
        nonce, presentation = pool[i % size]
        sd_jwt.verify_sd_jwt_vc(
            presentation, issuer_key, now=now, expected_aud=audience, expected_nonce=nonce
        )

    return {
        "full": (full, args.full_count),
        "checks": (checks, args.core_count),
        "core": (core, args.core_count),
    }


def bench_in_process(
    args: argparse.Namespace, workdir: Path, ref: Reference | None
) -> dict[str, float]:
    _out("\n## in-process (one thread)")
    node = open_bench_node(workdir / "node", "https://bank.example")
    floors: dict[str, float] = {}
    try:
        subjects = issue_subjects(node)
        service = node.verification
        for subject in subjects:
            flavour = subject.flavour
            pool = subject.presentations(args.pool, "in")
            calls: dict[str, tuple[Callable[[int], object], int]] = {
                "floor": (floor_call(subject, pool[0][1]), args.floor_count),
                **ours(subject, pool, args),
            }
            if ref is not None:
                calls["reference"] = (ref.verifier(subject, pool), args.ref_count)
            rates = best_rates(calls, args.rounds)
            floor = floors[flavour.configuration] = rates["floor"]
            size = len(pool[0][1])
            _out(
                f"\n  {flavour.configuration}: {flavour.floor} issuer key, "
                f"{flavour.holder.value} holder key; presentation {size:,} characters, "
                f"{len(sd_jwt.parse(pool[0][1]).disclosures)} disclosures"
            )

            def line(label: str, rate: float, floor: float = floor) -> None:
                _out(
                    f"    {label:<46} {rate:8,.0f} /s  ({1e6 / rate:7.0f} us)  "
                    f"= {rate / floor:5.3f}x the floor"
                )

            _out(
                f"    {'floor: 2 x ' + flavour.floor + ' verify (cryptography)':<46} "
                f"{floor:8,.0f} /s  ({1e6 / floor:7.0f} us)"
            )
            line("full: VerificationService.verify", rates["full"])
            line("checks only: Verifier, lookups from memory", rates["checks"])
            line("crypto core: sd_jwt.verify_sd_jwt_vc", rates["core"])
            if ref is not None:
                line(f"reference: sd-jwt {ref.version} SDJWTVerifier", rates["reference"])
                _out(
                    f"    ours / reference: full {rates['full'] / rates['reference']:5.2f}x, "
                    f"crypto core {rates['core'] / rates['reference']:5.2f}x"
                )

            # verify_direct: nonces are consumed, so each call gets a fresh presentation.
            fresh = subject.presentations(args.direct_count, "direct")
            start = time.perf_counter()
            for nonce, presentation in fresh:
                outcome = service.verify_direct(presentation, nonce, subject.audience, None)
                _valid(outcome.verdict)
            rate = _rate(len(fresh), time.perf_counter() - start)
            line("verify_direct: + replay, receipt, commit", rate)
            again = service.verify_direct(fresh[0][1], fresh[0][0], subject.audience, None)
            if again.verdict.valid:
                raise SystemExit("a replayed presentation was accepted")
            _out(
                f"    signature verifications per full verification: "
                f"{count_signatures(subject, pool, 5)} (the floor: 2 {flavour.floor})"
            )
            breakdown(subject, pool, args.breakdown_count)
            if args.profile:
                profile_full(subject, pool, args.breakdown_count)
        _out(
            "\n  target: full >= 0.8x the floor "
            f"(this machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f})"
        )
    finally:
        node.close()
    return floors


# --- over HTTP ------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection, as one bank back end would hold."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        self.conn.request(method, path, body=data, headers=self.auth)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def verify(self, nonce: str, presentation: str, audience: str) -> tuple[int, Any]:
        body = {"presentation": presentation, "nonce": nonce, "audience": audience}
        return self.call("POST", "/verifier/verify", body)

    def close(self) -> None:
        self.conn.close()


def run_threads(
    clients: Sequence[Client], work: Callable[[int, Client], int]
) -> tuple[float, int, list[BaseException]]:
    """Run ``work(i, client)`` on one thread per client; returns (seconds, completed, errors)."""
    errors: list[BaseException] = []
    done = [0] * len(clients)
    barrier = threading.Barrier(len(clients) + 1)

    def body(i: int) -> None:
        barrier.wait()
        try:
            done[i] = work(i, clients[i])
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=body, args=(i,)) for i in range(len(clients))]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - start, sum(done), errors


def verify_shares(
    shares: Sequence[Sequence[tuple[str, str]]], audience: str
) -> Callable[[int, Client], int]:
    """Client ``i`` posts its share of presentations; each must be valid, with a receipt."""

    def work(i: int, client: Client) -> int:
        for nonce, presentation in shares[i]:
            status, body = client.verify(nonce, presentation, audience)
            if status != 200 or not body.get("valid") or not body.get("receipt"):
                raise RuntimeError(f"verify: {status} {json.dumps(body)[:500]}")
        return len(shares[i])

    return work


def bench_http(args: argparse.Namespace, workdir: Path, floors: dict[str, float]) -> None:
    threads = args.threads
    _out(f"\n## over HTTP: `python app.py` (waitress, 8 threads), {threads} client threads")
    server = Server(workdir / "http-node", INSTITUTION)
    # The credentials are issued by the server's own node (same data dir and public URL),
    # before it starts: its status lists and DID are the ones the server will serve.
    node = open_bench_node(server.data_dir, server.url)
    try:
        subjects = issue_subjects(node)
        if not floors:
            for subject in subjects:
                call = floor_call(subject, subject.present("floor"))
                floors[subject.flavour.configuration] = best_rates(
                    {"floor": (call, args.floor_count)}, args.rounds
                )["floor"]
    finally:
        node.close()
    key = server.cli("apikey", "create", "--role", "verifier", "--name", "bench").strip()
    verifier_key = key.splitlines()[-1]
    server.start()
    try:
        clients = [Client(server.port, verifier_key) for _ in range(threads)]
        per_thread = max(1, args.http_count // threads)

        def health(_i: int, client: Client) -> int:
            for _ in range(per_thread):
                status, _ = client.call("GET", "/health")
                if status != 200:
                    raise RuntimeError(f"health: {status}")
            return per_thread

        cpu0 = server.cpu_seconds()
        seconds, made, errors = run_threads(clients, health)
        if errors:
            raise SystemExit(f"GET /health failed: {errors[0]}")
        health_rate = _rate(made, seconds)
        _out(
            f"  HTTP floor: GET /health {health_rate:7,.0f} requests/s "
            f"(server CPU {(server.cpu_seconds() - cpu0) / made * 1e3:.2f} ms each)"
        )
        for subject in subjects:
            flavour = subject.flavour
            floor = floors[flavour.configuration]
            shares = [subject.presentations(per_thread, f"http{i}") for i in range(threads)]

            cpu0 = server.cpu_seconds()
            seconds, made, errors = run_threads(clients, verify_shares(shares, subject.audience))
            server_cpu = server.cpu_seconds() - cpu0
            if errors:
                raise SystemExit(f"verification over HTTP failed: {errors[0]}")
            rate = _rate(made, seconds)
            _out(
                f"  {flavour.configuration:<21} POST /verifier/verify: {made:,} in "
                f"{seconds:5.1f} s = {rate:6,.0f} /s = {rate / floor:5.3f}x the floor "
                f"({floor:,.0f}/s, one thread); server CPU {server_cpu / made * 1e3:5.2f} ms each"
            )
            nonce, presentation = shares[0][0]
            status, body = clients[0].verify(nonce, presentation, subject.audience)
            checks = ((body or {}).get("verdict") or {}).get("checks", [])
            codes = [c["code"] for c in checks if not c["ok"]]
            if status != 422 or "nonce_replayed" not in codes:
                raise SystemExit(f"a replayed presentation was not refused: {status} {body}")
        _out("  (a replay of an accepted presentation: 422 nonce_replayed, as it must be)")
        for c in clients:
            c.close()
    except SystemExit:
        _out(f"  server log (tail):\n{server.log_tail()}")
        raise
    finally:
        server.stop()


# --- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool", type=int, default=300, help="distinct presentations cycled")
    parser.add_argument("--floor-count", type=int, default=6000, help="floor calls")
    parser.add_argument("--full-count", type=int, default=600, help="VerificationService.verify")
    parser.add_argument("--core-count", type=int, default=3000, help="checks-only and core calls")
    parser.add_argument("--ref-count", type=int, default=1500, help="reference verifications")
    parser.add_argument("--direct-count", type=int, default=300, help="verify_direct calls")
    parser.add_argument("--breakdown-count", type=int, default=100, help="timed / profiled")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds, best kept")
    parser.add_argument("--http-count", type=int, default=600, help="verifications over HTTP")
    parser.add_argument("--threads", type=int, default=8, help="HTTP client threads")
    parser.add_argument("--profile", action="store_true", help="cProfile the full path")
    parser.add_argument("--skip", default="", help="comma list of: inprocess,http")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--workdir", help="where to put the data directories (default: temp)")
    args = parser.parse_args(argv)
    if args.quick:
        args.pool, args.floor_count, args.full_count, args.core_count = 20, 300, 30, 150
        args.ref_count, args.direct_count, args.breakdown_count = 60, 20, 10
        args.rounds, args.http_count = 1, 64
    skip = set(filter(None, args.skip.split(",")))

    started = time.perf_counter()
    _out(
        f"# verification benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
        f"load average {os.getloadavg()[0]:.2f})"
    )
    ref = reference()
    if ref is None:
        _out(
            "(the IETF reference implementation `sd-jwt` is not installed: its part is skipped."
            "\n Install it with: .venv/bin/pip install -r benchmarks/requirements.txt)"
        )
    floors: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        if "inprocess" not in skip:
            floors = bench_in_process(args, workdir, ref)
        if "http" not in skip:
            bench_http(args, workdir, floors)
    _out(
        f"\n(total {time.perf_counter() - started:.0f} s; "
        f"load average now {os.getloadavg()[0]:.2f}: other processes skew every figure)"
    )


if __name__ == "__main__":
    main()
