"""The on-disk store as a chain of generations, so that a write is all-or-nothing and readers never
see a store that another process is changing.

pyoxigraph documents a store opened read-only beside a writing process as undefined behaviour, so
query workers never read a store that is being written. The `--store` folder holds:

    statecraft-generation        the name of the current generation (the commit point)
    statecraft-writer.lock       locked (flock) by the one server that writes the store
    gen-000000/                  the build, bulk-loaded (a RocksDB store)
    gen-000007/                  the state after the 7th committed write
    candidate-…/                 a write in progress (removed if the writer dies)

A write copies the current generation (a RocksDB checkpoint: hard links to its immutable files,
about a millisecond), applies and validates the change in the copy, closes it, renames it to the
next generation and then replaces the pointer file atomically (write, fsync, rename, fsync the
folder). A crash before the rename of the pointer leaves the previous generation current; after
it, the new one. Workers open the current generation read-only; a generation no worker has open
and that is not current is deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from pathlib import Path

POINTER = "statecraft-generation"
LOCK = "statecraft-writer.lock"                # held by the one server that writes the store
HASH_MARKER = "statecraft-content-hash"
COUNTS_FILE = "statecraft-graph-counts.json"   # inside each generation: triples per named graph
GENERATION = re.compile(r"gen-(\d{6})$")


class Generations:
    def __init__(self, root: Path):
        self.root = root

    @staticmethod
    def is_layout(path: Path) -> bool:
        return (path / POINTER).is_file()

    def current(self) -> Path:
        name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        if not GENERATION.match(name) or not (self.root / name).is_dir():
            raise FileNotFoundError(f"{self.root / POINTER} names {name!r}, which is not a generation of this store")
        return self.root / name

    def number(self, generation: Path) -> int:
        return int(GENERATION.match(generation.name).group(1))

    def initial(self) -> Path:
        return self.root / "gen-000000"

    def candidate_path(self) -> Path:
        return self.root / f"candidate-{os.getpid()}-{os.urandom(4).hex()}"

    def commit(self, candidate: Path) -> Path:
        """Make a closed candidate the current generation; returns its new path."""
        target = self.root / f"gen-{self.number(self.current()) + 1:06d}"
        if target.exists():  # left by a writer that died between the two renames: never current
            shutil.rmtree(target)
        os.rename(candidate, target)
        self.point_to(target)
        return target

    def point_to(self, generation: Path) -> None:
        temporary = self.root / f"{POINTER}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(generation.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temporary, self.root / POINTER)
        folder = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def try_lock(self):
        """The writer's lock on this store (an open file; the lock lasts as long as it is open), or None
        if another process holds it: one server at a time may write a store."""
        handle = open(self.root / LOCK, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        return handle

    def collect(self, in_use: set[Path], keep_newer: bool = True) -> list[Path]:
        """Delete generations that are neither current nor open in a worker, and dead candidates.

        A generation newer than the current one is kept (a writer may be about to point to it),
        unless `keep_newer` is off: at start-up, under the writer's lock, it is a commit that never
        happened, and every candidate is a dead writer's."""
        current = self.current()
        removed = []
        for entry in self.root.iterdir():
            match = GENERATION.match(entry.name)
            newer = bool(match) and int(match.group(1)) > self.number(current)
            stale_generation = match and entry != current and entry not in in_use and not (newer and keep_newer)
            dead_candidate = entry.name.startswith("candidate-") and (not keep_newer or not _owner_alive(entry.name))
            if entry.is_dir() and (stale_generation or dead_candidate):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        return removed

    @staticmethod
    def write_counts(generation: Path, counts: dict[str, int]) -> None:
        (generation / COUNTS_FILE).write_text(json.dumps(counts, sort_keys=True), encoding="utf-8")

    @staticmethod
    def read_counts(generation: Path) -> dict[str, int] | None:
        try:
            return json.loads((generation / COUNTS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _owner_alive(candidate_name: str) -> bool:
    try:
        pid = int(candidate_name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
