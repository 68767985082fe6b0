"""Dereferenceable identifiers (statecraft.pages): HTML pages and RDF descriptions by content negotiation,
served by the real endpoint (`statecraft serve`, i.e. statecraft.server.create_app with its query worker
processes) on 127.0.0.1, over a real build."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF

from conftest import LiveServer, free_port

BASE = "https://w3id.org/statecraft/"
SC = BASE + "ontology#"
STATEMENT = BASE + "id/statement/yoon-deployment-violates-un-resolutions-and-charter"
RUSSIA = BASE + "id/state/russia"
POLAND = BASE + "id/state/poland"
REUTERS_URL = ("https://www.reuters.com/world/south-koreas-yoon-polands-duda-condemn-nkorea-troop-dispatch-"
               "russia-2024-10-24/")
QUOTE = ("Yoon noted, “We agreed that North Korea’s sending troops to Russia is a direct violation of UN Security "
         "Council resolutions, the UN Charter, and a provocation that threatens global security by going beyond "
         "the Korean Peninsula and Europe”.")


# ---------------------------------------------------------------------------------------------
# The endpoint: the lead's create_app (statecraft serve), from conftest's `server` fixture, in a
# subprocess with its query worker processes over the build's statecraft.nq
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def local(iri: str, server) -> str:
    return server.url + "/" + iri[len(BASE):]


def path(iri: str) -> str:
    return "/" + iri[len(BASE):]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "script":
            self.scripts += 1


def parse_html(text: str) -> Links:
    parser = Links()
    parser.feed(text)
    return parser


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


# ---------------------------------------------------------------------------------------------
# HTML pages
# ---------------------------------------------------------------------------------------------

def section(page: str, anchor: str) -> str:
    """The HTML from <h2 id="anchor"> to the next <h2."""
    start = page.index(f'<h2 id="{anchor}"')
    end = page.find("<h2", start + 1)
    return page[start:end if end > 0 else len(page)]


def test_state_page_lists_label_type_wikidata_and_incoming_facts(client, server):
    r = client.get(path(RUSSIA), headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert "<title>Russia — Statecraft</title>" in page and "<h1>Russia</h1>" in page
    types = page[page.index('<p class="types">'):].split("</p>")[0]
    assert f'href="{server.url}/ontology#State"' in types and ">State</a>" in types
    assert '<a href="http://www.wikidata.org/entity/Q159" class="external" rel="external">Wikidata Q159</a>' in page
    incoming = section(page, "incoming")
    deployment = local(BASE + "id/deployment/north-korea-to-russia-2024", server)
    assert f'href="{deployment}"' in incoming
    assert "North Korea&#x27;s deployment of nearly 10,000 troops to Russia, 2024" in incoming
    assert f'href="{server.url}/ontology#receivingState"' in incoming and ">receiving state</a>" in incoming
    # literals carry their language; properties their ontology label
    assert 'Russian Federation</span> <span class="lang">@en</span>' in page
    assert ">aligned with</a> <code class=\"curie\">sc:alignedWith</code>" in page


def test_links_on_a_page_are_local(client, server):
    page = client.get(path(RUSSIA), headers={"Accept": "text/html"}).text
    hrefs = parse_html(page).hrefs
    assert not [h for h in hrefs if h.startswith(BASE)], "canonical IRIs must be linked to this server"
    assert local(BASE + "id/state/north-korea", server) in hrefs
    assert server.url + "/" in hrefs  # back to the query UI
    query = server.url + "/sparql?query=DESCRIBE%20%3Chttps%3A%2F%2Fw3id.org%2Fstatecraft%2Fid%2Fstate%2Frussia%3E"
    assert query in hrefs
    # the canonical IRI stays visible on the page
    assert f"<code>{RUSSIA}</code>" in page


def test_every_local_link_of_the_statement_page_resolves(client, server):
    page = client.get(path(STATEMENT), headers={"Accept": "text/html"}).text
    targets = sorted({h.split("#")[0] for h in parse_html(page).hrefs
                      if h.startswith(server.url + "/id/") or h.startswith(server.url + "/ontology")})
    assert len(targets) > 10
    for target in targets:
        assert client.get(target, headers={"Accept": "text/html"}).status_code == 200, target


def test_statement_page_shows_the_evidence_sentence_source_and_status(client, server):
    r = client.get(path(STATEMENT), headers={"Accept": "text/html"})
    assert r.status_code == 200
    page = r.text
    evidence = section(page, "evidence")
    # the whole sentence, with the exact quote highlighted and the note marker after it
    assert f"<mark>{QUOTE}</mark>[2]" in evidence
    assert "4089" in evidence and "4328" in evidence
    assert "Offsets: characters 4089–4328" in evidence
    assert f'href="{REUTERS_URL}"' in evidence
    assert "South Korea’s Yoon, Poland’s Duda condemn N. Korea troop dispatch to Russia" in evidence
    assert "accessed 2024-10-29" in evidence
    assert f'href="{local(BASE + "id/organisation/reuters", server)}"' in evidence
    status = page[page.index('<dl class="status">'):page.index("</dl>", page.index('<dl class="status">'))]
    assert "Epistemic status" in status and ">reported by a source</a>" in status
    assert "Certainty" in status
    # the named graphs the statements come from
    assert "https://w3id.org/statecraft/graph/article/north-korea-russia-south-korea-security-2024-10-29" in page
    assert 'title="https://w3id.org/statecraft/graph/inferred">inferred</code>' in page
    # a " inside a literal is escaped
    assert "Spoken by Yoon, for both leaders (&quot;We agreed&quot;)." in page


def test_a_hedged_record_shows_its_certainty(client, store):
    from conftest import select
    rows = select(store, f"""SELECT ?r ?label WHERE {{ ?r <{SC}certainty> <{SC}Arguable> ;
        <{SC}epistemicStatus> <{SC}HedgedAnalysis> }} ORDER BY ?r LIMIT 1""")
    assert rows
    page = client.get(path(rows[0]["r"]), headers={"Accept": "text/html"}).text
    status = page[page.index('<dl class="status">'):page.index("</dl>", page.index('<dl class="status">'))]
    assert ">hedged analysis</a>" in status and ">arguable</a>" in status and "Hedge cue" in status


def test_evidence_span_page_has_anchors_for_its_selectors(client, server):
    span = BASE + "id/evidence/north-korea-russia-south-korea-security-2024-10-29/4089-4328"
    page = client.get(path(span), headers={"Accept": "text/html"}).text
    ids = parse_html(page).ids
    assert {"position", "quote"} <= ids
    assert f'href="{local(span, server)}#position"' in page
    assert f"<mark>{QUOTE}</mark>" in page


def test_pages_are_self_contained(client):
    for target in (path(STATEMENT), "/ontology"):
        r = client.get(target, headers={"Accept": "text/html"})
        parsed = parse_html(r.text)
        assert parsed.scripts == 0
        assert "<style>" in r.text
        assert not re.search(r'<(?:link|img|script)[^>]+(?:href|src)="https?://[^"]*"[^>]*rel="stylesheet"', r.text)
        assert not re.search(r'<(?:img|script|iframe)\b[^>]*\bsrc=', r.text)
        assert "default-src 'none'" in r.headers["content-security-policy"]


# ---------------------------------------------------------------------------------------------
# RDF descriptions and negotiation
# ---------------------------------------------------------------------------------------------

def test_statement_as_turtle_has_its_triples_incoming_links_and_evidence_selectors(client):
    r = client.get(path(STATEMENT), headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/turtle; charset=utf-8"
    g = Graph().parse(data=r.text, format="turtle")
    s = URIRef(STATEMENT)
    assert (s, RDF.type, URIRef(SC + "Statement")) in g
    assert (s, URIRef(SC + "speaker"), URIRef(BASE + "id/person/yoon-suk-yeol")) in g
    assert (s, URIRef(SC + "epistemicStatus"), URIRef(SC + "ReportedBySource")) in g
    assert (s, URIRef(SC + "citedSource"), URIRef(BASE + "id/source/reuters-2024-10-24-yoon-duda-condemn-troop-dispatch")) in g
    assert (URIRef(BASE + "id/person/yoon-suk-yeol"), URIRef(SC + "madeStatement"), s) in g  # incoming
    span = URIRef(BASE + "id/evidence/north-korea-russia-south-korea-security-2024-10-29/4089-4328")
    oa = "http://www.w3.org/ns/oa#"
    assert (s, URIRef(SC + "hasEvidence"), span) in g
    assert (URIRef(str(span) + "#quote"), URIRef(oa + "exact"), Literal(QUOTE)) in g
    starts = [o.toPython() for o in g.objects(URIRef(str(span) + "#position"), URIRef(oa + "start"))]
    ends = [o.toPython() for o in g.objects(URIRef(str(span) + "#position"), URIRef(oa + "end"))]
    assert starts == [4089] and ends == [4328]
    # the same triples as the store holds, nothing from elsewhere
    assert all(str(t[0]) in (STATEMENT, str(span), str(span) + "#quote", str(span) + "#position") or t[2] == s
               for t in g)


@pytest.mark.parametrize("media_type,fmt", [("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"),
                                            ("application/n-triples", "nt"), ("text/turtle", "turtle")])
def test_every_rdf_format_parses_to_the_same_graph(client, media_type, fmt):
    from rdflib.compare import isomorphic
    turtle = Graph().parse(data=client.get(path(STATEMENT), params={"format": "ttl"}).text, format="turtle")
    r = client.get(path(STATEMENT), headers={"Accept": media_type})
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{media_type}; charset=utf-8"
    g = Graph().parse(data=r.content, format=fmt)
    assert len(g) == len(turtle) > 40
    assert isomorphic(g, turtle)


def test_description_is_deduplicated(client):
    lines = [line for line in client.get(path(RUSSIA), params={"format": "nt"}).text.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)) > 50


def test_q_values_are_respected(client):
    r = client.get(path(STATEMENT), headers={"Accept": "text/turtle;q=0.5, application/ld+json"})
    assert r.headers["content-type"] == "application/ld+json; charset=utf-8"
    json.loads(r.text)
    r = client.get(path(STATEMENT), headers={"Accept": "text/html;q=0.1, application/rdf+xml;q=0.9, */*;q=0.2"})
    assert r.headers["content-type"] == "application/rdf+xml; charset=utf-8"
    r = client.get(path(STATEMENT), headers={"Accept": "text/*"})
    assert r.headers["content-type"] == "text/html; charset=utf-8"  # the first offered of the tie


@pytest.mark.parametrize("value,media_type", [("ttl", "text/turtle"), ("turtle", "text/turtle"),
                                              ("jsonld", "application/ld+json"), ("json-ld", "application/ld+json"),
                                              ("rdf", "application/rdf+xml"), ("xml", "application/rdf+xml"),
                                              ("nt", "application/n-triples"), ("html", "text/html")])
def test_format_parameter_overrides_accept(client, value, media_type):
    accept = "application/n-triples" if media_type == "text/html" else "text/html"
    r = client.get(path(STATEMENT), params={"format": value}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{media_type}; charset=utf-8"


def test_link_and_vary_headers(client, server):
    for fmt in ("html", "ttl"):
        r = client.get(path(RUSSIA), params={"format": fmt})
        assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]  # (CORS adds Origin)
        link = r.headers["link"]
        for key, media_type in [("html", "text/html"), ("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                ("rdf", "application/rdf+xml"), ("nt", "application/n-triples")]:
            assert f'<{local(RUSSIA, server)}?format={key}>; rel="alternate"; type="{media_type}"' in link


def test_not_acceptable(client):
    r = client.get(path(RUSSIA), headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    for media_type in ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"):
        assert media_type in r.text
    assert 'rel="alternate"' in r.headers["link"] and "Accept" in r.headers["vary"]
    assert client.get(path(RUSSIA), params={"format": "csv"}).status_code == 406


def test_unknown_identifier_is_404(client, server):
    r = client.get("/id/state/atlantis", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "is not known" in r.text and BASE + "id/state/atlantis" in r.text
    assert f'href="{server.url}/"' in r.text
    r = client.get("/id/state/atlantis", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["content-type"] == "text/plain; charset=utf-8"
    assert "not known" in r.text
    # characters that cannot be in an IRI never reach a query
    for bad in ("/id/x%3E%20%3Fp%20%3Fo%20%7D", "/id/a%20b", '/id/a"b', "/id/a%5Cb"):
        assert client.get(bad, headers={"Accept": "text/turtle"}).status_code == 404


def test_head_request(client):
    r = client.head(path(RUSSIA), headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert r.content == b""


# ---------------------------------------------------------------------------------------------
# The ontology
# ---------------------------------------------------------------------------------------------

def test_ontology_html_has_an_anchor_per_term(client, server):
    r = client.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    parsed = parse_html(r.text)
    assert {"MilitaryDeployment", "sendingState", "personnelCount", "ReportedBySource", "Statement"} <= parsed.ids
    card = r.text[r.text.index('<section class="term" id="MilitaryDeployment">'):]
    card = card[:card.index("</section>")]
    assert "Military deployment" in card and "The sending of military personnel" in card
    assert f'href="{server.url}/ontology#Fact"' in card  # super-class, linked on this server
    prop = r.text[r.text.index('<section class="term" id="sendingState">'):]
    prop = text_of(prop[:prop.index("</section>")])
    assert "Domain sc:MilitaryDeployment" in prop and "Range sc:State" in prop
    assert "Version IRI" in r.text and f'href="{server.url}/ontology/0.1.0"' in r.text


def test_ontology_as_rdf(client):
    r = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/turtle; charset=utf-8"
    g = Graph().parse(data=r.text, format="turtle")
    assert (URIRef(BASE + "ontology"), RDF.type, OWL.Ontology) in g
    assert (URIRef(SC + "MilitaryDeployment"), RDF.type, OWL.Class) in g
    assert len(g) > 1000
    for fmt, parser in (("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")):
        other = client.get("/ontology", params={"format": fmt})
        assert len(Graph().parse(data=other.content, format=parser)) == len(g)
    assert 'rel="alternate"' in r.headers["link"]


def test_ontology_version_iri(client):
    assert client.get("/ontology/0.1.0", headers={"Accept": "text/html"}).status_code == 200
    r = client.get("/ontology/0.1.0", headers={"Accept": "text/turtle"})
    assert (URIRef(BASE + "ontology"), OWL.versionIRI, URIRef(BASE + "ontology/0.1.0")) in Graph().parse(
        data=r.text, format="turtle")
    assert client.get("/ontology/9.9.9", headers={"Accept": "text/html"}).status_code == 404


# ---------------------------------------------------------------------------------------------
# Escaping, on a small store built for it
# ---------------------------------------------------------------------------------------------

NASTY = '<script>alert("x")</script> & <b>bold</b> \'quoted\''


@pytest.fixture(scope="module")
def nasty(tmp_path_factory):
    thing, span, article = BASE + "id/claim/nasty", BASE + "id/evidence/nasty/4-26", BASE + "id/article/nasty"
    text = "Yes <i>it</i> & that \"was\" <said> here. Next."
    quote = text[4:26]
    g = f"<{BASE}graph/article/nasty>"
    data = f"""
<{thing}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SC}Claim> {g} .
<{thing}> <http://www.w3.org/2000/01/rdf-schema#label> {json.dumps(NASTY)}@en {g} .
<{thing}> <{SC}note> {json.dumps(NASTY)}^^<http://example.org/dt?a=1&b=2> {g} .
<{thing}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)> {g} .
<{thing}> <{SC}hasEvidence> <{span}> {g} .
<{thing}> <{SC}epistemicStatus> <{SC}Alleged> {g} .
<{span}> <http://www.w3.org/ns/oa#hasSource> <{article}> {g} .
<{span}> <http://www.w3.org/ns/oa#hasSelector> <{span}#quote> {g} .
<{span}> <http://www.w3.org/ns/oa#hasSelector> <{span}#position> {g} .
<{span}#quote> <http://www.w3.org/ns/oa#exact> {json.dumps(quote)} {g} .
<{span}#position> <http://www.w3.org/ns/oa#start> "4"^^<http://www.w3.org/2001/XMLSchema#integer> {g} .
<{span}#position> <http://www.w3.org/ns/oa#end> "26"^^<http://www.w3.org/2001/XMLSchema#integer> {g} .
<{article}> <https://schema.org/text> {json.dumps(text)} {g} .
"""
    dist = tmp_path_factory.mktemp("nasty") / "dist"
    dist.mkdir()
    (dist / "statecraft.nq").write_text(data.strip() + "\n", encoding="utf-8")
    live = LiveServer(["--dist", str(dist), "--no-build", "--workers", "1"],
                      log=tmp_path_factory.mktemp("nasty-log") / "server.log")
    try:
        with httpx.Client(base_url=live.url, timeout=30) as c:
            yield c, thing
    finally:
        live.stop()


def test_every_literal_is_escaped(nasty):
    c, thing = nasty
    r = c.get(path(thing), headers={"Accept": "text/html"})
    assert r.status_code == 200
    page = r.text
    assert "<script" not in page and "<b>bold" not in page and "<i>it" not in page and "<said>" not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &#x27;quoted&#x27;"
    assert f"<h1>{escaped}</h1>" in page and f"<title>{escaped} — Statecraft</title>" in page
    assert "http://example.org/dt?a=1&amp;b=2" in page and "dt?a=1&b" not in page  # a datatype IRI, escaped
    # the quoted span, escaped, inside its <mark>
    assert "<mark>&lt;i&gt;it&lt;/i&gt; &amp; that &quot;was&quot;</mark> &lt;said&gt; here." in page
    # an IRI that is not http(s) is never a link
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    assert parse_html(page).scripts == 0


def test_query_failures_pass_through():
    """A refusal of the query workers (here: all busy) reaches the client with its status, in the
    representation asked for. The refusing engine stands in for a saturated worker pool."""
    import threading
    import time

    import uvicorn
    from fastapi import FastAPI

    from statecraft.pages import router
    from statecraft.settings import Settings
    from statecraft.workers import QueryFailed

    class Saturated:
        async def select(self, query):
            raise QueryFailed(503, "all query workers are busy")

        async def construct(self, query, media_type):
            raise QueryFailed(503, "all query workers are busy")

    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(build=False)
    app.state.queries = Saturated()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            r = c.get(path(RUSSIA), headers={"Accept": "text/turtle"})
            assert r.status_code == 503 and "busy" in r.text
            r = c.get("/ontology", headers={"Accept": "text/html"})
            assert r.status_code == 503 and "busy" in r.text and r.headers["content-type"].startswith("text/html")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_many_valued_property_is_shown_in_part_with_a_query_for_all(tmp_path):
    """In a large graph a state takes part in hundreds of facts: its page shows the first values of
    such a property, says how many there are, and links a query that returns them all."""
    import html
    import re
    from urllib.parse import parse_qs, urlparse
    from statecraft.generate import generate
    from statecraft.pages import VALUES_PER_PROPERTY
    corpus = tmp_path / "corpus"
    generate(corpus, 120, seed=5, say=lambda message: None)
    live = LiveServer(["--dist", str(corpus), "--no-build", "--workers", "2"], log=tmp_path / "server.log")
    try:
        page = httpx.get(live.url + "/id/state/north-korea", timeout=30).text
        notes = re.findall(r'<p class="muted capped">.*?the first (\d+) of (\d+) values are shown; '
                           r'<a href="([^"]+)">query all', page)
        assert notes, "no property was capped"
        shown, total, link = notes[0]
        assert int(shown) == VALUES_PER_PROPERTY and int(total) > VALUES_PER_PROPERTY
        query = parse_qs(urlparse(html.unescape(link)).query)["query"][0]
        rows = httpx.post(live.url + "/sparql", data={"query": query},
                          headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
        assert len(rows) == int(total)
    finally:
        live.stop()
