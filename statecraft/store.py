"""Stage between the build and the endpoint: make sure dist/ is current and give the workers a store.

In memory (the default) each query worker loads dist/statecraft.nq itself. With a store path, the
dumps are bulk-loaded once into an on-disk Oxigraph (RocksDB) store, which workers open read-only;
it is reloaded only when the dataset's content hash changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .settings import Settings
from .workers import StoreSource

HASH_MARKER = "statecraft-content-hash"
SOURCE_FOLDERS = ("ontology", "shapes", "data")


def sources_digest(root: Path) -> str:
    """A digest of every source file the build reads: a change to any of them makes dist/ stale."""
    digest = hashlib.sha256()
    for folder in SOURCE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_report(dist: Path) -> dict | None:
    try:
        return json.loads((dist / "build-report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def dist_is_current(root: Path, dist: Path) -> bool:
    report = build_report(dist)
    return bool(report) and report.get("sources_sha256") == sources_digest(root) and (dist / "statecraft.nq").is_file()


def ensure_dist(settings: Settings, say=print) -> Path:
    dist = settings.dist_dir
    if settings.build and not dist_is_current(settings.root.resolve(), dist):
        from .build import build
        say("dist/ is missing or older than the sources: building it first")
        build(settings.root.resolve(), dist, say=say)
    if not (dist / "statecraft.nq").is_file():
        raise FileNotFoundError(f"{dist / 'statecraft.nq'} is missing: run `statecraft build` first")
    return dist


def prepare(settings: Settings, say=print) -> StoreSource:
    """Where the query workers get their data, building and loading whatever is out of date."""
    if settings.store is not None and not settings.build:
        if not settings.store.is_dir():
            raise FileNotFoundError(f"no Oxigraph store at {settings.store}")
        return StoreSource(store_path=settings.store.resolve())
    dist = ensure_dist(settings, say)
    if settings.store is None:
        return StoreSource(nquads_files=((dist / "statecraft.nq").resolve(),))
    return StoreSource(store_path=load_on_disk(dist, settings.store.resolve(), say))


def load_on_disk(dist: Path, path: Path, say=print) -> Path:
    import pyoxigraph
    wanted = (build_report(dist) or {}).get("content_hash")
    marker = path / HASH_MARKER
    if marker.is_file() and wanted and marker.read_text().strip() == wanted:
        say(f"store {path} is current ({wanted[:23]}…): reopening it without reloading")
        return path
    if path.exists():
        shutil.rmtree(path)
    say(f"loading {dist / 'statecraft.nq'} into the on-disk store {path}")
    store = pyoxigraph.Store(str(path))
    store.bulk_load(path=str(dist / "statecraft.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store  # release RocksDB's lock: workers open the store read-only
    marker.write_text(f"{wanted}\n")
    return path
