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
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def unescape_codepoints(text: str) -> str:
    """SPARQL 1.1 §19.2: \\u and \\U escapes are replaced before the text is parsed, anywhere in it
    (`SERV\\u0049CE` is SERVICE to the engine), so every check reads the text as the engine will."""
    def character(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)
    return _CODEPOINT.sub(character, text) if "\\" in text else text


def _code_only(text: str, keep_iris: bool = False, unescaped: bool = False) -> str:
    """The query with strings and comments (and IRIs, unless kept) blanked out, so keywords can be found.
    Positions match `text` only if it is `unescaped` already (unescape_codepoints)."""
    def blank(match: re.Match) -> str:
        if keep_iris and match.lastgroup == "iri":
            return match.group(0)
        return " " * len(match.group(0))
    return _LEXEMES.sub(blank, text if unescaped else unescape_codepoints(text))


MAX_NESTING = 200   # Oxigraph's parsers recurse; a few thousand levels overflow the stack and end the process


def nesting_depth(code: str, openers: str = "{([", closers: str = "})]") -> int:
    depth = deepest = 0
    for char in code:
        if char in openers:
            depth += 1
            deepest = max(deepest, depth)
        elif char in closers:
            depth = max(0, depth - 1)
    return deepest


def refuse_deep_nesting(text: str, what: str = "query") -> None:
    depth = nesting_depth(_code_only(text))
    if depth > MAX_NESTING:
        raise QueryFailed(400, f"the {what} nests brackets {depth} levels deep; the limit is {MAX_NESTING}")


def _keyword(word: str) -> re.Pattern:
    return re.compile(rf"(?<![\w:?$]){word}(?![\w:-])", re.I)


_FROM = _keyword("FROM")
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:-])\s*(?:SILENT(?![\w:-])\s*)?(<[^<>\s]*>|[^\s{]+)", re.I)
_USING_OR_WITH = re.compile(r"(?<![\w:?$])(?:USING|WITH)(?![\w:-])", re.I)


def uses_dataset_clause(query: str) -> bool:
    """Whether the query names its own dataset (FROM / FROM NAMED); otherwise the default graph is the union."""
    return bool(_FROM.search(_code_only(query)))


_SERVICE_KEYWORD = _keyword("SERVICE")


def service_targets(query: str) -> list[str]:
    """The endpoints of the query's SERVICE clauses (an IRI, or a variable/prefixed name as written).
    The keyword is found where strings, comments and IRIs are blanked out; its target is read at the
    same place in the text with its IRIs kept."""
    text = unescape_codepoints(query)
    code, kept = _code_only(text, unescaped=True), _code_only(text, keep_iris=True, unescaped=True)
    targets = []
    for keyword in _SERVICE_KEYWORD.finditer(code):
        clause = _SERVICE.match(kept, keyword.start())
        target = clause.group(1) if clause else "(none)"
        targets.append(target.strip("<>") if target.startswith("<") else target)
    return targets


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


def invalid_iri(text: str) -> str | None:
    """Why `text` is not an absolute IRI (RFC 3987), or None if it is one."""
    import pyoxigraph
    try:
        pyoxigraph.NamedNode(text)
    except ValueError as error:
        return str(error)
    return None


def _graphs(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    graphs = tuple(v for k, v in params if k == name)
    for graph in graphs:
        problem = invalid_iri(graph)
        if problem:
            raise QueryFailed(400, f"{name}={graph} is not an absolute IRI: {problem}")
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


_PROLOGUE = re.compile(r"\s*(?:(?:PREFIX\s*[^\s:<]*:\s*<[^<>\s]*>|BASE\s*<[^<>\s]*>)\s*)*", re.I)
NOTHING = "urn:x-statecraft:syntax-check-only"


def _unshifted(message: str, prologue: str) -> str:
    """Oxigraph's "error at LINE:COLUMN" in the update as sent, not in the guarded text."""
    def place(match: re.Match) -> str:
        line, column = int(match.group(1)), int(match.group(2))
        first = prologue.count("\n") + 1
        if line >= first + 2:
            column += len(prologue.rsplit("\n", 1)[-1]) if line == first + 2 else 0
            line -= 2
        return f"error at {line}:{column}"
    return re.sub(r"error at (\d+):(\d+)", place, message, count=1)


def check_update_syntax(update: str, base_iri: str | None = None) -> None:
    """Oxigraph's parser judges the grammar, and nothing is run: the update goes to an empty in-memory
    store behind an operation that fails as soon as it is run (DROP of a graph that does not exist),
    so the whole request is parsed and none of it evaluated: no WHERE clause, no LOAD, no SERVICE.
    It rejects what the grammar forbids (variables in INSERT DATA, blank nodes in DELETE DATA …),
    some of which rdflib's parser accepts. Runs in a query worker, under the time limit."""
    import pyoxigraph
    prologue = _PROLOGUE.match(_code_only(update, keep_iris=True, unescaped=True)).end()
    guarded = f"{update[:prologue]}\nDROP GRAPH <{NOTHING}> ;\n{update[prologue:]}"
    try:
        pyoxigraph.Store().update(guarded, base_iri=base_iri)
    except SyntaxError as error:
        raise QueryFailed(400, f"SPARQL Update syntax error: {_unshifted(str(error), update[:prologue])}") from None
    except (RuntimeError, ValueError, OSError) as error:
        if NOTHING not in str(error):
            raise QueryFailed(400, f"SPARQL Update cannot be read: {error}") from None
        return
    raise QueryFailed(500, "internal error: the syntax check ran the update")


def _check_update(text: str, using: tuple[str, ...]) -> None:
    """What the front process checks itself (linear in the text): nesting, and the dataset parameters.
    The grammar is checked in a query worker (check_update_syntax), before anyone asks who sent it."""
    refuse_deep_nesting(text, "update")
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
        _check_update(text, using + using_named)
        return SparqlRequest("update", text, using=using, using_named=using_named)
    if operation == "description":
        return SparqlRequest("description")
    refuse_deep_nesting(text)
    defaults, named = _graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri")
    dataset_given = bool(defaults or named)
    return SparqlRequest("query", text, defaults if dataset_given else None, named if dataset_given else None)
