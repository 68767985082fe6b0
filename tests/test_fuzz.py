"""Bounded fuzzing of the real endpoint over HTTP: mutated SPARQL, garbage headers and bodies, limits,
path traversal, header injection, hostile Graph Store uploads and attempts at outbound requests.

Two servers: the session's read-only `server`, and a write-enabled one started here on a new store
(`writable`). Inputs that are known to crash or stall a server go to a third, `disposable` one that is
restarted when it dies, so that the shared server stays usable for the other test modules.

For every request: an answer within CLIENT_TIMEOUT (no hang, no dropped connection), no 5xx (a 503 for
the time limit and a 507 for the result cap are tolerated and counted), a 4xx carries a message and no
stack trace, no header is injected, nothing of /etc/passwd is ever shown, and no request reaches the
local listener that stands in for "the outside" (SERVICE, LOAD, remote JSON-LD contexts, @base …).
After each batch the server answers /health and its store has the same fingerprint as before.

Deterministic: every case comes from random.Random(f"{FUZZ_SEED}:{test}:{index}"). A failure names the
seed, the test and the index, shows the request's bytes and writes them, exactly, to a file that can
be replayed with `nc 127.0.0.1 PORT < file`. Set FUZZ_SEED to explore other inputs.

The bugs this file found (deep nesting that overflowed a parser's stack, an update syntax check
that evaluated the update, SERVICE written without a space or behind a codepoint escape, a quadratic SERVICE
scan, a declared oversized body on the fast path, deep JSON-LD) each keep a regression test below.
A newly found bug can be pinned by an xfail(strict=True) test and an entry in KNOWN_SIGNATURES.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import select
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from conftest import LiveServer, shared

FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20241029"))
CLIENT_TIMEOUT = 15.0
TOKEN = "fuzz-curator-token-4f1c9a7e2b"
SC = "https://w3id.org/statecraft/ontology#"
GRAPH = "https://w3id.org/statecraft/graph/"
JOURNAL = GRAPH + "journal"
INFERRED = GRAPH + "inferred"
LIMIT = 1_000_000
ROOT = Path(__file__).resolve().parent.parent
W3C = shared() / "w3c" / "sparql" / "sparql11"


def _passwd_markers() -> list[bytes]:
    """Lines of this machine's /etc/passwd: none may ever appear in an answer."""
    try:
        lines = Path("/etc/passwd").read_bytes().splitlines()
    except OSError:
        lines = []
    return [line for line in lines if len(line) > 12][:5] or [b"root:x:0:0:"]


PASSWD = _passwd_markers()
# Answers of known bugs that the random batches run into, tolerated there (and counted in a warning):
# each is pinned by an xfail test below. Remove the entry with the fix.
KNOWN_SIGNATURES: list[tuple[str, int, bytes]] = [
    # (what, status, regex on the body), e.g. ("… gives 500 (test_known_bug_…)", 500, rb"ValueError: …")
]


# ------------------------------------------------------------------------------------------------
# A raw HTTP/1.1 client: exact bytes out (long URLs, NUL, CR/LF, bad percent-encoding, any charset),
# a deadline on the answer, and no normalisation of what comes back.
# ------------------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float
    malformed_header_lines: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class NoAnswer(Exception):
    pass


def http_request(method: str, target: bytes | str, headers=(), body: bytes | None = None,
                 chunked: bool = False, content_length: bytes | str | None = None) -> bytes:
    """The bytes of one request; `Host` and `Connection: close` are added, and Content-Length
    (or chunked framing) for a body. `content_length` overrides the declared length."""
    target = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in headers:
        name = name.encode("latin-1") if isinstance(name, str) else name
        value = value.encode("latin-1") if isinstance(value, str) else value
        lines.append(name + b": " + value)
    if content_length is not None:
        lines.append(b"Content-Length: " + (content_length.encode() if isinstance(content_length, str) else content_length))
    elif body is not None and chunked:
        lines.append(b"Transfer-Encoding: chunked")
        step = 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                        for i in range(0, len(body), step)) + b"0\r\n\r\n"
    elif body is not None:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def exchange(base_url: str, request: bytes, timeout: float = CLIENT_TIMEOUT) -> Answer:
    host, port = base_url.split("//", 1)[1].rsplit(":", 1)
    started = time.monotonic()
    deadline = started + timeout
    received = bytearray()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        # Send in pieces and stop as soon as the server answers: a 413 comes before the body is read.
        for offset in range(0, len(request), 65536):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(request[offset:offset + 65536])
            except (BrokenPipeError, ConnectionResetError):
                break
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoAnswer(f"no complete answer within {timeout:g} s (got {len(received)} bytes)")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise NoAnswer(f"no complete answer within {timeout:g} s (got {len(received)} bytes)") from None
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return parse_answer(bytes(received), time.monotonic() - started)


def parse_answer(raw: bytes, seconds: float) -> Answer:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/1."):
        raise NoAnswer(f"the connection closed without a complete answer (got {raw[:200]!r})")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split(b" ", 2)
    headers, malformed = [], []
    for line in header_lines:
        name, colon, value = line.partition(b":")
        if not colon or not re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            malformed.append(line)
            continue
        headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    answer = Answer(int(parts[1]), parts[2].decode("latin-1") if len(parts) > 2 else "", headers, body, seconds,
                    malformed)
    if (answer.header("transfer-encoding") or "").lower() == "chunked":
        answer.body = _unchunk(body)
    return answer


def _unchunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return bytes(out)


# ------------------------------------------------------------------------------------------------
# "The outside": a local listener that records every connection (and answers 404 at once)
# ------------------------------------------------------------------------------------------------

class Listener:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[bytes] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(1.0)
                try:
                    first = connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError as error:
                    first = f"(connection, then {error!r})".encode()
            with self._lock:
                self.seen.append(first or b"(connection without a request)")

    def contacts(self, prefix: str = "") -> list[bytes]:
        """The requests that arrived (their first bytes), those for paths under `prefix` if given."""
        time.sleep(0.05)
        with self._lock:
            seen = list(self.seen)
        if not prefix:
            return seen
        return [request for request in seen if f" {prefix}".encode() in request.split(b"\r\n", 1)[0]]

    def close(self):
        self.sock.close()


# ------------------------------------------------------------------------------------------------
# One batch of requests and the checks that apply to every answer
# ------------------------------------------------------------------------------------------------

class Batch:
    """Sends cases, checks every answer, collects the problems and reports them all at once."""

    def __init__(self, name: str, dump_dir: Path, tolerate_known: bool = True):
        self.name, self.dump_dir, self.tolerate_known = name, dump_dir, tolerate_known
        self.known: dict[str, int] = {}
        self.problems: list[str] = []
        self.sent = 0
        self.tolerated: list[str] = []     # 503 for the time limit, 507 for the result cap
        self.statuses: dict[int, int] = {}

    def rng(self, index: int) -> random.Random:
        return random.Random(f"{FUZZ_SEED}:{self.name}:{index}")

    def send(self, server, index, method: str, target, headers=(), body: bytes | None = None, *,
             expect: set[int] | None = None, max_seconds: float | None = None, chunked: bool = False,
             content_length=None, note: str = "", timeout: float = CLIENT_TIMEOUT) -> Answer | None:
        request = http_request(method, target, headers, body, chunked=chunked, content_length=content_length)
        self.sent += 1
        try:
            answer = exchange(server.url, request, timeout=timeout)
        except (NoAnswer, OSError) as error:
            self._problem(server, index, request, note, f"{type(error).__name__}: {error}")
            return None
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
        known = next((what for what, status, pattern in KNOWN_SIGNATURES
                      if answer.status == status and re.search(pattern, answer.body)), None)
        if known and self.tolerate_known:
            self.known[known] = self.known.get(known, 0) + 1
            answer = Answer(200, "tolerated known bug", answer.headers, b"", answer.seconds, answer.malformed_header_lines)
            expect = None
        complaints = self.complaints(method, answer, expect, max_seconds)
        for complaint in complaints:
            self._problem(server, index, request, note, complaint, answer)
        if answer.status in (503, 507) and not complaints:
            self.tolerated.append(f"#{index} {answer.status}")
        return answer

    @staticmethod
    def complaints(method: str, answer: Answer, expect, max_seconds) -> list[str]:
        found = []
        body = answer.body
        if answer.status >= 500:
            timed_out = answer.status == 503 and b"limit of" in body
            capped = answer.status == 507 and b"cap of" in body
            if not (timed_out or capped):
                found.append(f"a {answer.status} answer")
        if 400 <= answer.status < 500 and method != "HEAD":
            message = body.decode("utf-8", "replace").strip()
            if len(message) < 8 or not re.search(r"[A-Za-z]{3}", message):
                found.append(f"a {answer.status} answer without a message saying what was wrong")
        if b"Traceback" in body or b'File "/' in body:
            found.append("a stack trace in the answer")
        for line in PASSWD:
            if line in body or any(line.decode("latin-1") in value for _, value in answer.headers):
                found.append("content of /etc/passwd in the answer")
        if answer.malformed_header_lines or any(name.startswith("x-injected") for name, _ in answer.headers):
            found.append(f"an injected or malformed header line: {answer.malformed_header_lines or answer.headers}")
        if expect is not None and answer.status not in expect:
            found.append(f"status {answer.status}, expected one of {sorted(expect)}")
        if max_seconds is not None and answer.seconds > max_seconds:
            found.append(f"answered in {answer.seconds:.2f} s, more than {max_seconds:g} s")
        return found

    def _problem(self, server, index, request: bytes, note: str, complaint: str, answer: Answer | None = None):
        self.dump_dir.mkdir(parents=True, exist_ok=True)
        dump = self.dump_dir / f"{self.name}-{index}.http"
        dump.write_bytes(request)
        shown = request if len(request) <= 1200 else request[:1000] + b" ... " + request[-150:]
        got = "no answer" if answer is None else \
            f"{answer.status} {answer.reason} in {answer.seconds:.2f} s: {answer.body[:400]!r}"
        self.problems.append(f"[FUZZ_SEED={FUZZ_SEED} {self.name} #{index}{' ' + note if note else ''}] {complaint}\n"
                             f"    request ({len(request)} bytes, sha256 {hashlib.sha256(request).hexdigest()[:16]}, "
                             f"replay: nc 127.0.0.1 PORT < {dump}): {shown!r}\n    answer: {got}\n"
                             f"    server log: {getattr(server, 'log', None)}")

    def check(self):
        print(f"{self.name}: {self.sent} request(s), statuses {dict(sorted(self.statuses.items()))}"
              + (f"; time limit / result cap: {', '.join(self.tolerated)}" if self.tolerated else ""))
        for what, count in self.known.items():
            warnings.warn(f"{self.name}: {count} answer(s) of a known server bug: {what}", stacklevel=2)
        if self.problems:
            shown = "\n".join(self.problems[:12])
            more = f"\n… and {len(self.problems) - 12} more" if len(self.problems) > 12 else ""
            pytest.fail(f"{len(self.problems)} problem(s) in {self.sent} request(s) of {self.name}:\n{shown}{more}",
                        pytrace=False)


# ------------------------------------------------------------------------------------------------
# The store's fingerprint: the quads of every graph (blank node labels normalised, as each query
# worker of an in-memory server loads its own copy), the stored default graph, a few known triples
# ------------------------------------------------------------------------------------------------

KNOWN_TRIPLES = [
    f"ASK {{ <https://w3id.org/statecraft/id/state/poland> a <{SC}State> }}",
    f"ASK {{ GRAPH <{GRAPH}ontology> {{ <https://w3id.org/statecraft/ontology> a <http://www.w3.org/2002/07/owl#Ontology> }} }}",
    f"ASK {{ GRAPH ?g {{ ?s a <{SC}Statement> }} FILTER(STRSTARTS(STR(?g), \"{GRAPH}article/\")) }}",
]


def fingerprint(server) -> dict:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        rows = client.post("/sparql", data={"query": "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"},
                           headers={"Accept": "text/tab-separated-values"})
        assert rows.status_code == 200, rows.text
        per_graph: dict[str, list[str]] = {}
        for line in rows.text.splitlines()[1:]:
            graph, _, rest = line.partition("\t")
            per_graph.setdefault(graph.strip("<>"), []).append(re.sub(r"_:\S+", "_:b", rest))
        graphs = {g: (len(lines), hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16])
                  for g, lines in per_graph.items()}
        default = client.get("/data?default", headers={"Accept": "application/n-triples"})
        assert default.status_code == 200, default.text
        asks = {}
        for query in KNOWN_TRIPLES:
            answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
            asks[query] = answer.json()["boolean"]
        health = client.get("/health").json()
    return {"graphs": graphs, "default": sorted(re.sub(r"_:\S+", "_:b", l) for l in default.text.splitlines()),
            "asks": asks, "health": (health["graphs"], health["triples"])}


def assert_same_store(server, before: dict, what: str, ignore: tuple[str, ...] = ()):
    health = httpx.get(server.url + "/health", timeout=CLIENT_TIMEOUT)
    assert health.status_code == 200 and health.json()["status"] == "ok", f"/health after {what}: {health.text}"
    after = fingerprint(server)
    if ignore:
        before, after = ({**f, "graphs": {g: v for g, v in f["graphs"].items() if g not in ignore}, "health": None}
                         for f in (before, after))
    if before != after:
        changed = {g: (before["graphs"].get(g), after["graphs"].get(g))
                   for g in set(before["graphs"]) | set(after["graphs"]) if before["graphs"].get(g) != after["graphs"].get(g)}
        pytest.fail(f"the store changed during {what}: graphs (count, digest) before → after: {changed}; "
                    f"asks {before['asks']} → {after['asks']}; health {before['health']} → {after['health']}; "
                    f"default graph {len(before['default'])} → {len(after['default'])} triples", pytrace=False)


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------

def corpus(*patterns: str) -> list[tuple[str, bytes]]:
    files = []
    for pattern in patterns:
        base, _, glob = pattern.partition(":")
        folder = ROOT / base if base.startswith("docs") else W3C / base
        files += sorted(folder.glob(glob))
    assert files, f"no input files for {patterns}"
    return [(path.name, path.read_bytes()) for path in files]


def query_corpus(listener: Listener, name: str) -> list[tuple[str, bytes]]:
    """The competency queries, the W3C query syntax tests (good and bad) and the federated ones, and a
    few of our own that point at the listener (so that a mutation that slips past the SERVICE check
    shows up as a contact)."""
    own = [
        ("service", f"SELECT * WHERE {{ SERVICE <{listener.url}/fuzz/{name}/service> {{ ?s ?p ?o }} }}".encode()),
        ("service-silent", f"SELECT * WHERE {{ ?s a <{SC}State> SERVICE SILENT <{listener.url}/fuzz/{name}/silent> "
                           f"{{ ?s ?p ?o }} }} LIMIT 3".encode()),
        ("from", f"SELECT * FROM <{listener.url}/fuzz/{name}/from> FROM NAMED <{listener.url}/fuzz/{name}/named> "
                 f"WHERE {{ ?s ?p ?o }} LIMIT 5".encode()),
        ("describe", b"DESCRIBE <https://w3id.org/statecraft/id/state/poland>"),
    ]
    return corpus("docs/queries:cq*.rq", "syntax-query:*.rq", "syntax-fed:*.rq") + own


def update_corpus() -> list[tuple[str, bytes]]:
    return corpus("syntax-update-1:*.ru", "syntax-update-2:*.ru")


TOKENS = [b"{", b"}", b"(", b")", b"[", b"]", b'"', b"'", b'"""', b"'''", b"<", b">", b"#", b"\n", b"\r", b";",
          b".", b",", b"*", b"?x", b"$y", b"_:b", b"@en", b"^^", b"\\", b"\\u0022", b"\\U0001F600", b"%", b"\x00",
          b"\xff", b"\xc3", b"\xe2\x80\xae", b"\xf0\x9f", b"SELECT", b"ASK", b"CONSTRUCT", b"DESCRIBE", b"WHERE",
          b"FILTER", b"OPTIONAL", b"UNION", b"MINUS", b"GRAPH", b"BIND", b"VALUES", b"GROUP BY", b"ORDER BY",
          b"LIMIT 1", b"OFFSET 99999999999999999999", b"HAVING", b"EXISTS", b"NOT", b"IN", b"PREFIX p: <http://e/>",
          b"BASE <http://e/>", b"FROM NAMED", b"SERVICE", b"SILENT", b"INSERT", b"DELETE", b"DATA", b"LOAD",
          b"CLEAR", b"DROP", b"ALL", b"WITH", b"USING", b" a ", b"COUNT(*)", b"REGEX(", b"STR(", b"true",
          b"1e999", b"-0", b"9" * 40, b"<file:///etc/passwd>", b"<../../etc/passwd>"]


def mutate(rng: random.Random, data: bytes, extra_tokens=()) -> bytes:
    """Byte flips, truncation, duplication, insertion of keywords/braces/quotes, deletion, repetition
    (bounded: at most 40 copies, far from the nesting depths that are known to crash)."""
    tokens = TOKENS + list(extra_tokens)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        n = len(data)
        op = rng.choice(("flip", "truncate", "duplicate", "insert", "insert", "delete", "repeat", "swap"))
        i = rng.randrange(n) if n else 0
        if op == "flip" and n:
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif op == "truncate" and n:
            data = data[:i]
        elif op == "duplicate" and n:
            j = min(n, i + rng.randint(1, 80))
            data = data[:j] + data[i:j] + data[j:]
        elif op == "insert":
            data = data[:i] + rng.choice(tokens) + data[i:]
        elif op == "delete" and n:
            data = data[:i] + data[min(n, i + rng.randint(1, 20)):]
        elif op == "repeat":
            data = data[:i] + rng.choice(tokens) * rng.randint(2, 40) + data[i:]
        elif op == "swap" and n > 2:
            j = rng.randrange(n)
            a, b = sorted((i, j))
            data = data[:a] + data[b:b + 8] + data[a + 8:b] + data[a:a + 8] + data[b + 8:]
    return data


MEDIA = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
         "application/json", "application/xml", "text/turtle", "application/n-triples", "application/ld+json",
         "application/rdf+xml", "application/trig", "application/n-quads", "text/html", "text/plain", "image/png"]


def random_accept(rng: random.Random) -> bytes | None:
    kind = rng.randrange(14)
    if kind in (0, 10, 11):
        return None
    if kind in (12, 13):
        return rng.choice(MEDIA[:12]).encode()
    if kind == 1:
        return rng.choice([b"", b"*/*", b"*", b"application/*", b"text/*", b"*/json", b"/", b";", b",,,", b"*/*;q=0"])
    if kind == 2:
        return bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 300)))
    if kind == 3:
        return b"text/csv;q=0.1, " * rng.randint(100, 4000) + b"application/sparql-results+json"
    if kind == 4:
        return rng.choice([b"text/\xe9\xff", b"application/sparql-results+json\x80", b"\xff\xfe*/*"])
    q = rng.choice(["0", "1", "0.5", "2", "-1", "abc", "nan", "inf", "1e999", "", "0.0001", "1.000"])
    parts = [f"{rng.choice(MEDIA)};q={q}" + rng.choice(["", ";charset=utf-16", ";level=1", ';x="a,b"', ";;"])
             for _ in range(rng.randint(1, 6))]
    return ", ".join(parts).encode()


def random_content_type(rng: random.Random, main: str) -> tuple[bytes | None, str]:
    """A Content-Type and the charset the body is to be encoded in."""
    kind = rng.randrange(16)
    if kind == 0:
        return None, "utf-8"
    if kind == 1:
        return rng.choice([b"", b"text/plain", b"application/json", b"*/*", b"application/sparql-query, text/plain",
                           b"multipart/form-data; boundary=x", main.upper().encode(), b"\xff\xfe"]), "utf-8"
    if kind == 2:
        return bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 120))), "utf-8"
    if kind in (3, 4):
        charset = rng.choice(["latin-1", "ISO-8859-1", "utf-16", "UTF-16LE", "windows-1252", "ascii", "utf-7", "x"])
        return f"{main}; charset={charset}".encode(), charset
    params = rng.choice(["", "; charset=utf-8", "; charset=UTF-8", '; charset="utf-8"', ";charset=utf8", "; charset",
                         ";;;=;==", "; a=b; c=d", "; charset=utf-8; charset=latin-1", "; boundary=" + "x" * 2000])
    return f"{main}{params}".encode(), "utf-8"


def encode_as(text: bytes, charset: str) -> bytes:
    try:
        return text.decode("utf-8", "replace").encode(charset, "replace")
    except LookupError:
        return text


PERCENT_GARBAGE = [b"%", b"%z", b"%zz", b"%G0", b"%00", b"%ff", b"%c3%28", b"%e2%82", b"%0d%0a", b"+", b"&", b"=",
                   b";", b"&&query", b"%%", b"%u0041"]


def garble_percent(rng: random.Random, encoded: bytes) -> bytes:
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(encoded))
        encoded = encoded[:i] + rng.choice(PERCENT_GARBAGE) + encoded[i:]
    return encoded


def sparql_request(rng: random.Random, text: bytes, parameter: str = "query", token: str | None = None,
                   listener: Listener | None = None, tag: str = ""):
    """One of GET, POST form, POST direct, with random Accept, Content-Type, charset and extras. With a
    token the text is sent as it is (no percent garbage, which could cut it short into a valid update)."""
    garble = token is None
    headers = []
    accept = random_accept(rng)
    if accept is not None:
        headers.append((b"Accept", accept))
    if token is not None:
        headers.append((b"Authorization", f"Bearer {token}".encode()))
    if rng.random() < 0.1:
        headers.append((b"Origin", b"https://fuzz.example"))          # through the full middleware stack
    extras = b""
    if rng.random() < 0.3:
        extras += rng.choice([b"&format=" + quote(rng.choice(["json", "csv", "ttl", "html", "x" * 500, "\r\n", "text/csv\r\nX-Injected: 1"])).encode(),
                              b"&default-graph-uri=" + quote_from_bytes(rng.choice([b"", b"not an iri", b"http://e/\x00",
                                                                                    f"{listener.url if listener else 'http://e'}/fuzz/{tag}/dataset".encode()]), safe="").encode(),
                              b"&named-graph-uri=%ff", b"&" + parameter.encode() + b"=ASK%20%7B%7D",
                              b"&using-graph-uri=http%3A%2F%2Fe%2Fg", b"&=&&=="])
    how = rng.choice(("get", "form", "direct")) if parameter == "query" else rng.choice(("form", "direct"))
    if how == "get":
        encoded = quote_from_bytes(text, safe="")[:60000].encode()
        if garble and rng.random() < 0.25:
            encoded = garble_percent(rng, encoded)
        return "GET", b"/sparql?" + parameter.encode() + b"=" + encoded + extras, headers, None
    if how == "form":
        content_type, charset = random_content_type(rng, "application/x-www-form-urlencoded")
        body = parameter.encode() + b"=" + quote_from_bytes(encode_as(text, charset) if charset != "utf-8" else text,
                                                              safe="").encode()
        if garble and rng.random() < 0.25:
            body = garble_percent(rng, body)
        if content_type is not None:
            headers.append((b"Content-Type", content_type))
        return "POST", b"/sparql" + (b"?" + extras[1:] if extras else b""), headers, body
    main = "application/sparql-query" if parameter == "query" else "application/sparql-update"
    content_type, charset = random_content_type(rng, main)
    if content_type is not None:
        headers.append((b"Content-Type", content_type))
    body = encode_as(text, charset) if charset != "utf-8" else text
    return "POST", b"/sparql" + (b"?" + extras[1:] if extras else b""), headers, body


def spoil(update: bytes) -> bytes:
    """The update made syntactically invalid whatever the mutation left: a newline ends any comment and
    is not allowed in a short string or an IRI, and one `}` more than there are `{` in the text (and
    their \\u escapes) is always unbalanced — an unterminated long string is invalid anyway."""
    opening = update.count(b"{") + len(re.findall(rb"\\(?:u007b|U0000007b)", update, re.I))
    return update + b"\n" + b"}" * (opening + 1)


# ------------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def listener():
    outside = Listener()
    yield outside
    outside.close()


@pytest.fixture(scope="module")
def writable(built, tmp_path_factory):
    """A write-enabled server on a new on-disk store (the server loads the build into it)."""
    folder = tmp_path_factory.mktemp("fuzz-writable")
    live = LiveServer(["--dist", str(built.dist), "--no-build", "--store", str(folder / "store"), "--workers", "2",
                       "--query-timeout", "2"], env={"STATECRAFT_WRITE_TOKEN": TOKEN}, log=folder / "server.log")
    yield live
    live.stop()


class Disposable:
    """A read-only server over an on-disk store for the inputs known to crash or stall a server:
    started on first use, and again after it died."""

    def __init__(self, built, folder: Path):
        self.built, self.folder, self.live, self.starts = built, folder, None, 0

    def get(self) -> LiveServer:
        if self.live is not None and self.live.process.poll() is None:
            try:
                if httpx.get(self.live.url + "/health", timeout=5).status_code == 200:
                    return self.live
            except httpx.HTTPError:
                pass
        if self.live is not None:
            self.live.stop()
        self.starts += 1
        store = self.folder / f"store-{self.starts}"
        self.live = LiveServer(["--dist", str(self.built.dist), "--no-build", "--store", str(store), "--workers", "1",
                                "--query-timeout", "2"], log=self.folder / f"server-{self.starts}.log")
        return self.live

    def stop(self):
        if self.live is not None:
            self.live.stop()


@pytest.fixture(scope="module")
def disposable(built, tmp_path_factory):
    spare = Disposable(built, tmp_path_factory.mktemp("fuzz-disposable"))
    yield spare
    spare.stop()


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-failing-requests")


def no_contacts(listener: Listener, prefix: str, what: str):
    contacts = listener.contacts(prefix)
    assert not contacts, f"{what}: the server made {len(contacts)} outbound request(s) to the local listener: {contacts[:5]}"


def self_calls(server) -> list[str]:
    """Requests the server made to itself: SERVICE <relative IRI> resolves against the request's URL.
    The fuzzers POST only to /sparql and /data; Oxigraph's SERVICE client POSTs to the resolved path."""
    try:
        log = Path(server.log).read_text(errors="replace")
    except (OSError, TypeError):
        return []
    return [line for line in re.findall(r'"POST (\S+) HTTP/1\.1"', log)
            if not (line.startswith("/sparql") or line.startswith("/data"))]


# ------------------------------------------------------------------------------------------------
# Mutated queries and updates
# ------------------------------------------------------------------------------------------------

def test_the_fingerprint_sees_the_data(server, writable):
    """The fingerprint that every batch compares is not vacuous: all graphs, the known triples."""
    for live in (server, writable):
        print_ = fingerprint(live)
        assert all(print_["asks"].values()), print_["asks"]
        assert len(print_["graphs"]) >= 4 and print_["health"] == (len(print_["graphs"]),
                                                                   sum(n for n, _ in print_["graphs"].values()))


def _fuzz_queries(server, listener, dumps, name: str, count: int):
    before = fingerprint(server)
    calls_before = len(self_calls(server))
    batch = Batch(name, dumps)
    inputs = query_corpus(listener, name)
    extra = [f"SERVICE <{listener.url}/fuzz/{name}/inserted>".encode(), f"<{listener.url}/fuzz/{name}/iri>".encode()]
    for index in range(count):
        rng = batch.rng(index)
        source, text = rng.choice(inputs)
        if rng.random() < 0.4:   # relative IRIs (SERVICE <g> …) resolve to the listener, not the server itself
            text = f"BASE <{listener.url}/fuzz/{name}/base/>\n".encode() + text
        text = mutate(rng, text, extra) if rng.random() < 0.75 else text
        method, target, headers, body = sparql_request(rng, text, listener=listener, tag=name)
        batch.send(server, index, method, target, headers, body, note=f"(mutated {source})")
    batch.check()
    no_contacts(listener, f"/fuzz/{name}/", name)
    assert self_calls(server)[calls_before:] == [], "the server sent SERVICE requests to itself"
    assert_same_store(server, before, name)
    return batch


def test_mutated_queries_on_the_read_only_server(server, listener, dumps):
    _fuzz_queries(server, listener, dumps, "queries-read-only", 400)


def test_mutated_queries_on_the_writable_server(writable, listener, dumps):
    _fuzz_queries(writable, listener, dumps, "queries-writable", 150)


def test_mutated_updates_are_refused_and_change_nothing(server, writable, listener, dumps):
    """W3C update syntax tests, mutated: with the token only variants that cannot be valid (spoil), so
    that every one must be refused; without a token or with a wrong one anything goes but nothing may
    be written; the read-only server refuses all of them."""
    before = {"read-only": fingerprint(server), "writable": fingerprint(writable)}
    batch = Batch("updates", dumps)
    inputs = update_corpus()
    extra = [f"LOAD <{listener.url}/fuzz/updates/load>".encode(), f"SERVICE <{listener.url}/fuzz/updates/service>".encode()]
    plans = ["token"] * 120 + ["no-token"] * 80 + ["wrong-token"] * 20 + ["read-only"] * 60
    for index, plan in enumerate(plans):
        rng = batch.rng(index)
        source, text = rng.choice(inputs)
        text = mutate(rng, text, extra) if plan == "token" or rng.random() < 0.85 else text
        if plan == "token":
            text = spoil(text)
        token = {"token": TOKEN, "wrong-token": "not-the-token-" + "x" * 20}.get(plan)
        method, target, headers, body = sparql_request(rng, text, parameter="update", token=token, listener=listener,
                                                       tag="updates")
        target_server = server if plan == "read-only" else writable
        expect = {"token": {400, 403, 415}, "no-token": {400, 401, 403, 415}, "wrong-token": {400, 401, 403, 415},
                  "read-only": {400, 403, 415}}[plan]
        batch.send(target_server, index, method, target, headers, body, expect=expect,
                   note=f"({plan}, mutated {source})")
    batch.check()
    no_contacts(listener, "/fuzz/updates/", "mutated updates")
    assert_same_store(server, before["read-only"], "mutated updates (read-only server)")
    assert_same_store(writable, before["writable"], "mutated updates (writable server)")


# ------------------------------------------------------------------------------------------------
# Headers, charsets and percent-encoding on every kind of route
# ------------------------------------------------------------------------------------------------

ROUTES = [b"/sparql", b"/sparql?query=ASK%20%7B%7D", b"/id/state/poland", b"/id/state/nowhere",
          b"/data?graph=https%3A%2F%2Fw3id.org%2Fstatecraft%2Fgraph%2Freference", b"/data?default", b"/data",
          b"/.well-known/void", b"/ontology", b"/", b"/docs/", b"/docs/cookbook.md", b"/health", b"/metrics",
          b"/dist/void.ttl", b"/graph/reference", b"/dataset", b"/context.jsonld"]


def test_random_headers_charsets_and_percent_encoding(server, writable, listener, dumps):
    before = {"read-only": fingerprint(server), "writable": fingerprint(writable)}
    batch = Batch("headers", dumps)
    for index in range(250):
        rng = batch.rng(index)
        target_server = writable if index % 3 == 0 else server
        route = rng.choice(ROUTES)
        headers = []
        accept = random_accept(rng)
        if accept is not None:
            headers.append((b"Accept", accept))
        for name in rng.sample([b"Accept-Charset", b"Accept-Language", b"Accept-Encoding", b"Content-Type",
                                b"Authorization", b"Origin", b"If-None-Match", b"Range", b"X-Forwarded-Host"],
                               rng.randint(0, 3)):
            headers.append((name, rng.choice([b"", b"\xff\xfe", b"utf-16", b"*", b"gzip, br;q=2", b"bytes=0-10,5-1",
                                               b"Bearer", b"Basic ????", b"x" * rng.randint(1, 9000),
                                               bytes(rng.randrange(32, 127) for _ in range(40))])))
        if b"?" in route and rng.random() < 0.5:
            route = garble_percent(rng, route)
        elif rng.random() < 0.3:
            route += (b"&" if b"?" in route else b"?") + rng.choice([b"format=%ff%fe", b"format=" + b"a" * 3000,
                                                                     b"format=ttl&format=html", b"%00=%00", b"a%zz=b"])
        method = rng.choice(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "FUZZ"])
        body = None
        if method in ("POST", "PUT", "PATCH"):
            if route.startswith(b"/data") or route.startswith(b"/id") or not route.startswith(b"/sparql"):
                method = "POST" if method == "PATCH" else method   # writes without a token: 401 / 405
            content_type, charset = random_content_type(rng, rng.choice(["application/sparql-query",
                                                                         "application/x-www-form-urlencoded",
                                                                         "text/turtle"]))
            raw = rng.choice([b"ASK {}", b"query=ASK+%7B%7D", b"<a:b> <a:c> <a:d> .", b"\xff\xfe\x00\x00",
                              "ASK { FILTER(\"\u00e9\u4e2d\U0001F600\" != \"\") }".encode("utf-8"), b"\xc3\x28\xa0\xa1",
                              b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
            body = encode_as(raw, charset) if charset not in ("utf-8",) and rng.random() < 0.7 else raw
            if content_type is not None:
                headers.append((b"Content-Type", content_type))
        batch.send(target_server, index, method, route, headers, body, note=f"({method} {route[:60]!r})")
    batch.check()
    no_contacts(listener, "", "random headers")
    assert_same_store(server, before["read-only"], "random headers (read-only server)")
    assert_same_store(writable, before["writable"], "random headers (writable server)")


@pytest.mark.parametrize("charset, encoding", [("latin-1", "latin-1"), ("ISO-8859-1", "latin-1"), ("utf-16", "utf-16"),
                                               ("UTF-16BE", "utf-16-be"), (None, "utf-16"), (None, "latin-1")])
def test_declared_and_undeclared_charsets_are_refused_with_a_message(server, dumps, charset, encoding):
    """The protocol's bodies are UTF-8: another declared charset, or bytes that are not UTF-8, get 400."""
    batch = Batch(f"charset-{charset}-{encoding}", dumps)
    text = 'ASK { FILTER("é中" != "") }'
    update = f'INSERT DATA {{ <a:b> <a:c> "{text[15:17]}" }}'
    for index, (main, body) in enumerate([("application/sparql-query", text.encode(encoding, "replace")),
                                          ("application/x-www-form-urlencoded",
                                           b"query=" + quote_from_bytes(text.encode(encoding, "replace")).encode()),
                                          ("application/sparql-update", update.encode(encoding, "replace"))]):
        content_type = main + (f"; charset={charset}" if charset else "")
        answer = batch.send(server, index, "POST", "/sparql", [("Content-Type", content_type)], body,
                            expect={400} if main != "application/x-www-form-urlencoded" or charset else {200, 400})
        if answer is not None and answer.status == 400:
            assert re.search(r"UTF-8|syntax", answer.text), answer.text
    batch.check()


# ------------------------------------------------------------------------------------------------
# Limits: oversized bodies, huge literals, long IRIs and URLs
# ------------------------------------------------------------------------------------------------

def test_oversized_bodies_get_413(server, writable, dumps):
    before = fingerprint(writable)
    batch = Batch("oversized", dumps)
    big_query = b"ASK {} #" + b"x" * (LIMIT + 10)
    big_turtle = b"<http://e/s> <http://e/p> \"" + b"x" * (LIMIT + 10) + b"\" ."
    cases = [
        (server, "POST", "/sparql", [("Content-Type", "application/sparql-query")], big_query, {}),
        (server, "POST", "/sparql", [("Content-Type", "application/sparql-query")], big_query, {"chunked": True}),
        (server, "POST", "/sparql", [("Content-Type", "application/x-www-form-urlencoded")],
         b"query=" + quote_from_bytes(big_query).encode(), {}),
        (server, "POST", "/sparql", [("Content-Type", "application/sparql-update")], b"CLEAR ALL #" + b"x" * LIMIT, {}),
        (server, "POST", "/sparql", [("Content-Type", "application/sparql-query"), ("Origin", "https://fuzz.example")],
         b"ASK {}", {"content_length": "99999999999"}),
        (writable, "PUT", "/data?default", [("Content-Type", "text/turtle")], b"<a:b> <a:c> <a:d> .",
         {"content_length": "2000000"}),
        (writable, "POST", "/sparql", [("Content-Type", "application/sparql-update"), ("Authorization", f"Bearer {TOKEN}")],
         b"INSERT DATA { <http://e/s> <http://e/p> \"" + b"x" * LIMIT + b"\" }", {}),
        (writable, "PUT", "/data?graph=http%3A%2F%2Fe%2Fbig", [("Content-Type", "text/turtle"),
                                                              ("Authorization", f"Bearer {TOKEN}")], big_turtle, {}),
        (writable, "PUT", "/data?graph=http%3A%2F%2Fe%2Fbig", [("Content-Type", "text/turtle"),
                                                              ("Authorization", f"Bearer {TOKEN}")], big_turtle,
         {"chunked": True}),
        (writable, "POST", "/data/big", [("Content-Type", "application/n-triples"), ("Authorization", f"Bearer {TOKEN}")],
         big_turtle, {}),
        (writable, "PUT", "/data?default", [("Content-Type", "text/turtle")], big_turtle, {}),
    ]
    for index, (target, method, path, headers, body, options) in enumerate(cases):
        answer = batch.send(target, index, method, path, headers, body, expect={413}, max_seconds=5, **options)
        if answer is not None and answer.status == 413:
            assert "limit" in answer.text, answer.text
    batch.check()
    assert_same_store(writable, before, "oversized writes")


def test_huge_literals_long_iris_and_long_urls(server, dumps):
    batch = Batch("huge", dumps)
    literal = "a" * 900_000
    cases = [
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         f'ASK {{ FILTER(STRLEN("{literal}") = 900000) }}'.encode(), {200}),
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         f'SELECT (STRLEN(CONCAT("{literal[:400_000]}", "{literal[:400_000]}")) AS ?n) WHERE {{}}'.encode(), {200}),
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         f"ASK {{ <http://example.org/{literal}> ?p ?o }}".encode(), {200}),
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         f"ASK {{ ?s ?p <http://example.org/{'%41' * 300_000}> }}".encode(), {200}),
        ("POST", "/sparql", [("Content-Type", "application/x-www-form-urlencoded")],
         b"query=" + quote(f'ASK {{ FILTER(REGEX("{literal[:300_000]}", "^(a+)+$")) }}').encode(), {200, 400}),
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         ("SELECT * WHERE { VALUES ?x { " + " ".join(f'"{i}"' for i in range(90_000)) + " } } LIMIT 1").encode(), {200}),
        ("POST", "/sparql", [("Content-Type", "application/sparql-query")],
         ("PREFIX " + "p" * 200_000 + ": <http://e/> ASK { ?s " + "p" * 200_000 + ":x ?o }").encode(), {200}),
        ("GET", "/sparql?query=" + quote(f'ASK {{ FILTER(STRLEN("{literal[:60_000]}") > 0) }}'), [], None, {200}),
        # past what the HTTP layer takes in a request line (~64 kB): a 4xx, not a hang or a 5xx
        ("GET", "/sparql?query=" + quote(f'ASK {{ FILTER(STRLEN("{literal[:200_000]}") > 0) }}'), [], None, {400, 414}),
        ("GET", "/id/" + "a" * 100_000, [], None, {400, 404, 414}),
        ("GET", "/sparql?query=ASK%20%7B%7D", [("Accept", "text/csv;q=0.5, " * 20_000 + "*/*")], None, {200, 400, 431}),
    ]
    for index, (method, path, headers, body, expect) in enumerate(cases):
        batch.send(server, index, method, path, headers, body, expect=expect, max_seconds=10)
    batch.check()


# ------------------------------------------------------------------------------------------------
# Path traversal and header injection
# ------------------------------------------------------------------------------------------------

TRAVERSALS = ["../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%252f..%252fetc%252fpasswd", "....//....//etc/passwd",
              "..\\..\\etc\\passwd", "..%5c..%5cetc%5cpasswd", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
              "/etc/passwd", "%2fetc%2fpasswd", "file:///etc/passwd", "a%00b", "statecraft.nq%00.md", "%00",
              "..%00/..%00/etc/passwd", "cookbook.md%00../../../etc/passwd", "%2e%2e", "..", ".",
              "..%2fpyproject.toml", "../pyproject.toml", "..%2f..%2fstatecraft%2fserver.py", "%ff%fe", "%",
              "state/poland%2f..%2f..%2f..%2fetc%2fpasswd", "~root", "%7e/.ssh/id_rsa"]
PREFIXES = ["/id/", "/docs/", "/dist/", "/data/", "/static/", "/graph/", "/ontology/", "/dataset/", "/"]


def test_path_traversal_reads_no_file(server, writable, dumps):
    before = fingerprint(writable)
    batch = Batch("traversal", dumps)
    index = 0
    for prefix in PREFIXES:
        for traversal in TRAVERSALS:
            target = (prefix + traversal).encode("latin-1")
            for accept in ("text/turtle", "text/html"):
                batch.send(server, index, "GET", target, [("Accept", accept)], expect={200, 303, 400, 404, 406},
                           note=f"(Accept {accept})")
                index += 1
            if prefix == "/data/":
                headers = [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "text/turtle")]
                batch.send(writable, index, "PUT", target, headers, b"this is not turtle\n\x00", expect={400, 404},
                           note="(PUT, garbage)")
                batch.send(writable, index + 1, "DELETE", target, headers[:1], expect={400, 404}, note="(DELETE)")
                batch.send(writable, index + 2, "PUT", target, headers[1:], b"<a:b> <a:c> <a:d> .", expect={400, 401, 404},
                           note="(PUT, no token)")
                index += 3
    # the raw forms that a normalising client would rewrite, NUL and backslashes included
    for raw in [b"/id/a\x00b", b"/docs/../../../etc/passwd", b"/static/../../../../etc/passwd", b"//etc/passwd",
                b"/static//etc/passwd", b"/dist/../../../../etc/passwd", b"/data/../../etc/passwd",
                b"/id/..\\..\\..\\etc\\passwd", b"/docs/cookbook.md/../../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd",
                b"http://127.0.0.1/../../etc/passwd", b"*", b"/docs/\xff\xfe.md", b"/id/\r\n"]:
        batch.send(server, index, "GET", raw, [("Accept", "text/turtle")], expect={200, 400, 404}, note="(raw)")
        index += 1
    batch.check()
    assert_same_store(writable, before, "path traversal")


INJECTED = ["x%0d%0aX-Injected:%201", "x%0aX-Injected:%201", "x%0dX-Injected:%201", "%0d%0aX-Injected:%201%0d%0a%0d%0a<html>",
            "x%E5%98%8A%E5%98%8DX-Injected:%201", "x\r\nX-Injected: 1".replace("\r\n", "%0D%0A")]


def test_no_header_is_injected(server, writable, dumps):
    """CR/LF (and their UTF-8 look-alikes) in what may be echoed into Location, Content-Disposition,
    Link or Content-Type: the route paths, the graph parameter, `format`, a new graph's name."""
    before = fingerprint(writable)
    batch = Batch("injection", dumps)
    index = 0
    for payload in INJECTED:
        targets = [f"/graph/{payload}", f"/dataset/{payload}", f"/dist/{payload}", f"/dist/statecraft.nq?{payload}",
                   f"/id/state/poland?format={payload}", f"/id/{payload}", f"/ontology/{payload}",
                   f"/sparql?query=ASK%20%7B%7D&format={payload}", f"/.well-known/void?format={payload}",
                   f"/data?graph={payload}", f"/docs/{payload}.md", f"/static/{payload}"]
        for target in targets:
            for accept in ("text/html", "text/turtle"):
                batch.send(server, index, "GET", target, [("Accept", accept)], expect={200, 303, 400, 404, 406})
                index += 1
        headers = [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "text/turtle")]
        batch.send(writable, index, "PUT", f"/data?graph=http://e/{payload}", headers, b"@prefix : <", expect={400})
        batch.send(writable, index + 1, "POST", f"/data?{payload}", headers, b"@prefix : <", expect={400})
        batch.send(writable, index + 2, "POST", f"/data/{payload}", headers, b"@prefix : <", expect={400, 404})
        index += 3
    batch.check()
    assert_same_store(writable, before, "header injection")


# ------------------------------------------------------------------------------------------------
# Graph Store uploads
# ------------------------------------------------------------------------------------------------

def billion_laughs(entity_count: int = 9, fan_out: int = 10) -> bytes:
    entities = "".join(f' <!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * fan_out if i > 1 else "lol" * fan_out}">\n'
                       for i in range(1, entity_count + 1))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n{entities}]>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">'
            f'<rdf:Description rdf:about="http://example.org/a"><e:p>&lol{entity_count};</e:p></rdf:Description>'
            '</rdf:RDF>').encode()


def compact_laughs() -> bytes:
    """The same expansion (10^9 characters) in 579 bytes: one-letter entity names."""
    names = "abcdefghij"
    entities = f'<!ENTITY a "{"x" * 10}">' + "".join(f'<!ENTITY {names[i]} "{("&%s;" % names[i - 1]) * 10}">'
                                                        for i in range(1, 9))
    return (f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns:e="http://e/"><rdf:Description rdf:about="http://e/a"><e:p>&i;</e:p></rdf:Description></rdf:RDF>').encode()


def hostile_uploads(listener: Listener) -> list[tuple[str, str, bytes, set[int]]]:
    """(name, Content-Type, body, expected statuses) of uploads that must all be refused."""
    out = listener.url + "/fuzz/uploads"
    rdf = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/"'
    laughs = billion_laughs()
    return [
        ("billion laughs", "application/rdf+xml", laughs, {400}),
        ("billion laughs, compact", "application/rdf+xml", compact_laughs(), {400}),
        ("billion laughs, lower case", "application/rdf+xml", laughs.replace(b"DOCTYPE", b"doctype"), {400}),
        ("billion laughs, BOM", "application/rdf+xml", b"\xef\xbb\xbf" + laughs, {400}),
        ("billion laughs, UTF-16", "application/rdf+xml", laughs.decode().encode("utf-16"), {400, 415}),
        ("billion laughs as RDF/XML with parameters", "Application/RDF+XML; charset=utf-8; q=1", laughs, {400}),
        ("billion laughs in a multipart part", "multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.rdf\"\r\nContent-Type: application/rdf+xml\r\n\r\n"
         + laughs + b"\r\n--XyZ--\r\n", {400}),
        ("billion laughs in a base64 multipart part", "multipart/form-data; boundary=XyZ",
         b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.rdf\"\r\nContent-Type: application/rdf+xml\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n" + __import__("base64").b64encode(laughs) + b"\r\n--XyZ--\r\n", {400}),
        ("external entity: file", "application/rdf+xml",
         f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rdf:RDF {rdf}>'
         f'<rdf:Description rdf:about="http://example.org/a"><e:p>&x;</e:p></rdf:Description></rdf:RDF>'.encode(), {400}),
        ("external entity: http", "application/rdf+xml",
         f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{out}/entity">]><rdf:RDF {rdf}>'
         f'<rdf:Description rdf:about="http://example.org/a"><e:p>&x;</e:p></rdf:Description></rdf:RDF>'.encode(), {400}),
        ("parameter entity", "application/rdf+xml",
         f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{out}/dtd"> %p;]><rdf:RDF {rdf}/>'.encode(), {400}),
        ("external DTD", "application/rdf+xml",
         f'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "{out}/x.dtd"><rdf:RDF {rdf}/>'.encode(), {400}),
        ("XInclude + xml:base file, broken", "application/rdf+xml",
         f'<rdf:RDF {rdf} xmlns:xi="http://www.w3.org/2001/XInclude" xml:base="file:///etc/">'
         f'<rdf:Description rdf:about="passwd"><xi:include href="file:///etc/passwd" parse="text"/></rdf:Description>'
         f'<rdf:Description'.encode(), {400}),
        ("JSON-LD remote @context", "application/ld+json",
         f'{{"@context": "{out}/context.jsonld", "@id": "http://example.org/a", "name": "x"}}'.encode(), {400}),
        ("JSON-LD remote @context in a list", "application/ld+json",
         f'{{"@context": [{{"@vocab": "http://example.org/"}}, "{out}/list.jsonld"], "@id": "http://example.org/a", "n": 1}}'.encode(), {400}),
        ("JSON-LD @import", "application/ld+json",
         f'{{"@context": {{"@version": 1.1, "@import": "{out}/import.jsonld"}}, "@id": "http://example.org/a", "n": 1}}'.encode(), {400}),
        ("JSON-LD file @context", "application/ld+json",
         b'{"@context": "file:///etc/passwd", "@id": "http://example.org/a", "name": "x"}', {400}),
        ("JSON-LD remote scoped context", "application/ld+json",
         f'{{"@context": {{"t": {{"@id": "http://example.org/t", "@context": "{out}/scoped.jsonld"}}}}, "t": {{"a": 1}}}}'.encode(), {400}),
        ("Turtle @base file:, broken", "text/turtle", b"@base <file:///etc/> .\n<passwd> <shadow> <hosts> .\n<group> <", {400}),
        ("Turtle @prefix file:, broken", "text/turtle",
         b"@prefix etc: <file:///etc/> .\netc:passwd etc:shadow etc:hosts .\netc:group etc:x \"", {400}),
        ("Turtle @base http, broken", "text/turtle", f"@base <{out}/base/> .\n<a> <b> <c> .\n<d> <e> ".encode(), {400}),
        ("N-Triples relative IRIs", "application/n-triples", b"<passwd> <shadow> <hosts> .\n", {400}),
        ("TriG with a named graph", "application/trig", b"<http://e/g> { <http://e/s> <http://e/p> <http://e/o> . }", {400}),
        ("N-Quads with a named graph", "application/n-quads", b"<http://e/s> <http://e/p> <http://e/o> <http://e/g> .\n", {400}),
        ("garbage as Turtle", "text/turtle", bytes(range(256)) * 4, {400}),
        ("garbage as RDF/XML", "application/rdf+xml", b"<rdf:RDF><<<>>>&&&;" + bytes(range(256)), {400}),
        ("garbage as JSON-LD", "application/ld+json", b'{"@id": ' * 50, {400}),
        ("JSON-LD nested 1,000 deep, broken", "application/ld+json",
         b'{"http://example.org/p": ' * 1000 + b"1" + b"}" * 1000 + b" trailing garbage", {400}),
        ("deep Turtle collections, broken", "text/turtle", b"<http://e/s> <http://e/p> " + b"( " * 2000 + b")" * 2000, {400}),
        ("invalid UTF-8 Turtle", "text/turtle", b'<http://e/s> <http://e/p> "\xff\xfe\xc3\x28" .', {400}),
        ("Turtle declared latin-1", "text/turtle; charset=latin-1", '<http://e/s> <http://e/p> "é" .'.encode("latin-1"), {415}),
        ("Turtle declared UTF-16", "text/turtle; charset=utf-16", '<http://e/s> <http://e/p> "é" .'.encode("utf-16"), {415}),
        ("no Content-Type", "", b"<http://e/s> <http://e/p> <http://e/o> .", {415}),
        ("an image", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100), {415}),
        ("a SPARQL update as a graph", "application/sparql-update", b"INSERT DATA { <http://e/s> <http://e/p> 1 }", {415}),
        ("HTML", "text/html", b"<html><body>x</body></html>", {415}),
        ("wildcard media type", "*/*", b"<http://e/s> <http://e/p> <http://e/o> .", {415}),
        ("multipart without a boundary", "multipart/form-data", b"--x\r\n\r\n<a> <b> <c> .\r\n--x--", {400, 415}),
        ("multipart with a wrong boundary", "multipart/form-data; boundary=nope",
         b"--x\r\nContent-Type: text/turtle\r\n\r\n<http://e/s> <http://e/p> <http://e/o> .\r\n--x--\r\n", {400, 415}),
        ("multipart with an unknown part type", "multipart/form-data; boundary=x",
         b"--x\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--x--\r\n", {400, 415}),
        ("multipart with a broken part", "multipart/form-data; boundary=x",
         b"--x\r\nContent-Type: text/turtle\r\n\r\n<http://e/s> <http://e/p> <http://e/o> .\r\n--x\r\n"
         b"Content-Type: text/turtle\r\n\r\n<http://e/s> <http://e/p> \r\n--x--\r\n", {400}),
        ("multipart, 3000 empty parts", "multipart/form-data; boundary=x", b"--x\r\n\r\n\r\n" * 3000 + b"--x--\r\n", {400, 415}),
    ]


GRAPHS = ["/data?graph=https%3A%2F%2Fexample.org%2Ffuzz%2Fupload", "/data?default", "/data/fuzz/upload", "/data"]
PROTECTED = ["/data?graph=" + quote(GRAPH + name, safe="") for name in ("journal", "ontology", "inferred")]


def test_hostile_graph_store_uploads_are_refused(writable, listener, dumps):
    before = fingerprint(writable)
    batch = Batch("uploads", dumps)
    index = 0
    for number, (name, content_type, body, expect) in enumerate(hostile_uploads(listener)):
        headers = [("Authorization", f"Bearer {TOKEN}")] + ([("Content-Type", content_type)] if content_type else [])
        method, target = ("PUT", GRAPHS[number % 3]) if number % 2 == 0 else ("POST", GRAPHS[number % 4])
        answer = batch.send(writable, index, method, target, headers, body, expect=expect, max_seconds=5, note=f"({name})")
        if name.startswith("billion") and answer is not None and answer.status == 400:
            assert "DOCTYPE" in answer.text or "ENTITY" in answer.text or "UTF-8" in answer.text, answer.text
        index += 1
        # without the token: refused before anything is parsed
        batch.send(writable, index, "PUT", GRAPHS[0], headers[1:], body, expect={401}, note=f"({name}, no token)")
        index += 1
    # the server's own graphs cannot be written, whatever the body
    for target in PROTECTED:
        for method in ("PUT", "POST", "DELETE"):
            batch.send(writable, index, method, target, [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "text/turtle")],
                       b"<http://e/s> <http://e/p> <http://e/o> ." if method != "DELETE" else None, expect={403})
            index += 1
    # deleting what is not there
    for target in ("/data?graph=https%3A%2F%2Fexample.org%2Fnone", "/data/none", "/data?default"):
        # the default graph always exists (and is empty here): deleting it changes nothing
        batch.send(writable, index, "DELETE", target, [("Authorization", f"Bearer {TOKEN}")],
                   expect={200, 204, 404} if target.endswith("default") else {404})
        index += 1
    # random garbage bodies under random declared types: invalid by construction (a NUL after a newline
    # is no token of any RDF syntax, and is not allowed in JSON or XML)
    for n in range(25):
        rng = batch.rng(1000 + n)
        content_type = rng.choice(["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json",
                                   "text/n3", "application/trig", "application/n-quads", "text/plain"])
        seed_body = rng.choice([b"<http://e/s> <http://e/p> \"o\" .", b'{"@id": "http://e/s", "http://e/p": "o"}',
                                f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'.encode(),
                                b"@prefix : <http://e/> . :s :p :o .", bytes(rng.randrange(256) for _ in range(200))])
        body = mutate(rng, seed_body) + b"\n\x00"
        batch.send(writable, 1000 + n, rng.choice(["PUT", "POST"]), rng.choice(GRAPHS),
                   [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", content_type)], body, expect={400},
                   note=f"(garbage {content_type})")
    batch.check()
    no_contacts(listener, "/fuzz/uploads", "hostile uploads")
    assert_same_store(writable, before, "hostile uploads")


def test_the_billion_laughs_is_refused_at_once(writable, dumps):
    """The classic 9-level document (913 bytes, 10^9 `lol`s expanded) and a compact one (579 bytes)."""
    batch = Batch("laughs", dumps)
    for index, body in enumerate((billion_laughs(), compact_laughs())):
        assert len(body) < (1000 if index == 0 else 700), len(body)
        answer = batch.send(writable, index, "PUT", GRAPHS[0], [("Authorization", f"Bearer {TOKEN}"),
                                                                ("Content-Type", "application/rdf+xml")], body,
                            expect={400}, max_seconds=2.0)
        assert answer is None or len(answer.body) < 2000
    batch.check()


def inferred_beyond_the_journal(server) -> list[str]:
    """The inferred triples but those about the journal's changes (id/change/…)."""
    query = (f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} "
             "FILTER(!STRSTARTS(STR(?s), \"https://w3id.org/statecraft/id/change/\")) }")
    answer = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/tab-separated-values"},
                        timeout=30)
    assert answer.status_code == 200, answer.text
    return sorted(re.sub(r"_:\S+", "_:b", line) for line in answer.text.splitlines()[1:])


def test_a_turtle_upload_with_a_file_base_reads_no_file(writable, listener, dumps):
    """A valid upload whose @base and @prefix are file: (and http: to the listener) URLs: the IRIs are
    only names. It commits (the one write of this file that does), nothing is read or fetched, and the
    store is as before once the graph is deleted, but for the journal that records both writes."""
    before = fingerprint(writable)
    inferred_before = inferred_beyond_the_journal(writable)
    batch = Batch("file-base", dumps)
    graph = "https://example.org/fuzz/file-base"
    target = "/data?graph=" + quote(graph, safe="")
    body = (b"@base <file:///etc/> .\n@prefix etc: <file:///etc/> .\n"
            b"@prefix out: <" + listener.url.encode() + b"/fuzz/file-base/> .\n"
            b"<passwd> <shadow> etc:hosts .\nout:a out:b <group> .\n")
    headers = [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "text/turtle")]
    put = batch.send(writable, 0, "PUT", target, headers, body, expect={201, 422})
    read = batch.send(writable, 1, "GET", target, [("Accept", "application/n-triples")], expect={200, 404})
    if put is not None and put.status == 201 and read is not None:
        assert "<file:///etc/passwd> <file:///etc/shadow> <file:///etc/hosts> ." in read.text, read.text
        assert len(read.text.strip().splitlines()) == 2, read.text
        batch.send(writable, 2, "DELETE", target, headers[:1], expect={200, 204})
    batch.check()
    no_contacts(listener, "/fuzz/file-base", "a Turtle upload with @prefix to the listener")
    # the journal records both writes, and the inferred graph follows it (each change is a prov:Activity)
    assert_same_store(writable, before, "a committed and deleted upload", ignore=(JOURNAL, INFERRED))
    assert inferred_beyond_the_journal(writable) == inferred_before


# ------------------------------------------------------------------------------------------------
# No outbound requests
# ------------------------------------------------------------------------------------------------

def refused_outbound_cases(url: str) -> list[tuple[str, str, str]]:
    """(name, operation, text): every one names the listener and must be refused (403) or fail
    (400) without contacting it."""
    q = "query"
    u = "update"
    return [
        ("service", q, f"SELECT * WHERE {{ SERVICE <{url}/a> {{ ?s ?p ?o }} }}"),
        ("service silent", q, f"SELECT * WHERE {{ SERVICE SILENT <{url}/b> {{ ?s ?p ?o }} }}"),
        ("service lower case", q, f"select * where {{ service <{url}/c> {{ ?s ?p ?o }} }}"),
        ("service after a tab", q, f"SELECT * WHERE {{ SERVICE\t<{url}/d> {{ ?s ?p ?o }} }}"),
        ("service after a newline", q, f"SELECT * WHERE {{ SERVICE\n<{url}/e> {{ ?s ?p ?o }} }}"),
        ("service after a comment", q, f"SELECT * WHERE {{ SERVICE #x\n <{url}/f> {{ ?s ?p ?o }} }}"),
        ("service by prefixed name", q, f"PREFIX out: <{url}/> SELECT * WHERE {{ SERVICE out:g {{ ?s ?p ?o }} }}"),
        ("service by variable", q, f"SELECT * WHERE {{ BIND(<{url}/h> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"),
        ("service relative to BASE", q, f"BASE <{url}/> SELECT * WHERE {{ SERVICE <i> {{ ?s ?p ?o }} }}"),
        ("service in a subquery", q, f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}/j> {{ ?s ?p ?o }} }} }} }}"),
        ("service in EXISTS", q, f"ASK {{ FILTER EXISTS {{ SERVICE <{url}/k> {{ ?s ?p ?o }} }} }}"),
        ("service in an update", u, f"INSERT {{ <http://e/s> <http://e/p> ?o }} WHERE {{ SERVICE <{url}/l> {{ ?s ?p ?o }} }}"),
        ("load", u, f"LOAD <{url}/m>"),
        ("load silent into a graph", u, f"LOAD SILENT <{url}/n> INTO GRAPH <http://e/g>"),
        ("load lower case", u, f"load <{url}/o>"),
        ("load after a comment", u, f"# LOAD\nLOAD <{url}/p>"),
        ("load file", u, "LOAD <file:///etc/passwd>"),
        ("load file into a graph", u, "LOAD <file:///etc/passwd> INTO GRAPH <http://e/passwd>"),
        ("load relative", u, f"BASE <{url}/> LOAD <q>"),
        ("load in a sequence", u, f"INSERT DATA {{ <http://e/s> <http://e/p> 1 }} ; LOAD <{url}/r>"),
    ]


@pytest.mark.parametrize("which", ["read-only", "writable"])
def test_service_and_load_are_refused_without_contact(server, writable, listener, dumps, which):
    live = server if which == "read-only" else writable
    before = fingerprint(live)
    calls_before = len(self_calls(live))
    name = f"outbound-{which}"
    prefix = f"/fuzz/{name}"
    batch = Batch(name, dumps)
    tokens = [None, TOKEN] if which == "writable" else [None]
    index = 0
    for case, operation, text in refused_outbound_cases(listener.url + prefix):
        for token in tokens:
            headers = [("Content-Type", f"application/sparql-{operation}")]
            if token:
                headers.append(("Authorization", f"Bearer {token}"))
            expect = {400, 403} if operation == "query" or which == "read-only" or token else {400, 401, 403}
            batch.send(live, index, "POST", "/sparql", headers, text.encode(), expect=expect,
                       note=f"({case}{', token' if token else ''})")
            index += 1
        if operation == "query":
            batch.send(live, index, "GET", "/sparql?query=" + quote(text, safe=""), [], expect={400, 403}, note=f"({case}, GET)")
            index += 1
    # FROM / FROM NAMED and the protocol's dataset parameters name graphs; they are not fetched
    for text in (f"SELECT * FROM <{listener.url}{prefix}/from> WHERE {{ ?s ?p ?o }} LIMIT 1",
                 f"SELECT * FROM NAMED <{listener.url}{prefix}/named> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT 1"):
        batch.send(live, index, "GET", "/sparql?query=" + quote(text, safe=""), [], expect={200})
        batch.send(live, index + 1, "GET", "/sparql?query=ASK%20%7B%7D&default-graph-uri="
                   + quote(f"{listener.url}{prefix}/dgu", safe="") + "&named-graph-uri=" + quote("file:///etc/passwd", safe=""),
                   [], expect={200})
        index += 2
    batch.check()
    no_contacts(listener, prefix, f"SERVICE/LOAD on the {which} server")
    assert self_calls(live)[calls_before:] == [], "the server sent SERVICE requests to itself"
    assert_same_store(live, before, f"SERVICE/LOAD on the {which} server")


def test_an_invalid_iri_gets_400_not_500(server, writable, dumps):
    """A protocol dataset parameter that is not an IRI, or a Graph Store graph name that is not one
    (?graph=, /data/<path> with a space or NUL). Found by this file: they were `500 internal error:
    ValueError: Invalid IRI code point ' '` (and `500 internal error while writing …`)."""
    before = fingerprint(writable)
    batch = Batch("invalid-iri", dumps)
    for index, target in enumerate(["/sparql?query=ASK%20%7B%7D&default-graph-uri=not%20an%20iri",
                                    "/sparql?query=ASK%20%7B%7D&named-graph-uri=http%3A%2F%2Fe%2F%00",
                                    "/sparql?query=ASK%20%7B%7D&default-graph-uri="]):
        batch.send(server, index, "GET", target, expect={400})
    writes = [("PUT", "/data?graph=not%20an%20iri", b"<http://e/s> <http://e/p> <http://e/o> ."),
              ("DELETE", "/data?graph=", None), ("PUT", "/data/a%20b", b"<http://e/s> <http://e/p> <http://e/o> ."),
              ("DELETE", "/data/a%00b", None)]
    for index, (method, target, body) in enumerate(writes, 10):
        batch.send(writable, index, method, target, [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "text/turtle")],
                   body, expect={400, 404})
    try:
        batch.check()
    finally:
        assert_same_store(writable, before, "writes to invalid graph IRIs")


# ------------------------------------------------------------------------------------------------
# Regressions: the server bugs this file found, fixed
# ------------------------------------------------------------------------------------------------

DEEP = 10_000


def test_regression_deeply_nested_queries_get_400_not_500(disposable, dumps):
    """A query nested ~3,000 deep or more overflows the query worker's stack while Oxigraph parses it:
    the worker dies and the client gets `500 the query worker stopped unexpectedly (); it has been
    replaced` — a client error reported as a server error (the message's `()` is an EOFError without text).
    Expected: 400 with a message (e.g. `the query is nested too deeply`), and no dead worker."""
    live = disposable.get()
    batch = Batch("known-deep-queries", dumps, tolerate_known=False)
    for index, text in enumerate([
            "ASK {" + "{" * DEEP + "}" * DEEP + "}",
            "ASK { FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }",
            "SELECT * WHERE " + "{" * DEEP,
            "SELECT * WHERE { ?s <http://e/p> " + "( " * DEEP + ")" * DEEP + " }"]):
        batch.send(live, index, "POST", "/sparql", [("Content-Type", "application/sparql-query")], text.encode(),
                   expect={400})
    batch.check()


def test_regression_a_deeply_nested_update_does_not_kill_the_server(disposable, dumps):
    """Any client, no token needed, even on a read-only server: POST /sparql with an update whose WHERE
    is nested 3,000 deep (6 kB) kills the whole server process (SIGSEGV, exit -11): the front process
    checks the update's syntax by running it with pyoxigraph on the event loop's thread
    (protocol.check_update_syntax), whose stack overflows. Expected: 400, and the server keeps serving."""
    live = disposable.get()
    batch = Batch("known-deep-update", dumps, tolerate_known=False)
    text = "INSERT { <http://e/s> <http://e/p> <http://e/o> } WHERE {" + "{" * DEEP + "}" * DEEP + "}"
    batch.send(live, 0, "POST", "/sparql", [("Content-Type", "application/sparql-update")], text.encode(),
               expect={400, 403})
    time.sleep(0.3)
    batch.send(live, 1, "GET", "/health", expect={200}, note="(after the nested update)")
    batch.check()


@pytest.mark.parametrize("operation, template", [
    ("query", "SELECT * WHERE {{ SERVICE<{url}> {{ ?s ?p ?o }} }}"),
    ("query", "SELECT * WHERE {{ BIND(<http://e/\\u0041#> AS ?z) SERVICE <{url}> {{ ?s ?p ?o }} }}"),
    ("update", "INSERT {{ <http://e/s> <http://e/p> ?o }} WHERE {{ SERVICE<{url}> {{ ?s ?p ?o }} }}"),
    ("update", "INSERT DATA {{ <http://e/\\u0041#> <http://e/p> <http://e/o> }} ; LOAD <{url}>"),
], ids=["query SERVICE<iri>", "query SERVICE hidden after an escaped IRI", "update SERVICE<iri>",
        "update LOAD hidden after an escaped IRI"])
def test_regression_outbound_requests_past_the_check(server, listener, dumps, operation, template):
    """protocol.refuse_outbound / refuse_network_operations find SERVICE and LOAD with regular
    expressions that Oxigraph's grammar does not follow: `SERVICE<iri>` (no space, valid SPARQL) is not
    seen, and an IRI with a \\u escape is not recognised as an IRI, so the `#` inside it starts a
    "comment" that hides the rest of the line. Oxigraph then makes the request: from a query worker
    for a query; for an update, from the front process, with no token (the answer is 401 or 403, but
    the syntax check ran the update on an empty store first). Expected: 403 and no contact."""
    path = f"/fuzz/known-outbound/{hashlib.sha256(template.encode()).hexdigest()[:8]}"
    text = template.format(url=listener.url + path)
    batch = Batch("known-outbound", dumps, tolerate_known=False)
    batch.send(server, 0, "POST", "/sparql", [("Content-Type", f"application/sparql-{operation}")], text.encode(),
               expect={400, 403})
    batch.check()
    no_contacts(listener, path, text)


def test_regression_a_declared_oversized_body_gets_413_at_once(server, dumps):
    """RequestSizeLimit answers 413 as soon as a Content-Length over the limit is declared, but it sits
    inside SparqlFastPath, which takes every GET/POST /sparql without an Origin header: there the
    declared length is not looked at, the server waits for the body (here: forever, the client sends
    6 bytes of the 2,000,000 it declared) and refuses only after reading 1 MB of it. With an Origin
    header the same request gets 413 at once. Expected: 413 at once on both paths."""
    batch = Batch("known-declared-length", dumps, tolerate_known=False)
    for index, length in enumerate(("2000000", "99999999999")):
        batch.send(server, index, "POST", "/sparql", [("Content-Type", "application/sparql-query")], b"ASK {}",
                   content_length=length, expect={413}, timeout=1.5)
    batch.check()


def test_regression_deeply_nested_json_ld_does_not_kill_the_writer(writable, dumps):
    """With the token: a JSON-LD upload nested 5,000 objects deep (130 kB; here with trailing garbage,
    so that it is invalid whatever the parser's depth limit) overflows the writer process's stack in
    Oxigraph's JSON-LD parser: `500 the writer process stopped unexpectedly (); it has been replaced`,
    and writes wait ~2 s for the new writer. 1,000 deep gets a proper 400. Expected: 400."""
    before = fingerprint(writable)
    batch = Batch("known-deep-json-ld", dumps, tolerate_known=False)
    body = b'{"http://example.org/p": ' * 5000 + b"1" + b"}" * 5000 + b" trailing garbage"
    batch.send(writable, 0, "PUT", GRAPHS[0], [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "application/ld+json")],
               body, expect={400})
    try:
        batch.check()
    finally:
        assert_same_store(writable, before, "a deeply nested JSON-LD upload")


def _health_while(live, method_target_headers_body, seconds_allowed: float = 0.5) -> tuple[Answer | None, float]:
    """Send one request in a thread and time /health meanwhile."""
    method, target, headers, body = method_target_headers_body
    outcome: dict = {}

    def send():
        try:
            outcome["answer"] = exchange(live.url, http_request(method, target, headers, body))
        except (NoAnswer, OSError) as error:
            outcome["error"] = error

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    try:
        httpx.get(live.url + "/health", timeout=CLIENT_TIMEOUT)
    except httpx.HTTPError:
        pass
    health_seconds = time.monotonic() - started
    thread.join(CLIENT_TIMEOUT)
    return outcome.get("answer"), health_seconds


def test_regression_an_unauthorised_update_is_not_run_on_the_event_loop(disposable):
    """No token, read-only server: an update that computes much (a COUNT over VALUES cross products,
    no data needed) is *executed* by the syntax check (protocol.check_update_syntax runs
    pyoxigraph.Store().update on an empty store), synchronously, on the event loop and outside any
    time limit: /health waits until it is done, then the client gets 403 (401 with writes enabled).
    Here ~2 s; one more VALUES clause makes it minutes. Expected: a parse without evaluation, the
    refusal at once, /health unaffected."""
    live = disposable.get()
    values = " ".join(str(i) for i in range(60))
    update = ("INSERT { <http://e/s> <http://e/p> ?n } WHERE { { SELECT (COUNT(*) AS ?n) WHERE { "
              + " ".join(f"VALUES ?v{i} {{ {values} }}" for i in range(6)) + " VALUES ?w { 1 2 } } } }")
    # Evaluated, this would run for hours; parsed only, it is refused in milliseconds. The bounds leave
    # room for a loaded machine and still tell the two apart.
    answer, health_seconds = _health_while(live, ("POST", "/sparql", [("Content-Type", "application/sparql-update")],
                                                  update.encode()))
    assert answer is not None and answer.status == 403
    assert health_seconds < 3 and answer.seconds < 5, \
        f"/health took {health_seconds:.2f} s while the refused update took {answer.seconds:.2f} s"


def test_regression_the_service_check_is_not_quadratic(disposable):
    """`SERVICE <` repeated (no `>` anywhere): protocol._SERVICE's `<[^>]*>` scans to the end of the
    text from every occurrence, so the check is quadratic, and it runs on the event loop: 225 kB take
    ~2 s during which /health does not answer; a 1 MB body (under the limit) takes ~40 s. Expected:
    a linear check (refused at once)."""
    live = disposable.get()
    text = b"SERVICE <" * 110_000   # 990 kB, under the size limit: quadratic, about 40 s; linear, milliseconds
    answer, health_seconds = _health_while(live, ("POST", "/sparql", [("Content-Type", "application/sparql-query")], text))
    assert answer is not None and answer.status in (400, 403)
    assert health_seconds < 3 and answer.seconds < 5, \
        f"/health took {health_seconds:.2f} s while the refused query took {answer.seconds:.2f} s"


# ------------------------------------------------------------------------------------------------
# Last: both servers are healthy and nothing reached the outside except through the known bugs
# ------------------------------------------------------------------------------------------------

def test_the_servers_are_healthy_and_nothing_went_out(server, writable, listener):
    for live in (server, writable):
        health = httpx.get(live.url + "/health", timeout=CLIENT_TIMEOUT)
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        assert httpx.get(live.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
    unexpected = listener.contacts()
    assert unexpected == [], f"outbound requests reached the listener: {unexpected[:5]}"
