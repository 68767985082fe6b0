"""Stage between the build and the endpoint: make sure dist/ is current and give the workers a store.

In memory (the default) each query worker loads dist/statecraft.nq itself. With a store path, the
dumps are bulk-loaded once into an on-disk Oxigraph (RocksDB) store, the first of its generations
(statecraft.generations), which workers open read-only; it is reloaded only when the dataset's
content hash changes, and never over curated writes that the build does not include.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .generations import HASH_MARKER, LOCK, POINTER, Generations
from .settings import Settings
from .workers import StoreSource

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
    """What the server starts from: where workers get their data, the triples per graph if known, and
    the store folder (its generations) when there is one."""
    source: StoreSource
    counts: dict[str, int] | None
    store_root: Path | None = None
    writer_lock: object = None          # the open lock file, for as long as this server may write


def prepare(settings: Settings, say=print) -> Prepared:
    """Where the query workers get their data, building and loading whatever is out of date.

    With `build` off nothing is built: an explicitly given dist/ is loaded into the store only when
    its content hash differs from the store's; a store alone is served as it is.
    """
    if settings.store is not None and not settings.build and settings.dist is None:
        root = settings.store.resolve()
        if Generations.is_layout(root):
            return _served(root, writes_configured(settings))
        if is_store_folder(root) and any(root.iterdir()):   # an Oxigraph store prepared elsewhere: read it as it is
            return Prepared(StoreSource(store_path=root), None, None)
        raise FileNotFoundError(f"no Oxigraph store at {root}")
    dist = ensure_dist(settings, say)
    counts = (build_report(dist) or {}).get("triples_per_graph")
    if settings.store is None:
        return Prepared(StoreSource(nquads_files=((dist / "statecraft.nq").resolve(),)), counts)
    return _served(load_on_disk(dist, settings.store.resolve(), say), writes_configured(settings))


def writes_configured(settings: Settings) -> bool:
    return bool(settings.write_token or settings.write_token_file)


def _served(root: Path, writes: bool) -> Prepared:
    """The current generation. Under the writer's lock, what dead writers left is cleaned up first; a
    server that will write keeps the lock while it runs, and refuses to start when another holds it."""
    generations = Generations(root)
    lock = generations.try_lock()
    if lock is None and writes:
        raise StoreError(f"another server writes the store {root} (it holds {root / LOCK}); one server at a time "
                         "may write a store")
    if lock is not None:
        generations.collect(in_use=set(), keep_newer=False)
        if not writes:
            lock.close()
            lock = None
    current = generations.current()
    return Prepared(StoreSource(store_path=current), Generations.read_counts(current), root, lock)


class StoreError(Exception):
    pass


def is_store_folder(path: Path) -> bool:
    """Empty, a store of ours, or a bare RocksDB folder (the files every RocksDB database has): safe to replace."""
    names = {entry.name for entry in path.iterdir()} if path.is_dir() else None
    return names is not None and (not names or POINTER in names or {"CURRENT", "IDENTITY"} <= names)


def curated_changes(generation: Path) -> set[str]:
    """The changes the journal of a generation records (those the server committed, or the build replayed)."""
    import pyoxigraph
    from .journal import CHANGE_CLASS, JOURNAL_GRAPH
    store = pyoxigraph.Store.read_only(str(generation))
    rdf_type = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    return {quad.subject.value for quad in store.quads_for_pattern(
        None, rdf_type, pyoxigraph.NamedNode(CHANGE_CLASS), pyoxigraph.NamedNode(JOURNAL_GRAPH))}


def load_on_disk(dist: Path, path: Path, say=print) -> Path:
    """Bulk-load dist/statecraft.nq into an on-disk store as its first generation, unless the store
    already holds that content. A store with curated writes the build does not include is never
    replaced: they would be lost."""
    import pyoxigraph
    report = build_report(dist) or {}
    wanted = report.get("content_hash")
    marker = path / HASH_MARKER
    if marker.is_file() and wanted and marker.read_text().strip() == wanted and Generations.is_layout(path):
        say(f"store {path} is current ({wanted[:23]}…): reopening it without reloading")
        return path
    if path.exists():
        if not is_store_folder(path):
            raise StoreError(f"{path} exists and is not an Oxigraph store; give --store a new or empty folder "
                             "(it is replaced whenever the dataset changes)")
        if Generations.is_layout(path):
            lock = Generations(path).try_lock()
            if lock is None:
                raise StoreError(f"the store {path} must be reloaded (the dataset changed), but another server "
                                 f"writes it (it holds {path / LOCK}); stop that server first")
            lock.close()
            unexported = curated_changes(Generations(path).current()) - set(report.get("curated_changes", ()))
            if unexported:
                raise StoreError(
                    f"the store {path} holds {len(unexported)} curated write(s) that the build in {dist} does not "
                    f"include; replacing the store would lose them. Run `statecraft export-curated --store {path}` "
                    "and rebuild (the build replays data/curated/), or move the store aside")
        shutil.rmtree(path)
    say(f"loading {dist / 'statecraft.nq'} into the on-disk store {path}")
    path.mkdir(parents=True)
    generation = Generations(path).initial()
    try:
        store = pyoxigraph.Store(str(generation))
    except OSError as error:
        raise StoreError(f"the store {path} cannot be opened for loading (another process may be writing it: "
                         f"RocksDB allows one writer per folder): {error}") from None
    store.bulk_load(path=str(dist / "statecraft.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    del store  # release RocksDB's lock: workers open the store read-only
    if "triples_per_graph" in report:
        Generations.write_counts(generation, report["triples_per_graph"])
    Generations(path).point_to(generation)
    marker.write_text(f"{wanted}\n")  # last: a load cut short leaves no marker and is redone
    return path
