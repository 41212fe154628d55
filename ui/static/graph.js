// The graph view: draws what the graph API answers (only records the user may see), expands a node on
// click, lists the records behind an edge, filters by kind, pins nodes and lays out again.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("graph");
  if (!box || typeof cytoscape !== "function") return;
  const status = document.getElementById("graph-status");
  const panel = document.getElementById("graph-records");
  const reason = box.dataset.reason || "";
  // The CSP allows no inline style: the drawing area is sized from here.
  box.style.height = "70vh";
  box.style.border = "1px solid #ccc";

  const colours = { person: "#1f77b4", vehicle: "#2ca02c", phone: "#ff7f0e", account: "#9467bd", organisation: "#8c564b" };
  const cy = cytoscape({
    container: box,
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 10, "background-color": (n) => colours[n.data("kind")] || "#777", width: 18, height: 18 } },
      { selector: "node[?root]", style: { width: 28, height: 28, "border-width": 3, "border-color": "#000" } },
      { selector: "node[?expanded]", style: { "border-width": 2, "border-color": "#444" } },
      { selector: "node:locked", style: { shape: "diamond" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#d62728" } },
      { selector: "edge", style: { width: (e) => Math.min(1 + Math.log2(e.data("count") || 1), 8), "line-color": "#bbb", "curve-style": "haystack" } },
      { selector: "edge:selected", style: { "line-color": "#d62728" } },
      { selector: ".hidden", style: { display: "none" } },
    ],
  });

  box.cy = cy; // for the browser test and the console: the drawing, not its data, is what it reaches
  const hiddenKinds = new Set();
  function kindsParam() {
    const shown = [...document.querySelectorAll("#graph-kinds input")].filter((i) => i.checked).map((i) => i.value);
    return shown.length === 5 ? "" : shown.join(",");
  }

  async function fetchGraph(entity, hops) {
    const params = new URLSearchParams({ entity, hops: String(hops) });
    const kinds = kindsParam();
    if (kinds) params.set("kinds", kinds);
    const headers = reason ? { "X-Justification": reason } : {};
    const response = await fetch(`/api/graph/neighbours?${params}`, { headers, credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.detail || box.dataset.msgError);
    return answer;
  }

  function merge(graph, around) {
    const added = [];
    for (const node of graph.nodes) {
      if (cy.getElementById(node.id).nonempty()) {
        if (node.records !== null) cy.getElementById(node.id).data({ records: node.records, truncated: node.truncated });
        continue;
      }
      const position = around ? { x: around.x + (Math.random() - 0.5) * 200, y: around.y + (Math.random() - 0.5) * 200 } : undefined;
      added.push({ group: "nodes", data: { ...node, expanded: node.records !== null }, position });
    }
    for (const edge of graph.edges) {
      const id = [edge.source, edge.target].sort().join("|");
      if (cy.getElementById(id).nonempty()) continue;
      added.push({ group: "edges", data: { id, ...edge } });
    }
    cy.add(added);
    applyKinds();
    box.dataset.nodes = String(cy.nodes().length);
    return added.filter((e) => e.group === "nodes").length;
  }

  function applyKinds() {
    cy.nodes().forEach((n) => n.toggleClass("hidden", hiddenKinds.has(n.data("kind")) && !n.data("root")));
  }

  function layout() {
    cy.layout({ name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true }).run();
  }

  function say(text) {
    status.textContent = text;
  }

  function summary() {
    return `${cy.nodes().length} · ${cy.edges().length} — ${box.dataset.msgHint}`;
  }

  function showRecords(edge) {
    panel.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = `${cy.getElementById(edge.data("source")).data("label")} — ${cy.getElementById(edge.data("target")).data("label")} (${edge.data("count")})`;
    const list = document.createElement("ul");
    for (const record of edge.data("records")) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/records/${encodeURIComponent(record)}`;
      link.textContent = record;
      item.append(link);
      list.append(item);
    }
    panel.append(title, list);
  }

  function showNode(node) {
    panel.replaceChildren();
    const title = document.createElement("h2");
    const link = document.createElement("a");
    link.href = `/entities/${encodeURIComponent(node.id())}`;
    link.textContent = node.data("label");
    title.append(link);
    const about = document.createElement("p");
    about.textContent = `${node.data("kind")} · ${node.id()}${node.data("records") !== null && node.data("records") !== undefined ? ` · ${node.data("records")}` : ""}`;
    panel.append(title, about);
  }

  cy.on("tap", "node", async (event) => {
    const node = event.target;
    showNode(node);
    if (node.data("expanded")) return;
    say("…");
    try {
      const graph = await fetchGraph(node.id(), 1);
      const added = merge(graph, node.position());
      node.data("expanded", true);
      if (added) layout();
      say(`${box.dataset.msgExpanded}: ${node.data("label")} (+${added}) — ${summary()}`);
    } catch (error) {
      say(error.message);
    }
  });
  cy.on("tap", "edge", (event) => showRecords(event.target));

  document.getElementById("graph-pin").addEventListener("click", () => {
    cy.nodes(":selected").forEach((n) => (n.locked() ? n.unlock() : n.lock()));
  });
  document.getElementById("graph-layout").addEventListener("click", layout);
  for (const input of document.querySelectorAll("#graph-kinds input")) {
    input.addEventListener("change", () => {
      if (input.checked) hiddenKinds.delete(input.value);
      else hiddenKinds.add(input.value);
      applyKinds();
      // Exports follow the filter: what is exported is what is shown.
      for (const id of ["graph-export-csv", "graph-export-graphml"]) {
        const link = document.getElementById(id);
        const url = new URL(link.href, window.location.href);
        const kinds = kindsParam();
        if (kinds) url.searchParams.set("kinds", kinds);
        else url.searchParams.delete("kinds");
        link.href = url.pathname + url.search;
      }
    });
  }

  (async () => {
    try {
      const graph = await fetchGraph(box.dataset.entity, Number(box.dataset.hops || 1));
      merge(graph, null);
      const root = cy.getElementById(box.dataset.entity);
      root.data({ root: true, expanded: true });
      layout();
      say(summary());
      box.dataset.ready = "true";
    } catch (error) {
      say(error.message);
    }
  })();
});
