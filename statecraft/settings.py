"""Typed settings of the endpoint: every limit explicit and configurable (STATECRAFT_* environment variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path


def _env(name: str, default, kind):
    raw = os.environ.get(f"STATECRAFT_{name.upper()}")
    if raw is None:
        return default
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is tuple:
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if kind is Path:
        return Path(raw)
    return kind(raw)


@dataclass(frozen=True)
class Settings:
    root: Path = Path(".")                       # the project folder (ontology/, data/, dist/)
    dist: Path | None = None                     # the build output; default <root>/dist
    store: Path | None = None                    # on-disk Oxigraph store; None = in memory
    build: bool = True                           # build dist/ first when missing or stale
    engine: str | None = None                    # a remote SPARQL 1.1 query URL instead of the embedded store
    engine_connections: int = 8                  # queries in flight to the remote engine at most
    base_iri: str = "https://w3id.org/statecraft/"
    query_timeout: float = 10.0                  # seconds; the worker running a query is killed after it
    workers: int = 2                             # query worker processes
    queue_timeout: float = 10.0                  # seconds a request may wait for a free worker
    max_request_bytes: int = 1_000_000           # request bodies above this get 413
    max_result_bytes: int = 50_000_000           # serialised results above this are refused, never truncated
    allow_service_hosts: tuple[str, ...] = ()    # hosts a SERVICE clause may call; none by default
    http_workers: int = 1                        # front processes sharing the port, each with its own query workers
    cors: bool = True                            # read-only data: any origin may GET and POST queries
    write_token: str | None = field(default=None, repr=False)   # enables writes; never printed or logged
    write_token_file: Path | None = None         # or a file of `name token` lines (one curator per line)
    write_timeout: float = 60.0                  # seconds; the writer process is replaced after it
    max_write_quads: int = 100_000               # quads one write may insert and delete in all

    @property
    def dist_dir(self) -> Path:
        return (self.dist or self.root / "dist").resolve()

    def as_env(self) -> dict[str, str]:
        """These settings as STATECRAFT_* variables: what from_env reads back in another process."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            text = ("1" if value else "0") if isinstance(value, bool) else \
                ",".join(value) if isinstance(value, tuple) else str(value)
            env[f"STATECRAFT_{f.name.upper()}"] = text
        return env

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = {}
        for f in fields(cls):
            kind = {"str | None": str, "Path | None": Path, "Path": Path, "bool": bool, "float": float, "int": int, "str": str,
                    "tuple[str, ...]": tuple}[str(f.type)]
            values[f.name] = _env(f.name, f.default, kind)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
