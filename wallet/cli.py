"""``python -m wallet``: the holder's command line.

    python -m wallet init [--key-type ed25519|p-256]
    python -m wallet receive 'openid-credential-offer://?credential_offer_uri=...' [--tx-code N]
    python -m wallet list
    python -m wallet show <id>
    python -m wallet present 'openid4vp://?client_id=...&request_uri=...' [--yes]
    python -m wallet delete <id> [--yes]

``--wallet PATH`` (before the command) chooses the wallet file, default ``~/.kyc-wallet`` (or
``$KYC_WALLET``). The passphrase is read from ``$KYC_WALLET_PASSPHRASE`` if set, else prompted
for without echo. ``--json`` prints machine-readable output. Errors are one line on stderr with
a non-zero exit status (1; 2 for usage errors; 130 when interrupted); never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from errors import Error
from identity.did_key import did_from_public_key
from identity.keys import KeyType
from wallet import client
from wallet.errors import WalletError
from wallet.holder import CredentialRecord
from wallet.store import Wallet, default_wallet_path

__all__ = ["PASSPHRASE_ENV", "WALLET_ENV", "main"]

PASSPHRASE_ENV = "KYC_WALLET_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
WALLET_ENV = "KYC_WALLET"


class _Abort(Exception):
    """A clean stop with a message (usage problems found after parsing)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wallet", description="KYC credential wallet")
    parser.add_argument(
        "--wallet",
        type=Path,
        default=Path(os.environ[WALLET_ENV]) if os.environ.get(WALLET_ENV) else None,
        help="wallet file (default: $KYC_WALLET or ~/.kyc-wallet)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = commands.add_parser("init", help="create a wallet with a new holder key")
    init.add_argument("--key-type", choices=["ed25519", "p-256"], default="ed25519")
    receive = commands.add_parser("receive", help="receive a credential from an offer")
    receive.add_argument("offer", help="openid-credential-offer:// URI")
    receive.add_argument("--tx-code", help="transaction code sent to you by the issuer")
    commands.add_parser("list", help="list the credentials")
    show = commands.add_parser("show", help="show one credential's claims")
    show.add_argument("id")
    present = commands.add_parser("present", help="answer a presentation request")
    present.add_argument("request", help="openid4vp:// URI")
    present.add_argument("--yes", action="store_true", help="consent without asking")
    delete = commands.add_parser("delete", help="delete a credential")
    delete.add_argument("id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _passphrase(*, confirm: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise _Abort(f"no passphrase: set {PASSPHRASE_ENV} or run in a terminal")
    first = getpass.getpass("Wallet passphrase: ")
    if confirm:
        if len(first) < 8:
            raise _Abort("the passphrase must have at least 8 characters")
        if getpass.getpass("Repeat passphrase: ") != first:
            raise _Abort("the passphrases differ")
    return first


def _ask(question: str, out: TextIO) -> bool:
    if not sys.stdin.isatty():
        raise _Abort("cannot ask for consent without a terminal (use --yes)")
    out.write(question)
    out.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _date(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _summary(record: CredentialRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "vct": record.vct,
        "issuer": record.issuer,
        "received_at": record.received_at,
        "expires_at": record.expires_at,
    }


def _print_json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _cmd_init(args: argparse.Namespace, path: Path, out: TextIO) -> None:
    if path.exists():
        raise _Abort(f"{path} already exists")
    key_type = KeyType.ED25519 if args.key_type == "ed25519" else KeyType.P256
    wallet = Wallet.create(path, _passphrase(confirm=True), key_type=key_type, now=int(time.time()))
    key = wallet.holder_key()
    holder_did = did_from_public_key(key.public_key)
    if args.json:
        _print_json(
            {"wallet": str(path), "holder_key": key.public_key.to_jwk(), "holder_did": holder_did},
            out,
        )
    else:
        out.write(f"Created {path} with a new {key.key_type} holder key\n")
        out.write(f"Holder DID (give it to your broker): {holder_did}\n")


def _cmd_receive(args: argparse.Namespace, wallet: Wallet, out: TextIO) -> None:
    def ask_tx_code(tx_code: dict[str, Any]) -> str:
        if not sys.stdin.isatty():
            raise _Abort("this offer needs a transaction code: pass --tx-code")
        hint = tx_code.get("description") or "Transaction code from the issuer"
        length = tx_code.get("length")
        return getpass.getpass(f"{hint}{f' ({length} characters)' if length else ''}: ").strip()

    record = client.receive(args.offer, wallet, args.tx_code, ask_tx_code=ask_tx_code)
    if args.json:
        _print_json({**_summary(record), "claims": record.personal_claims}, out)
        return
    out.write(f"Received credential {record.id}\n")
    out.write(f"  type:    {record.vct}\n  issuer:  {record.issuer}\n")
    out.write(f"  expires: {_date(record.expires_at)}\n")


def _cmd_list(args: argparse.Namespace, wallet: Wallet, out: TextIO) -> None:
    if args.json:
        _print_json([_summary(r) for r in wallet.credentials], out)
        return
    if not wallet.credentials:
        out.write("No credentials.\n")
    for record in wallet.credentials:
        out.write(f"{record.id}  {record.vct}  from {record.issuer}\n")
        out.write(f"    received {_date(record.received_at)}, expires {_date(record.expires_at)}\n")


def _cmd_show(args: argparse.Namespace, wallet: Wallet, out: TextIO) -> None:
    record = wallet.credential(args.id)
    if args.json:
        _print_json(
            {**_summary(record), "claims": record.personal_claims, "credential": record.credential},
            out,
        )
        return
    out.write(f"Credential {record.id}\n  type:     {record.vct}\n  issuer:   {record.issuer}\n")
    out.write(f"  received: {_date(record.received_at)}\n  expires:  {_date(record.expires_at)}\n")
    out.write("  claims:\n")
    for name, value in record.personal_claims.items():
        out.write(f"    {name}: {json.dumps(value, ensure_ascii=False)}\n")


def _consent(args: argparse.Namespace, out: TextIO) -> Callable[[dict[str, Any]], bool]:
    def consent(summary: dict[str, Any]) -> bool:
        if not args.json:
            out.write(f"{summary['verifier']} asks for:\n")
            for shared in summary["credentials"]:
                out.write(f"  from your {shared['vct']} credential {shared['credential']}")
                out.write(f" (issued by {shared['issuer']}):\n")
                if not shared["claims"]:
                    out.write("    no personal claims (only the credential's type and issuer)\n")
                for path, value in shared["claims"].items():
                    out.write(f"    {path}: {json.dumps(value, ensure_ascii=False)}\n")
            out.write(f"The answer goes to {summary['response_uri']}\n")
        if args.yes:
            return True
        return _ask("Share these claims? [y/N] ", out)

    return consent


def _cmd_present(args: argparse.Namespace, wallet: Wallet, out: TextIO) -> None:
    result = client.present(args.request, wallet, consent=_consent(args, out))
    if args.json:
        _print_json(result, out)
        return
    out.write(f"Presented; the verifier answered (HTTP {result['status']}):\n")
    if result["response"] is not None:
        _print_json(result["response"], out)


def _cmd_delete(args: argparse.Namespace, wallet: Wallet, out: TextIO) -> None:
    record = wallet.credential(args.id)
    if not args.yes and not _ask(f"Delete credential {record.id} ({record.vct})? [y/N] ", out):
        raise _Abort("nothing deleted")
    wallet.delete_credential(record.id)
    wallet.save()
    if args.json:
        _print_json({"deleted": record.id}, out)
    else:
        out.write(f"Deleted {record.id}\n")


_COMMANDS = {
    "receive": _cmd_receive,
    "list": _cmd_list,
    "show": _cmd_show,
    "present": _cmd_present,
    "delete": _cmd_delete,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    path = args.wallet or default_wallet_path()
    try:
        if args.command == "init":
            _cmd_init(args, path, out)
        else:
            if not path.exists():
                raise _Abort(f"no wallet at {path} (create one with 'python -m wallet init')")
            wallet = Wallet.open(path, _passphrase(confirm=False))
            _COMMANDS[args.command](args, wallet, out)
    except (WalletError, Error, _Abort) as exc:
        message = getattr(exc, "message", None) or str(exc)
        sys.stderr.write(f"error: {message}\n")
        return 1
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("interrupted\n")
        return 130
    return 0
