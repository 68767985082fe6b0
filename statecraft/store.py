"""Stage between the build and the endpoint: make sure dist/ is current and give the workers a store.

In memory (the default) each query worker loads dist/statecraft.nq itself. With a store path, the
dumps are bulk-loaded once into an on-disk Oxigraph (RocksDB) store, which workers open read-only;
it is reloaded only when the dataset's content hash changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings
from .workers import StoreSource

HASH_MARKER = "statecraft-content-hash"
COUNTS_FILE = "statecraft-graph-counts.json"
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


@dataclass(frozen=True)
class Prepared:
    """What the server starts from: where workers get their data, and the triples per graph if known."""
    source: StoreSource
    counts: dict[str, int] | None


def prepare(settings: Settings, say=print) -> Prepared:
    """Where the query workers get their data, building and loading whatever is out of date.

    With `build` off nothing is built: an explicitly given dist/ is loaded into the store only when
    its content hash differs from the store's; a store alone is served as it is.
    """
    if settings.store is not None and not settings.build and settings.dist is None:
        if not settings.store.is_dir():
            raise FileNotFoundError(f"no Oxigraph store at {settings.store}")
        return Prepared(StoreSource(store_path=settings.store.resolve()), stored_counts(settings.store))
    dist = ensure_dist(settings, say)
    counts = (build_report(dist) or {}).get("triples_per_graph")
    if settings.store is None:
        return Prepared(StoreSource(nquads_files=((dist / "statecraft.nq").resolve(),)), counts)
    return Prepared(StoreSource(store_path=load_on_disk(dist, settings.store.resolve(), say)), counts)


class StoreError(Exception):
    pass


def is_store_folder(path: Path) -> bool:
    """Empty, or a RocksDB folder (the files every RocksDB database has): safe to replace."""
    names = {entry.name for entry in path.iterdir()} if path.is_dir() else None
    return names is not None and (not names or {"CURRENT", "IDENTITY"} <= names)


def stored_counts(path: Path) -> dict[str, int] | None:
    try:
        return json.loads((path / COUNTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_on_disk(dist: Path, path: Path, say=print) -> Path:
    """Bulk-load dist/statecraft.nq into an on-disk store, unless the store already holds that content."""
    import pyoxigraph
    report = build_report(dist) or {}
    wanted = report.get("content_hash")
    marker = path / HASH_MARKER
    if marker.is_file() and wanted and marker.read_text().strip() == wanted:
        say(f"store {path} is current ({wanted[:23]}…): reopening it without reloading")
        return path
    if path.exists():
        if not is_store_folder(path):
            raise StoreError(f"{path} exists and is not an Oxigraph store; give --store a new or empty folder "
                             "(it is replaced whenever the dataset changes)")
        shutil.rmtree(path)
    say(f"loading {dist / 'statecraft.nq'} into the on-disk store {path}")
    try:
        store = pyoxigraph.Store(str(path))
    except OSError as error:
        raise StoreError(f"the store {path} cannot be opened for loading (another process may be writing it: "
                         f"RocksDB allows one writer per folder): {error}") from None
    store.bulk_load(path=str(dist / "statecraft.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    del store  # release RocksDB's lock: workers open the store read-only
    if "triples_per_graph" in report:
        (path / COUNTS_FILE).write_text(json.dumps(report["triples_per_graph"], sort_keys=True), encoding="utf-8")
    marker.write_text(f"{wanted}\n")  # last: a load cut short leaves no marker and is redone
    return path
