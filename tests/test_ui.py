"""The query UI at `/`, in a real browser (Debian's headless Chromium, driven by Playwright) against the
real server (`statecraft serve`, the session's `server` fixture): it works offline, runs the
competency questions, links the dataset's IRIs to this server, sorts and downloads results."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from statecraft.namespaces import PREFIXES
from statecraft.ui import HEADER_LINKS, STATIC_DIR, load_examples

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("STATECRAFT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUERY_FILES = sorted((ROOT / "docs" / "queries").glob("*.rq"))


# --- Without a browser ------------------------------------------------------------------------------

def test_every_competency_query_is_an_example_with_its_question_and_description():
    examples = load_examples()
    assert [e.number for e in examples] == list(range(1, 17))
    assert sorted(e.name + ".rq" for e in examples) == [p.name for p in QUERY_FILES]
    for example in examples:
        text = (ROOT / "docs" / "queries" / f"{example.name}.rq").read_text(encoding="utf-8")
        assert example.query == text
        assert text.splitlines()[0] == f"# Competency question {example.number}: {example.question}"
        second = text.splitlines()[1]
        if second.startswith("#"):
            assert example.description.startswith(second.lstrip("# ").strip())


def test_a_query_file_without_its_question_line_is_refused(tmp_path):
    (tmp_path / "cq99-broken.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Competency question N"):
        load_examples(tmp_path)


def test_the_page_lists_every_question_with_the_prefixes_and_a_strict_content_policy(server):
    answer = httpx.get(server.url + "/", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert "connect-src 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    for example in load_examples():
        assert html.escape(example.question) in page
    config = json.loads(re.search(r'<script id="statecraft-config" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    assert len(config["examples"]) == 16
    for _, href, _ in HEADER_LINKS:
        assert f'href="{href}"' in page
    # Nothing the page loads names another host.
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert not urlsplit(attribute).netloc, attribute


def test_the_endpoint_answers_a_browser_with_the_page(server):
    answer = httpx.get(server.url + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
                       timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert 'id="yasgui"' in answer.text


def test_static_assets_are_served_and_fetch_nothing_else(server):
    page = httpx.get(server.url + "/", timeout=30).text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert {urlsplit(a).path for a in assets} >= {"/static/vendor/yasgui/yasgui.min.js",
                                                  "/static/vendor/yasgui/yasgui.min.css",
                                                  "/static/app.js", "/static/app.css"}
    for asset in assets:
        answer = httpx.get(server.url + asset, timeout=30)
        assert answer.status_code == 200, asset
        assert answer.content == (STATIC_DIR / urlsplit(asset).path.removeprefix("/static/")).read_bytes()
    for css in ("vendor/yasgui/yasgui.min.css", "app.css"):
        text = (STATIC_DIR / css).read_text(encoding="utf-8")
        assert "@import" not in text and not re.search(r"url\(\s*['\"]?(https?:)?//", text), css
    assert (STATIC_DIR / "vendor" / "yasgui" / "LICENSE.txt").is_file()
    pinned = json.loads((ROOT / "ui" / "package.json").read_text())["dependencies"]["@zazuko/yasgui"]
    assert f"**{pinned}**" in (STATIC_DIR / "vendor" / "README.md").read_text(encoding="utf-8")


# --- In the browser ---------------------------------------------------------------------------------

@pytest.fixture
def browser_context(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"the UI test needs Debian's Chromium at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (or set STATECRAFT_CHROMIUM to a Chromium binary). "
                    "Never `playwright install`: the test drives the system's Chromium.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        pytest.fail("the UI test needs Playwright's Python package: pip install -e '.[test]' (or pip install playwright)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        try:
            yield context
        finally:
            context.close()


def test_the_ui_runs_a_competency_question_offline(server, browser_context):
    from playwright.sync_api import expect
    origin = server.url
    requested: list[str] = []
    refused: list[str] = []
    problems: list[str] = []

    def only_this_server(route):
        url = route.request.url
        if url.startswith(origin + "/"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    browser_context.route("**/*", only_this_server)
    browser_context.on("request", lambda request: requested.append(request.url))
    page = browser_context.new_page()
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("websocket", lambda socket: refused.append(socket.url))

    page.goto(origin + "/")
    page.wait_for_selector(".yasqe .CodeMirror")
    assert page.locator("button.example").count() == 16
    for label, href, _ in HEADER_LINKS:
        assert page.locator(f'header nav a[href="{href}"]').inner_text() == label

    # The default query (classes and how many things each has) runs from the editor's run button, and
    # its counts sort as numbers.
    page.locator(".yasqe:visible .yasqe_queryButton").click()
    overview = page.locator(".yasr:visible table.dataTable")
    overview.locator("tbody tr").first.wait_for()
    assert "sc:State" in overview.inner_text()
    things = overview.locator("thead th", has_text="things")
    things.click()
    expect(things).to_have_attribute("aria-sort", "ascending")
    counts = [int(cell.split('"')[1]) for cell in overview.locator("tbody tr td:nth-child(4)").all_inner_texts()]
    assert counts == sorted(counts) and counts[-1] > 10

    # Competency question 1: one click loads it into its own tab and runs it.
    page.click('button.example[data-example="cq01-states-and-wikidata"]')
    table = page.locator(".yasr:visible table.dataTable")
    table.locator("tbody tr").first.wait_for()
    editor = page.evaluate("statecraftUI.yasgui.getTab().getYasqe().getValue()")
    assert editor.startswith("# Competency question 1:")
    # … and the editor's own run button runs it again.
    page.evaluate("() => { window.answers = 0; statecraftUI.yasgui.on('queryResponse', () => window.answers++); }")
    page.locator(".yasqe:visible .yasqe_queryButton").click()
    page.wait_for_function("() => window.answers >= 1")
    table.locator("tbody tr").first.wait_for()

    assert "South Korea" in table.inner_text()
    assert table.locator("tbody tr").count() == 6
    link = table.locator('a[href="/id/state/south-korea"]')
    assert link.count() == 1 and link.inner_text() == "id:state/south-korea"
    assert table.locator('a[href="http://www.wikidata.org/entity/Q884"]').count() == 1  # others stay as they are
    target = page.request.get(origin + link.get_attribute("href"), headers={"Accept": "text/html"})
    assert target.status == 200 and "South Korea" in target.text()

    # Sort by label: ascending, then descending.
    header = table.locator("thead th", has_text="label")
    labels = lambda: [cell.strip().split('"')[1] for cell in table.locator("tbody tr td:nth-child(4)").all_inner_texts()]
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert labels() == sorted(labels()) and labels()[0] == "North Korea"
    page.wait_for_timeout(600)  # two quick clicks are a double click, which DataTables does not take as a sort
    header.click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert labels() == sorted(labels(), reverse=True) and labels()[0] == "United States"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui.png"))

    # Downloads: the same query again from /sparql as CSV and as JSON, and YASR's own (CSV) button.
    with page.expect_download() as csv_download:
        page.click('button.download[data-kind="primary"]')
    assert csv_download.value.suggested_filename == "cq01-states-and-wikidata.csv"
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert {row["label"] for row in rows} >= {"South Korea", "North Korea"} and len(rows) == 6
    with page.expect_download() as json_download:
        page.click('button.download[data-kind="secondary"]')
    assert json_download.value.suggested_filename == "cq01-states-and-wikidata.json"
    results = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert results["head"]["vars"] == ["article", "state", "label", "wikidata"]
    assert len(results["results"]["bindings"]) == 6
    with page.expect_download() as yasr_download:
        page.locator(".yasr:visible .yasr_downloadIcon").click()
    assert "South Korea" in Path(yasr_download.value.path()).read_text(encoding="utf-8")

    # Prefix completion offers the project's prefixes (sc: is the ontology, not schema.org) …
    page.locator(".tabsList .addTab").click()
    page.locator(".yasqe:visible .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("PREFIX s")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    assert f"sc: <{PREFIXES['sc']}>" in hints.all_inner_texts()
    page.keyboard.press("Escape")
    # … adds a declaration when a prefixed name is typed, and completes classes from this endpoint.
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT * WHERE { ?x a sc:Sta")
    assert page.evaluate("statecraftUI.yasgui.getTab().getYasqe().getValue()").startswith(
        f"PREFIX sc: <{PREFIXES['sc']}>")
    page.keyboard.press("Control+Space")
    hints.first.wait_for()
    assert "sc:State" in hints.all_inner_texts()

    assert not refused, f"the page tried to reach other hosts: {refused}"
    assert requested and all(url.startswith(origin + "/") or url.startswith(("blob:" + origin + "/", "data:"))
                             for url in requested), requested
    assert not problems, problems
