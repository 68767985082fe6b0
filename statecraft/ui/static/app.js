/* Statecraft query UI: YASGUI on this server's /sparql, with the project's prefixes, local-only
 * autocompletion, the competency questions as examples, IRIs of the dataset linked to this server's
 * pages, and downloads of the results in the endpoint's own formats. Nothing here talks to another host. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("statecraft-config").textContent);
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const examples = new Map(config.examples.map((example) => [example.name, example]));
  const FORM = "application/x-www-form-urlencoded";

  /* An IRI of the dataset (under the base IRI) becomes a link to this server; any other stays as it is. */
  function localHref(iri) {
    if (typeof iri === "string" && iri.startsWith(config.baseIri)) {
      return config.root + "/" + iri.slice(config.baseIri.length);
    }
    return iri;
  }

  /* --- Autocompletion: the project's prefixes, and the ontology's terms from this endpoint. -------- */
  // The bundled list maps sc: to schema.org and LOV is on another host: neither is used.
  const Yasqe = Yasgui.Yasqe;
  const prefixLines = Object.keys(config.prefixes).sort().map((p) => `${p}: <${config.prefixes[p]}>`);
  Yasqe.forkAutocompleter("prefixes", { name: "prefixes", get: () => Promise.resolve(prefixLines.slice()) });

  const TERMS_QUERY = `PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?term ?kind WHERE {
  { VALUES ?type { owl:Class rdfs:Class } ?term a ?type . BIND("class" AS ?kind) }
  UNION
  { VALUES ?type { owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty rdf:Property }
    ?term a ?type . BIND("property" AS ?kind) }
  FILTER(isIRI(?term))
}`;
  let termsPromise = null;
  function ontologyTerms() {
    if (!termsPromise) {
      termsPromise = fetch(endpoint, {
        method: "POST",
        headers: { Accept: "application/sparql-results+json", "Content-Type": FORM },
        body: new URLSearchParams({ query: TERMS_QUERY }).toString(),
      })
        .then((response) => (response.ok ? response.json() : Promise.reject(new Error(response.statusText))))
        .then((json) => {
          const terms = { class: [], property: [] };
          for (const row of json.results.bindings) terms[row.kind.value].push(row.term.value);
          terms.class.sort();
          terms.property.sort();
          return terms;
        })
        .catch((error) => {
          termsPromise = null; // try again at the next completion
          console.warn("Statecraft: could not load the ontology's terms for autocompletion", error);
          return { class: [], property: [] };
        });
    }
    return termsPromise;
  }
  for (const kind of ["class", "property"]) {
    Yasqe.forkAutocompleter(kind, { name: kind, bulk: true, get: () => ontologyTerms().then((t) => t[kind]) });
  }

  /* --- Results table: dataset IRIs link to this server's pages (/id/…, /ontology#…). -------------- */
  const Table = Yasgui.Yasr.plugins.table;
  const tableLink = Table.prototype.getUriLinkFromBinding;
  Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
    const markup = tableLink.call(this, binding, prefixes);
    if (binding.value === localHref(binding.value)) return markup;
    const template = document.createElement("template");
    template.innerHTML = markup;
    for (const anchor of template.content.querySelectorAll("a[href]")) {
      anchor.setAttribute("href", localHref(anchor.getAttribute("href")));
      anchor.classList.add("local-iri");
    }
    return template.innerHTML;
  };

  /* Numbers sort as numbers: YASR hands DataTables the lexical form, so "10" would come before "9". */
  const NUMERIC = /^http:\/\/www\.w3\.org\/2001\/XMLSchema#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|nonPositiveInteger|negativeInteger|positiveInteger|unsigned(Long|Int|Short|Byte))$/;
  function sortValue(cell) {
    if (!cell) return "";
    if (cell.type !== "uri" && NUMERIC.test(cell.datatype || "") && !Number.isNaN(Number(cell.value))) {
      return Number(cell.value);
    }
    return cell.value;
  }
  const tableColumns = Table.prototype.getColumns;
  Table.prototype.getColumns = function () {
    return tableColumns.call(this).map((column, index) => {
      if (index === 0 || typeof column.render !== "function") return column;
      const render = column.render;
      return {
        ...column,
        render: (cell, kind, row, meta) => (kind === "sort" || kind === "type" ? sortValue(cell) : render(cell, kind, row, meta)),
      };
    });
  };

  /* --- YASGUI itself. ---------------------------------------------------------------------------- */
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    persistenceId: "statecraft",
    tabName: "Query",
    copyEndpointOnNewTab: false,
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    yasqe: { value: config.defaultQuery, resizeable: true, editorHeight: "300px" },
    yasr: { prefixes: config.prefixes, defaultPlugin: "table" },
  });
  // Tabs kept in the browser from an earlier visit still query this server.
  for (const id of yasgui.persistentConfig.getTabs()) {
    const tab = yasgui.getTab(id);
    if (tab && tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
  }

  /* --- Examples: one click loads a competency question into its own tab and runs it. ------------- */
  function tabName(example) {
    return `CQ${example.number}`;
  }
  function openExample(example) {
    const id = yasgui.persistentConfig.getTabs().find((t) => yasgui.persistentConfig.getTab(t).name === tabName(example));
    if (id) {
      yasgui.selectTabId(id);
    } else {
      yasgui.addTab(true, { name: tabName(example), requestConfig: { endpoint: endpoint } });
    }
    const tab = yasgui.getTab();
    tab.setQuery(example.query);
    markActive(example.name);
    return tab.query().catch(() => {}); // errors are shown by YASR
  }
  function markActive(name) {
    for (const button of document.querySelectorAll("button.example")) {
      button.classList.toggle("active", button.dataset.example === name);
      button.setAttribute("aria-pressed", button.dataset.example === name ? "true" : "false");
    }
  }
  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => openExample(examples.get(button.dataset.example)));
  }
  function syncActive() {
    const tab = yasgui.getTab();
    const example = tab && config.examples.find((e) => tabName(e) === tab.getName());
    markActive(example ? example.name : null);
    updateDownloadButtons();
  }
  yasgui.on("tabSelect", () => setTimeout(syncActive, 0));

  /* --- Downloads: the same query, asked again of /sparql in the format wanted. ------------------- */
  const FORMATS = {
    results: {
      primary: { label: "CSV", accept: "text/csv", extension: "csv" },
      secondary: { label: "JSON", accept: "application/sparql-results+json", extension: "json" },
    },
    graph: {
      primary: { label: "Turtle", accept: "text/turtle", extension: "ttl" },
      secondary: { label: "JSON-LD", accept: "application/ld+json", extension: "jsonld" },
    },
  };
  const status = document.querySelector(".toolbar .status");
  function currentFormats() {
    const yasqe = yasgui.getTab() && yasgui.getTab().getYasqe();
    const type = yasqe ? yasqe.getQueryType() : "SELECT";
    return type === "CONSTRUCT" || type === "DESCRIBE" ? FORMATS.graph : FORMATS.results;
  }
  function updateDownloadButtons() {
    const formats = currentFormats();
    for (const button of document.querySelectorAll("button.download")) {
      const format = formats[button.dataset.kind];
      button.textContent = format.label;
      button.title = `Run the query again and save its results as ${format.label} (${format.accept})`;
    }
  }
  function fileStem() {
    const tab = yasgui.getTab();
    const example = tab && config.examples.find((e) => tabName(e) === tab.getName());
    if (example) return example.name;
    const name = (tab && tab.getName()) || "query";
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "query";
  }
  async function download(kind) {
    const tab = yasgui.getTab();
    if (!tab) return;
    const format = currentFormats()[kind];
    const query = tab.getYasqe().getValue();
    status.textContent = `Fetching ${format.label}…`;
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { Accept: format.accept, "Content-Type": FORM },
        body: new URLSearchParams({ query: query }).toString(),
      });
      if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim() || response.statusText}`);
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = `${fileStem()}.${format.extension}`;
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      status.textContent = `Saved ${anchor.download}`;
    } catch (error) {
      status.textContent = `Download failed: ${error.message}`;
    }
  }
  for (const button of document.querySelectorAll("button.download")) {
    button.addEventListener("click", () => download(button.dataset.kind));
  }
  yasgui.on("tabChange", () => updateDownloadButtons());
  syncActive();

  window.statecraftUI = { yasgui: yasgui, openExample: (name) => openExample(examples.get(name)), localHref: localHref };
})();
