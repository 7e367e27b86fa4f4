"""Node configuration: environment variables with sane defaults, overridable by ``create_app``.

- ``KYC_DATA_DIR`` (``./instance``): the SQLite file, the master key, all the node writes.
- ``KYC_PUBLIC_URL`` (``http://localhost:5000``): the base URL other parties reach this node at.
- ``KYC_MASTER_KEY`` (generated into ``<data dir>/master.key``, mode 0600): 32 bytes, base64url;
  seals private keys and personal data at rest.
- ``KYC_INSTITUTION_NAME`` (``Example Broker``): the institution's name, set on first start.
- ``KYC_MAX_BODY_BYTES`` (``262144``): the largest request body accepted (413 above it).
- ``KYC_REGISTRY_ORIGIN`` (the public URL's host, port and path + ``/registry``): the C2SP
  origin line of this node's log, also the name of its log key.
- ``KYC_GOVERNANCE_KEYS`` (this node's governance key) and ``KYC_GOVERNANCE_THRESHOLD`` (1):
  the did:key DIDs (comma-separated) whose signatures authorise governance entries, k of n.
- ``KYC_HOST`` / ``KYC_PORT`` (``127.0.0.1`` / ``5000``): where ``python app.py`` listens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from errors import InvalidValue

__all__ = ["Config"]


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path = Path("instance")
    public_url: str = "http://localhost:5000"
    master_key: str | None = None
    institution_name: str = "Example Broker"
    max_body_bytes: int = 256 * 1024
    host: str = "127.0.0.1"
    port: int = 5000
    registry_origin: str | None = None
    governance_keys: tuple[str, ...] = ()
    governance_threshold: int = 1

    def __repr__(self) -> str:  # the master key never reaches a log line through repr
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "master_key"}
        return f"Config({shown}, master_key={'<set>' if self.master_key else None})"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kyc.sqlite3"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> Config:
        env = os.environ if env is None else env
        defaults = cls()
        config = cls(
            data_dir=Path(env.get("KYC_DATA_DIR", "instance")),
            public_url=env.get("KYC_PUBLIC_URL", defaults.public_url),
            master_key=env.get("KYC_MASTER_KEY") or None,
            institution_name=env.get("KYC_INSTITUTION_NAME", defaults.institution_name),
            max_body_bytes=_int(env, "KYC_MAX_BODY_BYTES", defaults.max_body_bytes),
            host=env.get("KYC_HOST", defaults.host),
            port=_int(env, "KYC_PORT", defaults.port),
            registry_origin=env.get("KYC_REGISTRY_ORIGIN") or None,
            governance_keys=tuple(
                k.strip() for k in env.get("KYC_GOVERNANCE_KEYS", "").split(",") if k.strip()
            ),
            governance_threshold=_int(env, "KYC_GOVERNANCE_THRESHOLD", 1),
        )
        if overrides:
            known = {f.name for f in fields(cls)}
            unknown = set(overrides) - known
            if unknown:
                raise InvalidValue(f"unknown configuration keys: {sorted(unknown)}")
            values = dict(overrides)
            if "data_dir" in values:
                values["data_dir"] = Path(values["data_dir"])
            config = replace(config, **values)
        config = replace(config, public_url=config.public_url.rstrip("/"))
        config.validate()
        return config

    def validate(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue("KYC_PUBLIC_URL must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise InvalidValue("KYC_PUBLIC_URL must not have a query or fragment")
        if not 1024 <= self.max_body_bytes <= 64 * 1024 * 1024:
            raise InvalidValue("KYC_MAX_BODY_BYTES must be between 1 KiB and 64 MiB")
        if not self.institution_name.strip() or len(self.institution_name) > 200:
            raise InvalidValue("KYC_INSTITUTION_NAME must be 1 to 200 characters")
        if self.registry_origin is not None and not re.fullmatch(
            r"[A-Za-z0-9._~:/-]{1,200}", self.registry_origin
        ):
            raise InvalidValue("KYC_REGISTRY_ORIGIN must be a schema-less URL, e.g. host/registry")
        if self.governance_threshold < 1:
            raise InvalidValue("KYC_GOVERNANCE_THRESHOLD must be at least 1")

    @property
    def origin(self) -> str:
        """The registry log's origin: configured, or derived from the public URL."""
        if self.registry_origin:
            return self.registry_origin
        parts = urlsplit(self.public_url)
        return f"{parts.netloc}{parts.path.rstrip('/')}/registry"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidValue(f"{name} must be an integer") from exc
