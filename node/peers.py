"""Outbound HTTP to other nodes: the only place a node makes requests of its own.

Every request has a timeout and a response size limit, and only goes to URLs the operator
configured (a witness's URL, a mirrored log's URL): never to a URL taken from a request.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import errors
from errors import InvalidValue, ServiceUnavailable
from node.registry import RegistryService
from registry.cosignature import CosignatureVerifier, verify_cosignatures

__all__ = ["HttpReply", "Publisher", "fetch", "publish_cosignatures"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class PeerUnreachable(ServiceUnavailable):
    code = "peer_unreachable"


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes
    content_type: str


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> HttpReply:
    """One HTTP request; any status is returned, transport failures raise PeerUnreachable."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidValue(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (scheme checked)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpReply(response.status, _read(response, max_bytes),
                             response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, _read(error, max_bytes),
                         error.headers.get("Content-Type", "") if error.headers else "")
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
        raise PeerUnreachable(f"{url}: {getattr(error, 'reason', error)}") from error


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: a peer could otherwise send a request to any address (an
    internal service, cloud metadata). A 3xx is returned to the caller as it is."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _read(response: object, max_bytes: int) -> bytes:
    data: bytes = response.read(max_bytes + 1)  # type: ignore[attr-defined]
    if len(data) > max_bytes:
        raise PeerUnreachable(f"response larger than {max_bytes} bytes")
    return data


def publish_cosignatures(service: RegistryService, *, timeout: float = 2.0) -> dict[str, str]:
    """Ask each of this log's witnesses to cosign the latest checkpoint.

    Returns ``{witness name: outcome}``. A witness that answers 409 (it last cosigned another
    size) is asked again once from the size it reports, per C2SP tlog-witness.
    """
    outcomes: dict[str, str] = {}
    for name, vkey, url, known_size in service.node.store.registry_witnesses():
        old = known_size
        for _attempt in range(2):
            size, _note, body = service.request_for(old)
            if size == old and old != 0 and _already_cosigned(service, size, vkey):
                outcomes[name] = "up to date"
                break
            try:
                reply = fetch(url.rstrip("/") + "/add-checkpoint", method="POST", body=body,
                              timeout=timeout)
            except PeerUnreachable as exc:
                outcomes[name] = f"unreachable: {exc.message}"
                break
            if reply.status == 200:
                try:
                    service.store_cosignatures(name, vkey, size, reply.body)
                    outcomes[name] = f"cosigned {size}"
                except Exception as exc:  # a bad line from a witness must not stop the others
                    outcomes[name] = f"bad cosignature: {exc}"
                break
            if reply.status == 409 and reply.body.strip().isdigit():
                old = int(reply.body.strip())
                continue
            answer = reply.body[:200].decode("utf-8", "replace")
            outcomes[name] = f"refused ({reply.status}): {answer}"
            log.warning("witness %s refused checkpoint %d: %s", name, size, outcomes[name])
            break
    return outcomes


def _already_cosigned(service: RegistryService, size: int, vkey: str) -> bool:
    current = service.node.store.checkpoint_at(size)
    if current is None:
        return False
    try:
        _cp, cosigs = verify_cosignatures(current[2], [CosignatureVerifier.from_vkey(vkey)])
    except errors.Error:
        return False
    return bool(cosigs)


class Publisher:
    """Background thread: collect witness cosignatures for new checkpoints every ``interval``."""

    def __init__(self, service: RegistryService, interval: float = 1.0) -> None:
        self._service = service
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                publish_cosignatures(self._service)
            except Exception:  # keep publishing; the log stays correct without cosignatures
                log.exception("publishing cosignatures failed")
