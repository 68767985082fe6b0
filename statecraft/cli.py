"""The `statecraft` command: build, validate, coverage, docs, serve, push, generate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def project_root(given: str | None) -> Path:
    if given:
        return Path(given).resolve()
    here = Path.cwd()
    if (here / "ontology" / "statecraft.ttl").is_file():
        return here
    return Path(__file__).resolve().parent.parent


def cmd_build(args) -> int:
    from .build import BuildError, build
    from .evidence import AnchorError
    from .sources import SourceError
    root = project_root(args.root)
    try:
        build(root, Path(args.dist).resolve() if args.dist else None)
    except (SourceError, AnchorError) as error:
        print(f"build stopped: {error}", file=sys.stderr)
        return EXIT_UNUSABLE if isinstance(error, SourceError) else EXIT_INVALID
    except BuildError as error:
        print(f"build stopped: {error}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _article_of(path: Path, sources) -> str | None:
    for article in sources.articles:
        if path.resolve().parent == article.folder:
            return article.slug
    return None


def cmd_validate(args) -> int:
    from rdflib import URIRef
    from . import reason, validate
    from .assemble import anchor_article_files
    from .evidence import AnchorError
    from .namespaces import PREFIXES, REFERENCE_GRAPH
    from .sources import SourceError, discover, merge, parse_file, parse_files

    root = project_root(args.root)
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    try:
        sources = discover(root)
        ontology = parse_file(sources.ontology_file)
        reference = parse_files(sources.reference_files)
        files = [Path(f) for f in args.files]
        for path in files:
            parse_file(path)  # exit 2, with line and column, before anything else
        data, focus = merge([reference]), set()
        if not files:
            for article in sources.articles:
                data += anchor_article_files(sources, article.slug, article.rdf_files)[0]
        by_article: dict[str | None, list[Path]] = {}
        for path in files:
            by_article.setdefault(_article_of(path, sources), []).append(path)
        for slug, paths in by_article.items():
            if slug is None:
                graph = parse_files(paths)
                focus.update(s for s in graph.subjects() if isinstance(s, URIRef))
            else:
                article = next(a for a in sources.articles if a.slug == slug)
                context = [p for p in article.rdf_files if p.resolve() not in {q.resolve() for q in paths}]
                given, _ = anchor_article_files(sources, slug, paths)
                graph, _ = anchor_article_files(sources, slug, [*context, *paths])
                focus.update(s for s in given.subjects() if isinstance(s, URIRef))
            data += graph
    except SourceError as error:
        print(f"unusable input: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except AnchorError as error:
        print(f"evidence: {error}", file=sys.stderr)
        return EXIT_INVALID

    data += reason.materialise(merge([ontology, data]), sources.rules_dir)
    shapes = validate.load_shapes(sources.shapes_files)
    outcome = validate.validate(data, shapes, ontology, focus_nodes=sorted(focus) if files else None)
    for result in outcome.results:
        print(validate.format_result(result, prefixes))
    print(f"{len(outcome.violations)} violation(s), {len(outcome.warnings)} warning(s)"
          + (f" in {len(focus)} node(s) of {len(files)} file(s)" if files else " in the whole dataset"))
    return EXIT_OK if outcome.conforms else EXIT_INVALID


def cmd_coverage(args) -> int:
    from .assemble import assemble
    from .coverage import uncovered
    from .namespaces import article_graph
    from .sources import discover
    sources = discover(project_root(args.root))
    assembly = assemble(sources)
    status = EXIT_OK
    for article in sources.articles:
        if args.article and article.slug != args.article:
            continue
        gaps = uncovered(article.text, assembly.spans[article.slug], assembly.graphs[article_graph(article.slug)])
        print(f"{article.slug}: {len(gaps)} sentence(s) not covered by any evidence span")
        for gap in gaps:
            s = gap.sentence
            print(f"  [{s.start}–{s.end}] {s.text}")
            print(f"      {'claim-free: ' + gap.reason if gap.claim_free else 'CARRIES A CLAIM? no record quotes it'}")
            if not gap.claim_free:
                status = EXIT_INVALID
    return status


def cmd_docs(args) -> int:
    from .docs import generate_ontology_docs
    root = project_root(args.root)
    out = Path(args.out).resolve() if args.out else root / "docs" / "ontology"
    path = generate_ontology_docs(root / "ontology" / "statecraft.ttl", out)
    print(f"ontology documentation written to {path}")
    return EXIT_OK


def cmd_serve(args) -> int:
    import uvicorn
    from .server import create_app
    from .settings import Settings
    if args.engine and args.store:
        print("--engine and --store exclude each other: the data is either in the remote engine or in the store",
              file=sys.stderr)
        return EXIT_UNUSABLE
    settings = Settings.from_env(root=project_root(args.root), store=Path(args.store) if args.store else None,
                                 dist=Path(args.dist) if args.dist else None, engine=args.engine,
                                 workers=args.workers, query_timeout=args.query_timeout,
                                 http_workers=args.http_workers)
    if args.no_build or settings.engine:
        settings = Settings(**{**settings.__dict__, "build": False})
    from .writer import WriteSettingsError, check_write_settings
    try:
        check_write_settings(settings)
    except WriteSettingsError as error:
        print(f"cannot serve: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    prepared = None
    if not settings.engine:
        # Build and load here, once, so that a problem is a message and an exit status, not a traceback
        # from inside the server's start-up; the server then opens what is ready.
        from .build import BuildError
        from .evidence import AnchorError
        from .sources import SourceError
        from .reason import ReasoningError
        from .store import StoreError, prepare
        try:
            prepared = prepare(settings)
        except (BuildError, AnchorError, SourceError, StoreError, ReasoningError, FileNotFoundError) as error:
            print(f"cannot serve: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        settings = Settings(**{**settings.__dict__, "build": False})
    if settings.http_workers <= 1:
        uvicorn.run(create_app(settings, prepared), host=args.host, port=args.port, log_level=args.log_level)
        return EXIT_OK
    import os
    os.environ.update(settings.as_env())  # each front process opens what is ready (prepare finds it current)
    uvicorn.run("statecraft.server:create_app", factory=True, workers=settings.http_workers,
                host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


def cmd_push(args) -> int:
    import httpx
    from .remote import PushError, push
    from .store import build_report, ensure_dist
    from .settings import Settings
    settings = Settings(root=project_root(args.root), dist=Path(args.dist) if args.dist else None,
                        build=not args.no_build)
    try:
        dist = ensure_dist(settings)
        report = build_report(dist) or {}
        push(dist / "statecraft.nq", store_url=args.engine_store, update_url=args.engine_update,
             query_url=args.engine, expected_counts=report.get("triples_per_graph"))
    except (PushError, FileNotFoundError) as error:
        print(f"push stopped: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    except httpx.HTTPError as error:
        print(f"push stopped: the engine could not be reached: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    print("the engine holds every graph of the build" if args.engine else "pushed (no --engine given to check counts)")
    return EXIT_OK


def cmd_generate(args) -> int:
    from .generate import generate, triples_for_size
    if (args.articles is None) == (args.triples is None):
        print("give either --articles N or --triples T", file=sys.stderr)
        return EXIT_UNUSABLE
    root = project_root(args.root)
    articles = args.articles if args.articles is not None else triples_for_size(args.triples, args.seed, root)
    generate(Path(args.out).resolve(), articles, seed=args.seed, root=root)
    return EXIT_OK


def cmd_export_curated(args) -> int:
    from .generations import Generations
    from .journal import CuratedError, export_curated
    store = Path(args.store)
    if not Generations.is_layout(store):
        print(f"cannot export: {store} is not a store that `statecraft serve --store` created", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        path, changes = export_curated(store, project_root(args.root))
    except (CuratedError, OSError) as error:
        print(f"cannot export: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"{changes} curated change(s) written to {path}; `statecraft build` replays them, so they survive a rebuild")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="statecraft", description=__doc__)
    parser.add_argument("--version", action="version", version=f"statecraft {__version__}")
    parser.add_argument("--root", help="the project folder (default: the current folder, else the package's)")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="build the validated dataset into dist/")
    p.add_argument("--dist", help="output folder (default: <root>/dist)")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("validate", help="validate files (or the whole dataset) against the SHACL shapes")
    p.add_argument("files", nargs="*", help="Turtle/TriG files; quotes in an article folder are anchored first")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("coverage", help="list the sentences of an article that no evidence span covers")
    p.add_argument("--article", help="only this article (its folder name)")
    p.set_defaults(run=cmd_coverage)

    p = commands.add_parser("docs", help="generate the ontology's HTML documentation with pyLODE")
    p.add_argument("--out", help="output folder (default: docs/ontology)")
    p.set_defaults(run=cmd_docs)

    p = commands.add_parser("serve", help="build if needed, load the graph and serve the SPARQL endpoint")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--store", help="an on-disk Oxigraph store (default: in memory)")
    p.add_argument("--dist", help="the build output to serve (default: <root>/dist)")
    p.add_argument("--no-build", action="store_true",
                   help="never build: serve --dist as it is (loading it into --store when the store's content "
                        "hash differs), or a --store prepared elsewhere as it is")
    p.add_argument("--workers", type=int, help="query worker processes (default 2)")
    p.add_argument("--query-timeout", type=float, help="seconds before a query is stopped (default 10)")
    p.add_argument("--http-workers", type=int,
                   help="front processes sharing the port, each with --workers query workers (default 1)")
    p.add_argument("--engine", help="a remote SPARQL 1.1 query URL to serve from instead of the embedded store "
                                    "(its default graph must be the union of its named graphs)")
    p.add_argument("--log-level", default="info")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("push", help="load the build's dumps into a remote engine, graph by graph, and check it")
    p.add_argument("--engine-store", help="the engine's Graph Store Protocol URL (Oxigraph: …/store, Fuseki: …/data)")
    p.add_argument("--engine-update", help="the engine's SPARQL Update URL, for engines without a Graph Store")
    p.add_argument("--engine", help="the engine's query URL: the triples per graph are compared with the build")
    p.add_argument("--dist", help="the build output to push (default: <root>/dist)")
    p.add_argument("--no-build", action="store_true", help="push dist/ as it is, without building it first")
    p.set_defaults(run=cmd_push)

    p = commands.add_parser("export-curated", help="write the writes curators committed in a store back to "
                                                   "data/curated/, so that the build keeps them")
    p.add_argument("--store", required=True, help="the on-disk store the server writes (serve --store)")
    p.set_defaults(run=cmd_export_curated)

    p = commands.add_parser("generate", help="write a synthetic corpus in the project's model (for benchmarks)")
    p.add_argument("out", help="output folder: statecraft.nq, build-report.json, void.ttl, context.jsonld")
    p.add_argument("--articles", type=int, help="number of synthetic articles")
    p.add_argument("--triples", type=int, help="about this many triples (within 10 %%) instead of --articles")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same bytes (default 0)")
    p.set_defaults(run=cmd_generate)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
