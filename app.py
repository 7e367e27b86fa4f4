"""The composition root: ``create_app`` wires configuration, storage, keys and the HTTP layer.

Run the service with ``python app.py`` (``--host``/``--port``; ``--port 0`` picks a free port and
prints it) or ``flask --app app run``. Administration commands live on the Flask CLI, for example
``flask --app app apikey create --role broker --name "front desk"``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from waitress.server import create_server

import api
from api.auth import Role, new_api_key
from config import Config
from node import Node, open_node
from node.cli import did_cli, kyc_cli, registry_cli, verify_command, witness_cli
from node.peers import Publisher
from storage import AuditEvent

__all__ = ["create_app"]


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application for one node. ``config`` overrides the environment."""
    if not isinstance(config, Config):
        config = Config.from_env(overrides=config)
    app = Flask(__name__, instance_path=str(config.data_dir.resolve()))
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    node = open_node(config)
    app.extensions["kyc"] = node
    atexit.register(node.close)
    api.register(app)
    # The server runs each connection on its own thread: close that thread's SQLite
    # connections when its request ends, or every connection would leak two file handles.
    app.teardown_appcontext(lambda _error: node.release_thread())
    _register_cli(app)
    return app


def _node(app: Flask) -> Node:
    found: Node = app.extensions["kyc"]
    return found


def _register_cli(app: Flask) -> None:
    apikey = click.Group("apikey", help="Manage API keys.")

    @apikey.command("create")
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--name", required=True, help="Who or what uses the key.")
    def create(role: str, name: str) -> None:
        """Create an API key; the key is printed once, as the last line."""
        node = _node(app)
        name = name.strip()
        if not name or len(name) > 200:
            raise click.BadParameter("the name must be 1 to 200 characters", param_hint="--name")
        key, key_hash, prefix = new_api_key()
        now = node.now()
        with node.store.transaction():
            key_id = node.store.add_api_key(name, role, key_hash, prefix, now)
            node.store.record_event(
                AuditEvent(
                    now, "cli", "api_key.create", f"api_key:{key_id}", {"role": role, "name": name}
                )
            )
        click.echo(f"Created API key {key_id} ({prefix}...) for {name!r} with role {role}.")
        click.echo("Store it now: it is not shown again.")
        click.echo(key)

    @apikey.command("list")
    def list_keys() -> None:
        """List API keys (ids, names, roles, prefixes; never the keys)."""
        for record in _node(app).store.list_api_keys():
            state = "revoked" if record.revoked_at else "active"
            click.echo(f"{record.id}\t{record.role}\t{record.prefix}...\t{state}\t{record.name}")

    @apikey.command("revoke")
    @click.argument("key_id", type=int)
    def revoke(key_id: int) -> None:
        """Revoke an API key by id."""
        node = _node(app)
        now = node.now()
        with node.store.transaction():
            if not node.store.revoke_api_key(key_id, now):
                raise click.ClickException(f"no active API key with id {key_id}")
            node.store.record_event(
                AuditEvent(now, "cli", "api_key.revoke", f"api_key:{key_id}", {})
            )
        click.echo(f"Revoked API key {key_id}.")

    app.cli.add_command(apikey)

    @app.cli.command("audit-verify")
    def audit_verify() -> None:
        """Check the audit trail's hash chain from the first record to the last."""
        count, broken = _node(app).store.verify_audit_chain()
        if broken is not None:
            raise click.ClickException(f"audit trail broken at record {broken} "
                                       f"(after {count} good records)")
        click.echo(f"audit trail intact: {count} records")
    app.cli.add_command(registry_cli(lambda: _node(app)))
    app.cli.add_command(witness_cli(lambda: _node(app)))
    app.cli.add_command(did_cli(lambda: _node(app)))
    app.cli.add_command(kyc_cli(lambda: _node(app)))
    app.cli.add_command(verify_command(lambda: _node(app)))


SERVER_THREADS = 8


def serve(argv: list[str] | None = None) -> None:
    """Run the node on waitress (a production WSGI server: HTTP/1.1 keep-alive, a fixed pool of
    worker threads) until interrupted; with ``--workers N``, N such processes on one socket."""
    parser = argparse.ArgumentParser(description="Run the KYC identity service node.")
    defaults = Config.from_env()
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port, help="0 picks a free port")
    parser.add_argument("--threads", type=int, default=SERVER_THREADS,
                        help="request worker threads (per process)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes sharing the port (one Python process uses one "
                             "core at most)")
    # Set by the supervisor for the processes it starts: the inherited listening socket.
    parser.add_argument("--worker-socket", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker-ready", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # waitress warns on every burst that queues requests behind busy threads: expected under load.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if args.workers > 1 and args.worker_socket is None:
        sys.exit(_supervise(args))
    app = create_app()
    options: dict[str, Any] = {
        "threads": max(1, args.threads),
        "ident": "kyc-node",
        # Flask refuses larger bodies with a JSON 413; waitress stops anything far beyond that.
        "max_request_body_size": 4 * _node(app).config.max_body_bytes,
    }
    if args.worker_socket is None:
        server = create_server(app, host=args.host, port=args.port, **options)
    else:
        listener = socket.socket(fileno=args.worker_socket)
        server = create_server(app, sockets=[listener], **options)
        _exit_with_parent()
    # One process collects witness cosignatures; the others only serve.
    publisher = Publisher(_node(app).registry, interval=1.0) if args.worker_index == 0 else None
    if publisher is not None:
        publisher.start()
    if args.worker_socket is None:
        # The e2e tests and the demo read this line to learn the bound port.
        print(f"listening on http://{args.host}:{server.effective_port}", flush=True)
    elif args.worker_ready is not None:
        # To the supervisor, which waits for all. Gone already: stopped while we started, and
        # the parent watch ends this process.
        with contextlib.suppress(BrokenPipeError):
            os.write(args.worker_ready, b"ready\n")
        os.close(args.worker_ready)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if publisher is not None:
            publisher.stop()
        server.close()


def _supervise(args: argparse.Namespace) -> int:
    """Prepare the data directory once, bind the port, start ``args.workers`` server processes
    on the inherited socket (the kernel hands each connection to one of them) and wait. When
    one stops, or on SIGTERM/SIGINT, stop them all (also while they are still starting)."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # Migrations, the institution and its keys are made here, once, not raced by the workers.
    _node(create_app()).close()
    listener = socket.create_server((args.host, args.port), backlog=1024)
    listener.set_inheritable(True)
    fd = listener.fileno()
    ready_read, ready_write = os.pipe()
    command = [sys.executable, str(Path(__file__).resolve()), "--worker-socket", str(fd),
               "--worker-ready", str(ready_write), "--threads", str(args.threads)]
    workers: list[subprocess.Popen[bytes]] = []
    code = 0
    try:
        for index in range(args.workers):
            # Our own interpreter running this file: no outside input in the command.
            workers.append(subprocess.Popen(  # noqa: S603
                [*command, "--worker-index", str(index)], pass_fds=(fd, ready_write)
            ))
        os.close(ready_write)
        ready_write = -1
        # "listening" once every worker serves (each writes a line when it is ready; a worker
        # that dies first closes its end, and the read ends early).
        with os.fdopen(ready_read, "rb") as ready:
            ready_read = -1
            started = sum(1 for _ in zip(range(args.workers), ready, strict=False))
        if started == args.workers:
            port = listener.getsockname()[1]
            print(f"listening on http://{args.host}:{port} ({args.workers} workers)", flush=True)
        while all(worker.poll() is None for worker in workers):
            time.sleep(0.2)
        code = next(w.returncode for w in workers if w.returncode is not None) or 1
        logging.getLogger(__name__).error("a worker process stopped (exit %s): stopping", code)
    except KeyboardInterrupt:
        pass
    finally:
        for end in (ready_read, ready_write):
            if end >= 0:
                os.close(end)
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        listener.close()
    return code


def _exit_with_parent() -> None:
    """A worker ends when its supervisor is gone (killed without the chance to stop it)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1:2] == ["demo"]:
        from demo import run  # only the demo needs the wallet and subprocess machinery

        run()
    else:
        serve(sys.argv[1:])
