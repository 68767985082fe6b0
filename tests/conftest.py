"""Shared fixtures: one real build of the repository into a temporary dist/, and an Oxigraph store of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph
import pytest

from live_server import LiveServer, free_port  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parent.parent


def shared() -> Path:
    """The project's shared inputs (reference lists, W3C suites): $STATECRAFT_SHARED, ../shared, /work/shared.
    A test that needs them fails, with this message, where they are missing."""
    candidates = [Path(os.environ["STATECRAFT_SHARED"])] if os.environ.get("STATECRAFT_SHARED") else []
    candidates += [ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "reference" / "competency-questions.md").is_file():
            return candidate
    pytest.fail("the shared inputs were not found; set STATECRAFT_SHARED to the folder that holds "
                f"reference/ and w3c/ (looked in {', '.join(map(str, candidates))})")

SLUG = "north-korea-russia-south-korea-security-2024-10-29"
ARTICLE_TEXT = (ROOT / "data" / "articles" / SLUG / "article.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    from statecraft.build import build
    dist = tmp_path_factory.mktemp("build") / "dist"
    lines: list[str] = []
    result = build(ROOT, dist, say=lines.append)
    return SimpleNamespace(result=result, dist=dist, output="\n".join(lines))


@pytest.fixture(scope="session")
def store(built):
    store = pyoxigraph.Store()
    store.bulk_load(path=str(built.dist / "statecraft.nq"), format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def select(store: pyoxigraph.Store, query: str) -> list[dict[str, str]]:
    """Run a SELECT over the union of all graphs; each row maps variable names to lexical values."""
    solutions = store.query(query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


def ask(store: pyoxigraph.Store, query: str) -> bool:
    return bool(store.query(query, use_default_graph_as_union=True))


def copy_project(destination: Path) -> Path:
    """A copy of the sources (ontology, shapes, data) for tests that break or extend them."""
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, destination / folder)
    return destination


def edit(root: Path, relative: str, old: str, new: str) -> Path:
    """Replace the first occurrence of old (which must be there) in a copied source file."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statecraft.cli", *args], cwd=cwd or ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def server(built, tmp_path_factory):
    """The endpoint over the article graph (in memory), with a short time limit for the limit tests."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    live = LiveServer(["--dist", str(built.dist), "--workers", "2", "--query-timeout", "3"], log=log)
    yield live
    live.stop()
