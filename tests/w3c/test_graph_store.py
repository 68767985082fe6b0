"""The W3C SPARQL 1.1 Graph Store HTTP Protocol suite (graph-store-protocol/manifest.ttl, which includes
manifest-direct.ttl and manifest-indirect.ttl), request by request over HTTP, on the write-enabled
server (fixture `w3c_write_server`, with the curator's token on every request).

Each test starts from an empty store (DROP ALL through the server's own write interface; the server's
own graphs, its journal and inferences, stay). Every ht:Request is sent as the manifest writes it
(method, headers, body in its declared character encoding), with the manifest's /gsp path prefix
replaced by the server's /data: `/gsp?graph=…` and `/gsp?default` are indirect identification, and
`/gsp/person/1.ttl` is direct identification, the graph's IRI being then the request URL on the test
server. Each response must have one of the expected statuses (an hts: code or class); where the
manifest says, a Location header (whose value then replaces the template variable, such as
$LOCATION$, in later request URLs and bodies), the expected response headers (Content-Type by media
type and parameters) and a body that, parsed by the response's Content-Type, is isomorphic (rdflib)
to the manifest's, parsed by the Content-Type the manifest gives it. A HEAD response has no body.

head_non_existing_direct is defined in manifest-direct.ttl but missing from its mf:entries (its
indirect twin is listed); it is run too, and says so.
"""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from .manifest import graph_store_tests, missing_message, status_matches, suites_root

SUITE = "Graph Store Protocol"
ROOT = suites_root()
TESTS = graph_store_tests(ROOT) if ROOT else []
PREFIX = "/gsp"
RDF_FORMATS = {"text/turtle": "turtle", "application/n-triples": "nt", "text/plain": "nt",
               "application/rdf+xml": "xml", "application/ld+json": "json-ld", "text/n3": "n3"}


def server_path(manifest_path: str) -> str:
    assert manifest_path == PREFIX or manifest_path[len(PREFIX):][:1] in ("/", "?"), manifest_path
    return "/data" + manifest_path[len(PREFIX):]


def content_type(value: str) -> tuple[str, dict[str, str]]:
    media, *parameters = (part.strip() for part in value.split(";"))
    pairs = (p.partition("=") for p in parameters if p)
    return media.lower(), {k.strip().lower(): v.strip().strip('"').lower() for k, _, v in pairs}


def parse_rdf(data: bytes, media: str, base: str, what: str) -> Graph:
    assert media in RDF_FORMATS, f"{what} is in {media or 'no media type'}, not an RDF syntax"
    return Graph().parse(data=data, format=RDF_FORMATS[media], publicID=base)


def describe(graph: Graph) -> str:
    return "\n    ".join(sorted(line for line in graph.serialize(format="nt").splitlines() if line)) or "(no triples)"


def check_response(step, response, url: str) -> None:
    where = f"{step.method} {url}"
    assert status_matches(response.status_code, step.expected_status), (
        f"{where}: status {response.status_code}, expected {' or '.join(sorted(step.expected_status))}; "
        f"body: {response.text[:500]}")
    for name, value in step.response_headers:
        got = response.headers.get(name)
        assert got is not None, f"{where}: no {name} header (expected {value!r})"
        if name.lower() == "content-type":
            want_media, want_params = content_type(value)
            got_media, got_params = content_type(got)
            assert got_media == want_media and all(got_params.get(k) == v for k, v in want_params.items()), (
                f"{where}: Content-Type {got!r}, expected {value!r}")
        else:
            assert got == value, f"{where}: {name}: {got!r}, expected {value!r}"
    if step.method == "HEAD":
        assert response.content == b"", f"{where}: a HEAD response with a body ({len(response.content)} bytes)"
    if step.response_body is not None:
        declared = dict((k.lower(), v) for k, v in step.response_headers).get("content-type", "text/turtle")
        expected = parse_rdf(step.response_body, content_type(declared)[0], url, "the manifest's expected body")
        got = parse_rdf(response.content, content_type(response.headers.get("content-type", ""))[0], url,
                        f"the body of {where}")
        if not isomorphic(got, expected):
            _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(got))
            pytest.fail(f"{where}: the graph is not the expected one ({len(got)} triples, expected "
                        f"{len(expected)}).\n  missing:\n    {describe(missing)}\n  unexpected:\n    {describe(extra)}",
                        pytrace=False)


def substitute(text, variables: dict[str, str]):
    for variable, value in variables.items():
        text = text.replace(variable, value) if isinstance(text, str) else text.replace(variable.encode(),
                                                                                         value.encode())
    return text


def params():
    if ROOT is None:
        return [pytest.param(None, id="w3c-suites-missing")]
    return [pytest.param(test, id=test.name) for test in TESTS]


@pytest.mark.parametrize("test", params())
def test_graph_store(test, w3c_write_server, request):
    if test is None:
        pytest.fail(missing_message(), pytrace=False)
    server = w3c_write_server
    request.node.user_properties.append(("w3c_title", test.title))
    if not test.listed:
        request.node.user_properties.append(("w3c_note", f"defined in {test.manifest} but not listed in its "
                                             "mf:entries; run all the same"))
    server.empty_store()
    variables: dict[str, str] = {}
    for step in test.requests:
        url = server.base + server_path(substitute(step.path, variables))
        body = substitute(step.body, variables) if step.body is not None else None
        response = server.client.request(step.method, url, headers=dict(step.headers), content=body)
        check_response(step, response, url)
        if step.expected_location:
            location = response.headers.get("location")
            assert location, f"{step.method} {url}: no Location header (status {response.status_code})"
            variables[step.expected_location] = location
