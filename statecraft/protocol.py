"""The SPARQL 1.1 Protocol: turning an HTTP request into a query or an update, to the letter.

https://www.w3.org/TR/sparql11-protocol/ — query by GET, by POST form-encoded, by POST
application/sparql-query; dataset by default-graph-uri / named-graph-uri (repeatable), which
override FROM / FROM NAMED; URL and body parameters merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .workers import QueryFailed

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
WRITES_DISABLED = ("this endpoint is read-only: writes are refused. Writes are enabled by an operator, with a "
                   "curator's token (STATECRAFT_WRITE_TOKEN) and an on-disk store; or change the curated sources "
                   "(data/, ontology/, shapes/) and run `statecraft build`, which validates them against the shapes")

# Strings, IRIs and comments, in the order a SPARQL lexer would see them.
_LEXEMES = re.compile(r'''
    (?P<long1>\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\')
  | (?P<long2>"""(?:[^"\\]|\\.|"(?!""))*""")
  | (?P<short1>'(?:[^'\\\n]|\\.)*')
  | (?P<short2>"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<comment>\#[^\n]*)
''', re.X)


def _code_only(text: str, keep_iris: bool = False) -> str:
    """The query with strings and comments (and IRIs, unless kept) blanked out, so keywords can be found."""
    def blank(match: re.Match) -> str:
        if keep_iris and match.lastgroup == "iri":
            return match.group(0)
        return " " * len(match.group(0))
    return _LEXEMES.sub(blank, text)


def _keyword(word: str) -> re.Pattern:
    return re.compile(rf"(?<![\w:?$]){word}(?![\w:-])", re.I)


_FROM = _keyword("FROM")
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:-])\s+(?:SILENT\s+)?(<[^>]*>|\S+)", re.I)
_USING_OR_WITH = re.compile(r"(?<![\w:?$])(?:USING|WITH)(?![\w:-])", re.I)


def uses_dataset_clause(query: str) -> bool:
    """Whether the query names its own dataset (FROM / FROM NAMED); otherwise the default graph is the union."""
    return bool(_FROM.search(_code_only(query)))


def service_targets(query: str) -> list[str]:
    """The endpoints of the query's SERVICE clauses (an IRI, or a variable/prefixed name as written)."""
    return [target.strip("<>") if target.startswith("<") else target
            for target in _SERVICE.findall(_code_only(query, keep_iris=True))]


def refuse_outbound(query: str, allowed_hosts: tuple[str, ...]) -> None:
    """Refuse SERVICE calls to hosts the operator has not allow-listed, before the store sees the query."""
    for target in service_targets(query):
        host = urlsplit(target).hostname if "://" in target else None
        if "*" in allowed_hosts or (host is not None and host in allowed_hosts):
            continue
        raise QueryFailed(403, f"SERVICE <{target}> is refused: this endpoint makes no outbound requests unless an "
                               "operator allow-lists the host (STATECRAFT_ALLOW_SERVICE_HOSTS)")


@dataclass(frozen=True)
class SparqlRequest:
    operation: str                       # "query", "update" or "description" (no query: describe the service)
    text: str | None = None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    using: tuple[str, ...] = ()          # using-graph-uri (updates)
    using_named: tuple[str, ...] = ()    # using-named-graph-uri (updates)


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    main, *params = content_type.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), parsed


def _decode(body: bytes, charset: str | None, what: str) -> str:
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise QueryFailed(400, f"the {what} must be UTF-8 encoded; the request declares charset={charset}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise QueryFailed(400, f"the {what} is not valid UTF-8 (byte {error.start})") from None


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise QueryFailed(400, f"the request has {len(values)} '{name}' parameters; the protocol allows one")
    return values[0] if values else None


def _graphs(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    import pyoxigraph
    graphs = tuple(v for k, v in params if k == name)
    for graph in graphs:
        try:
            pyoxigraph.NamedNode(graph)
        except ValueError as error:
            raise QueryFailed(400, f"{name}={graph} is not an absolute IRI: {error}") from None
    return graphs


_LOAD = re.compile(r"(?<![\w:?$])LOAD(?![\w:-])", re.I)


def refuse_network_operations(update: str) -> None:
    """LOAD reads a URL or a local file, SERVICE calls another endpoint: both are refused before
    Oxigraph, which would make the request itself, sees the update."""
    if _LOAD.search(_code_only(update)):
        raise QueryFailed(403, "LOAD is refused: it would make this server read a URL or a local file. "
                               "Send the data itself with INSERT DATA or a Graph Store PUT/POST")
    targets = service_targets(update)
    if targets:
        raise QueryFailed(403, f"SERVICE <{targets[0]}> is refused in an update: a write never makes outbound "
                               "requests")


def check_update_syntax(update: str, base_iri: str | None = None) -> None:
    """Oxigraph's parser, run on an empty in-memory store: it rejects what the grammar forbids
    (variables in INSERT DATA, blank nodes in DELETE DATA …), some of which rdflib's accepts."""
    import pyoxigraph
    if _LOAD.search(_code_only(update)) or service_targets(update):
        # Oxigraph's parser cannot be run without running the update, which would make the request:
        # rdflib's judges the syntax of these, then they are refused.
        from rdflib.plugins.sparql.parser import parseUpdate
        try:
            parseUpdate(update)
        except Exception as error:
            raise QueryFailed(400, f"SPARQL Update syntax error: {error}") from None
        refuse_network_operations(update)
    try:
        pyoxigraph.Store().update(update, base_iri=base_iri)
    except SyntaxError as error:
        raise QueryFailed(400, f"SPARQL Update syntax error: {error}") from None
    except (RuntimeError, ValueError, OSError):
        pass   # semantic errors (a graph that does not exist …) are judged against the real store


def _check_update(text: str, using: tuple[str, ...], base_iri: str | None) -> None:
    """A malformed update gets the status the protocol expects, before anyone asks who sent it."""
    check_update_syntax(text, base_iri)
    if using and _USING_OR_WITH.search(_code_only(text)):
        raise QueryFailed(400, "using-graph-uri / using-named-graph-uri cannot be combined with USING or WITH "
                               "in the update itself")


def parse_request(method: str, url_query: str, content_type: str | None, body: bytes,
                  base_iri: str | None = None) -> SparqlRequest:
    """Parse /sparql requests; QueryFailed(status, message) for everything the protocol rejects."""
    url_params = parse_qsl(url_query, keep_blank_values=True)
    media, ctype_params = _media_type(content_type)
    if method == "GET":
        if any(k == "update" for k, _ in url_params):
            raise QueryFailed(400, "SPARQL Update must be sent by POST, not GET")
        params, text = url_params, _one(url_params, "query")
        operation = "query" if text is not None else "description"
    elif method == "POST":
        if media == FORM:
            form = parse_qsl(_decode(body, ctype_params.get("charset"), "form body"), keep_blank_values=True)
            params = url_params + form
            query, update = _one(params, "query"), _one(params, "update")
            if query is not None and update is not None:
                raise QueryFailed(400, "a request carries either 'query' or 'update', not both")
            if query is None and update is None:
                raise QueryFailed(400, "a form-encoded POST needs a 'query' (or 'update') parameter")
            operation, text = ("query", query) if query is not None else ("update", update)
        elif media == SPARQL_QUERY:
            params, operation = url_params, "query"
            text = _decode(body, ctype_params.get("charset"), "query")
            if _one(params, "query") is not None:
                raise QueryFailed(400, "a direct POST carries the query in its body, not also in the URL")
        elif media == SPARQL_UPDATE:
            params, operation = url_params, "update"
            text = _decode(body, ctype_params.get("charset"), "update")
        else:
            raise QueryFailed(415, f"unsupported media type {media or '(none)'} for POST /sparql: send "
                                   f"{FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}")
    else:
        raise QueryFailed(405, f"method {method} is not allowed on /sparql; use GET or POST")

    if operation == "update":
        using, using_named = _graphs(params, "using-graph-uri"), _graphs(params, "using-named-graph-uri")
        _check_update(text, using + using_named, base_iri)
        return SparqlRequest("update", text, using=using, using_named=using_named)
    if operation == "description":
        return SparqlRequest("description")
    defaults, named = _graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri")
    dataset_given = bool(defaults or named)
    return SparqlRequest("query", text, defaults if dataset_given else None, named if dataset_given else None)
