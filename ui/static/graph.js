// The graph view: draws what the graph API answers (only records the user may see), expands a node on
// click, lists the records behind an edge, filters by kind, pins nodes and lays out again; finds the links
// to a second entity, saves the drawing into a case and opens a saved one (drawn again by the API from the
// records the reader may see).
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
      { selector: "edge.path", style: { "line-color": "#d62728", width: 4 } },
      { selector: "node.path", style: { "border-width": 3, "border-color": "#d62728" } },
      { selector: ".hidden", style: { display: "none" } },
    ],
  });

  box.cy = cy; // for the browser test and the console: the drawing, not its data, is what it reaches
  const hiddenKinds = new Set();
  const expandedOrder = []; // the nodes the analyst expanded, in order: what a saved graph expands again
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  const headers = reason ? { "X-Justification": reason } : {};

  async function getJson(url) {
    const response = await fetch(url, { headers, credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.detail || box.dataset.msgError);
    return answer;
  }
  function kindsParam() {
    const shown = [...document.querySelectorAll("#graph-kinds input")].filter((i) => i.checked).map((i) => i.value);
    return shown.length === 5 ? "" : shown.join(",");
  }

  async function fetchGraph(entity, hops) {
    const params = new URLSearchParams({ entity, hops: String(hops) });
    const kinds = kindsParam();
    if (kinds) params.set("kinds", kinds);
    return getJson(`/api/graph/neighbours?${params}`);
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
    // The kind as the page names it: the label of its filter box, in the reader's language.
    const filter = document.querySelector(`#graph-kinds input[value="${node.data("kind")}"]`);
    const kind = filter ? filter.parentElement.textContent.trim() : node.data("kind");
    about.textContent = `${kind} · ${node.id()}${node.data("records") !== null && node.data("records") !== undefined ? ` · ${node.data("records")}` : ""}`;
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
      expandedOrder.push(node.id());
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

  function pointExports() {
    for (const id of ["graph-export-csv", "graph-export-graphml"]) {
      const link = document.getElementById(id);
      const url = new URL(link.href, window.location.href);
      url.searchParams.set("entity", box.dataset.entity);
      url.searchParams.set("hops", box.dataset.hops || "1");
      link.href = url.pathname + url.search;
    }
  }

  // A saved graph: the API answers the drawing for this reader, with the positions and pins of the
  // nodes drawn; the kind filter it was saved with is set again.
  async function openSaved(id) {
    const saved = await getJson(`/api/graphs/${encodeURIComponent(id)}`);
    box.dataset.entity = saved.root;
    box.dataset.hops = String(saved.hops);
    pointExports();
    if (saved.kinds.length) {
      for (const input of document.querySelectorAll("#graph-kinds input")) {
        input.checked = saved.kinds.includes(input.value);
        if (!input.checked) hiddenKinds.add(input.value);
      }
    }
    merge(saved.graph, null);
    for (const node of saved.graph.nodes) {
      if (node.records !== null && node.id !== saved.root) expandedOrder.push(node.id);
    }
    let placed = 0;
    for (const [entity, xy] of Object.entries(saved.positions)) {
      cy.getElementById(entity).position({ x: xy[0], y: xy[1] });
      placed += 1;
    }
    for (const entity of saved.pinned) cy.getElementById(entity).lock();
    return placed === cy.nodes().length;
  }

  (async () => {
    try {
      let placed = false;
      if (box.dataset.saved) placed = await openSaved(box.dataset.saved);
      else merge(await fetchGraph(box.dataset.entity, Number(box.dataset.hops || 1)), null);
      const root = cy.getElementById(box.dataset.entity);
      root.data({ root: true, expanded: true });
      if (placed) cy.fit(undefined, 30);
      else layout();
      say(summary());
      box.dataset.ready = "true";
    } catch (error) {
      say(error.message);
    }
  })();

  const pathForm = document.getElementById("graph-path");
  pathForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ from: box.dataset.entity, to: pathForm.elements.to.value.trim() });
    const kinds = kindsParam();
    if (kinds) params.set("kinds", kinds);
    say("…");
    try {
      const graph = await getJson(`/api/graph/paths?${params}`);
      cy.elements().removeClass("path");
      const added = merge(graph, cy.getElementById(box.dataset.entity).position());
      for (const path of graph.paths) {
        path.forEach((entity, i) => {
          cy.getElementById(entity).addClass("path");
          if (i) cy.getElementById([path[i - 1], entity].sort().join("|")).addClass("path");
        });
      }
      if (added) layout();
      box.dataset.paths = String(graph.paths.length);
      say(graph.paths.length ? `${box.dataset.msgPaths}: ${graph.paths.length} — ${summary()}` : box.dataset.msgNoPath);
    } catch (error) {
      say(error.message);
    }
  });

  const saveForm = document.getElementById("graph-save");
  if (saveForm) {
    saveForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const positions = {};
      cy.nodes().forEach((n) => {
        const p = n.position();
        positions[n.id()] = [Math.round(p.x), Math.round(p.y)];
      });
      const kinds = kindsParam();
      const body = {
        case: saveForm.elements.case.value,
        title: saveForm.elements.title.value,
        root: box.dataset.entity,
        hops: Number(box.dataset.hops || 1),
        kinds: kinds ? kinds.split(",") : [],
        expanded: expandedOrder,
        pinned: cy.nodes(":locked").map((n) => n.id()),
        positions,
      };
      say("…");
      try {
        const response = await fetch("/api/graphs", {
          method: "POST",
          credentials: "same-origin",
          headers: { ...headers, "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify(body),
        });
        const answer = await response.json();
        if (!response.ok) throw new Error(typeof answer.detail === "string" ? answer.detail : box.dataset.msgError);
        status.replaceChildren(`${box.dataset.msgSaved} ${answer.case}: `);
        const link = document.createElement("a");
        link.href = answer.url;
        link.textContent = body.title;
        status.append(link);
        box.dataset.savedAs = String(answer.id);
      } catch (error) {
        say(error.message);
      }
    });
  }
});
