// Bulk upload that never loses a file: files and whole folders (dropped or picked) go through the
// resumable upload API in chunks, each with its own SHA-256, a few files at a time, all of one sending in
// one batch. A chunk that fails is tried again with back-off; after a dropped connection the server is
// asked which chunks it already has, and only the missing ones are sent. Each file's folder path is sent as
// its original path (a label the ledger keeps; the server never uses it on disk). Zip archives are plain
// files here: the server expands them. Without script the form still posts to /api/documents.
"use strict";

// -- SHA-256 --------------------------------------------------------------------------------------------
// The API wants the whole file's SHA-256 before the first chunk, and crypto.subtle only hashes a buffer
// held whole in memory (a 4 GB disk image would not fit), so the whole-file hash is incremental, by
// js-sha256 (vendored from the npm registry, MIT). crypto.subtle, native and fast, hashes each chunk where
// the page is a secure context.
function toHex(buffer) {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function chunkDigest(bytes) {
  if (globalThis.crypto && crypto.subtle) return toHex(await crypto.subtle.digest("SHA-256", bytes));
  return sha256.create().update(bytes).hex();
}

// -- The upload page ------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const zone = document.getElementById("upload-drop");
  const pickers = [...form.querySelectorAll("input[type=file]")];
  const submit = form.querySelector("button[type=submit]");
  const notice = document.getElementById("upload-status");
  const panel = document.getElementById("upload-progress");
  const list = document.getElementById("upload-list");
  const overall = document.getElementById("upload-overall");
  const overallBar = document.getElementById("upload-overall-bar");
  const overallBytes = document.getElementById("upload-overall-bytes");
  const after = document.getElementById("upload-after");
  const retryFailed = document.getElementById("upload-retry");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  const text = form.dataset;
  const RETRIES = 3;
  const BACKOFF_MS = 1000;
  const MIN_CHUNK = 64 * 1024; // what the API accepts
  const MAX_CHUNK = 64 * 1024 * 1024;

  const items = [];
  const byKey = new Map(); // each chosen file once, however often it is picked or dropped
  const batches = new Set();
  let running = false;
  let serial = 0;

  const language = document.documentElement.lang || "nl";
  const megabytes = new Intl.NumberFormat(language, {
    style: "unit", unit: "megabyte", unitDisplay: "short", maximumFractionDigits: 1,
  });
  const kilobytes = new Intl.NumberFormat(language, {
    style: "unit", unit: "kilobyte", unitDisplay: "short", maximumFractionDigits: 0,
  });
  const bytesText = (n) => (n >= 1e6 ? megabytes.format(n / 1e6) : kilobytes.format(Math.ceil(n / 1e3)));
  const fill = (message, values) => message.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // A batch id of our own, so that files sent side by side land in the same batch.
  function newBatchId() {
    return toHex(crypto.getRandomValues(new Uint8Array(16)));
  }

  // -- choosing files -----------------------------------------------------------------------------------
  function add(found) {
    for (const { file, path, error } of found) {
      const key = file ? `${path}\u0000${file.size}\u0000${file.lastModified}` : `${path}\u0000unreadable`;
      const known = byKey.get(key);
      if (known && known.state !== "failed") continue;
      const item = { key, file, path, size: file ? file.size : 0, state: "waiting", sent: 0, retries: 0 };
      items.push(item);
      byKey.set(key, item);
      render(item);
      if (error) fail(item, error);
    }
    panel.hidden = items.length === 0;
    summarise();
  }

  for (const picker of pickers) {
    picker.addEventListener("change", () => {
      // A folder picker gives each file its path inside the chosen folder; a files picker, only the name.
      add(Array.from(picker.files).map((file) => ({ file, path: file.webkitRelativePath || file.name })));
      picker.value = ""; // the list below holds the choice; the same file may be picked again later
    });
  }

  async function walk(entry, found) {
    const path = entry.fullPath.replace(/^\/+/, "");
    if (entry.isFile) {
      try {
        found.push({ file: await new Promise((ok, ko) => entry.file(ok, ko)), path });
      } catch (error) {
        found.push({ file: null, path, error: error.message || text.msgUnreadable });
      }
      return;
    }
    if (!entry.isDirectory) return;
    const reader = entry.createReader();
    // readEntries answers a folder in portions (about a hundred entries each): ask until it answers none.
    for (;;) {
      let portion;
      try {
        portion = await new Promise((ok, ko) => reader.readEntries(ok, ko));
      } catch (error) {
        found.push({ file: null, path: `${path}/`, error: error.message || text.msgUnreadable });
        return;
      }
      if (!portion.length) return;
      for (const child of portion) await walk(child, found);
    }
  }

  if (zone) {
    zone.classList.add("drop-zone-active");
    for (const hint of zone.querySelectorAll("[data-drop-hint]")) hint.hidden = false;
    const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
    // A file let go beside the zone would make the browser open it, and leave this page (and its uploads).
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => { if (hasFiles(event)) event.preventDefault(); });
    }
    zone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("drop-zone-over");
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("drop-zone-over");
    });
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      event.stopPropagation();
      zone.classList.remove("drop-zone-over");
      // The drop's items can be read only now, during the event: take each one's entry and file at once.
      const dropped = Array.from(event.dataTransfer.items)
        .filter((item) => item.kind === "file")
        .map((item) => ({ entry: item.webkitGetAsEntry ? item.webkitGetAsEntry() : null, file: item.getAsFile() }));
      if (!dropped.length) {
        dropped.push(...Array.from(event.dataTransfer.files, (file) => ({ entry: null, file })));
      }
      const found = [];
      for (const { entry, file } of dropped) {
        if (entry && entry.isDirectory) await walk(entry, found);
        else if (file) found.push({ file, path: file.name });
        else if (entry) await walk(entry, found);
      }
      add(found);
    });
  }

  // -- the list -------------------------------------------------------------------------------------------
  function render(item) {
    serial += 1;
    const row = document.createElement("li");
    row.className = "upload-item";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.id = `upload-item-${serial}`;
    name.textContent = item.path;
    const bar = document.createElement("progress");
    bar.max = Math.max(item.size, 1);
    bar.value = 0;
    bar.setAttribute("aria-labelledby", name.id);
    const bytes = document.createElement("span");
    bytes.className = "upload-bytes";
    const state = document.createElement("span");
    state.className = "upload-state";
    row.append(name, bar, bytes, state);
    list.append(row);
    item.view = { row, bar, bytes, state };
    show(item);
  }

  const STATES = {
    waiting: () => text.msgWaiting,
    hashing: (item) => `${text.msgHashing} ${item.hashed || 0} %`,
    sending: () => text.msgSending,
    retrying: (item) => fill(text.msgRetrying, { attempt: item.attempt, reason: item.reason }),
    completing: () => text.msgSending,
    done: () => text.msgDone,
    failed: (item) => fill(text.msgFailed, { reason: item.reason }),
  };

  function show(item) {
    const { row, bar, bytes, state } = item.view;
    row.dataset.state = item.state;
    row.dataset.retries = String(item.retries);
    bar.value = item.state === "done" ? bar.max : item.sent;
    bytes.textContent = `${bytesText(item.sent)} / ${bytesText(item.size)}`;
    state.textContent = STATES[item.state](item);
  }

  function setState(item, state, extra = {}) {
    Object.assign(item, { state }, extra);
    show(item);
    summariseSoon();
  }

  function fail(item, reason) {
    setState(item, "failed", { reason });
  }

  // The overall line counts every file: redrawn a few times a second, not on each of thousands of changes.
  let summaryTimer = null;
  function summariseSoon() {
    if (summaryTimer === null) summaryTimer = setTimeout(summarise, 200);
  }

  function summarise() {
    clearTimeout(summaryTimer);
    summaryTimer = null;
    const total = items.length;
    const done = items.filter((item) => item.state === "done").length;
    const failed = items.filter((item) => item.state === "failed").length;
    const size = items.reduce((sum, item) => sum + item.size, 0);
    const sent = items.reduce((sum, item) => sum + (item.state === "done" ? item.size : item.sent), 0);
    // The live line tells files, not bytes: a screen reader announces it only when a file is through.
    let line = fill(text.msgOverall, { done, total });
    if (failed) line += ` ${fill(text.msgFailedCount, { failed })}`;
    if (overall.textContent !== line) overall.textContent = line;
    overallBytes.textContent = `${bytesText(sent)} / ${bytesText(size)}`;
    overallBar.max = Math.max(size, 1);
    overallBar.value = sent;
    retryFailed.hidden = running || failed === 0;
  }

  // -- talking to the API ---------------------------------------------------------------------------------
  class UploadError extends Error {
    constructor(message, { transient = false, network = false, status = 0 } = {}) {
      super(message);
      Object.assign(this, { transient, network, status });
    }
  }

  async function call(method, url, { body, headers = {} } = {}) {
    let response;
    try {
      response = await fetch(url, {
        method, body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, ...headers },
      });
    } catch {
      throw new UploadError(text.msgNetwork, { transient: true, network: true });
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      // not JSON (a proxy's error page): the status says enough
    }
    if (response.ok) return answer;
    let detail = answer && answer.detail;
    if (Array.isArray(detail)) detail = detail.map((problem) => problem.msg).join("; ");
    // A busy or failing server may do better in a moment; a refusal (signed out, not your case) will not.
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new UploadError(detail || `HTTP ${response.status}`, { transient, status: response.status });
  }

  async function withRetries(item, attempt) {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!error.transient || tries >= RETRIES) throw error;
        await backOff(item, tries + 1, error);
      }
    }
  }

  async function backOff(item, attempt, error) {
    item.retries += 1;
    setState(item, "retrying", { attempt, reason: error.message });
    await sleep(BACKOFF_MS * 2 ** (attempt - 1) * (1 + Math.random() / 4));
  }

  function chunkOf(item, index) {
    const start = index * item.chunkSize;
    return item.file.slice(start, Math.min(start + item.chunkSize, item.size));
  }

  function countSent(item, received) {
    const size = (index) => Math.max(0, Math.min(item.chunkSize, item.size - index * item.chunkSize));
    item.sent = received.reduce((sum, index) => sum + size(index), 0);
  }

  // The whole file's hash and each chunk's, read once before sending: what is sent is what was hashed.
  async function hash(item) {
    const chunks = Math.max(1, Math.ceil(item.size / item.chunkSize));
    const whole = sha256.create();
    const digests = [];
    setState(item, "hashing", { hashed: 0 });
    for (let index = 0; index < chunks; index++) {
      let bytes;
      try {
        bytes = new Uint8Array(await chunkOf(item, index).arrayBuffer());
      } catch (error) {
        throw new UploadError(error.message || text.msgUnreadable);
      }
      whole.update(bytes);
      digests.push(await chunkDigest(bytes));
      setState(item, "hashing", { hashed: Math.floor(((index + 1) * 100) / chunks) });
    }
    item.sha256 = whole.hex();
    item.chunkDigests = digests;
  }

  async function sendChunks(item, missing) {
    let pending = [...missing];
    let tries = 0;
    while (pending.length) {
      const index = pending[0];
      try {
        const session = await call("PUT", `/api/uploads/${item.session}/chunks/${index}`, {
          body: chunkOf(item, index),
          headers: { "Content-Type": "application/octet-stream", "X-Chunk-SHA256": item.chunkDigests[index] },
        });
        pending.shift();
        tries = 0;
        countSent(item, session.received);
        setState(item, "sending");
      } catch (error) {
        // A damaged chunk (422) is read and sent again, like one lost on the way.
        const again = error.transient || error.status === 422;
        if (!again || tries >= RETRIES) throw error;
        tries += 1;
        await backOff(item, tries, error);
        if (error.network) {
          // The chunk may have arrived before the line dropped: ask which are there, send only the rest.
          try {
            const session = await call("GET", `/api/uploads/${item.session}`);
            pending = session.missing;
            countSent(item, session.received);
          } catch (lookup) {
            if (!lookup.transient) throw lookup;
          }
        }
        setState(item, "sending");
      }
    }
  }

  // After a lost answer to "complete", the file may be in although the session is gone: the batch says.
  async function alreadyIn(item) {
    try {
      const batch = await call("GET", `/api/batches/${encodeURIComponent(item.batch)}`);
      return batch.items.some((row) => row.sha256 === item.sha256 && row.file === item.path);
    } catch {
      return false;
    }
  }

  async function send(item) {
    try {
      if (!item.file) throw new UploadError(text.msgUnreadable);
      if (!item.sha256) await hash(item);
      let missing;
      if (item.session) {
        // Tried before: resume where it stopped, unless the server no longer knows the session.
        try {
          const session = await withRetries(item, () => call("GET", `/api/uploads/${item.session}`));
          missing = session.missing;
          countSent(item, session.received);
        } catch (error) {
          if (error.status !== 404) throw error;
          item.session = null;
          item.sent = 0;
        }
      }
      if (!item.session) {
        setState(item, "sending");
        const session = await withRetries(item, () => call("POST", "/api/uploads", {
          body: JSON.stringify({
            file_name: item.file.name,
            path: item.path,
            size: item.size,
            sha256: item.sha256,
            chunk_size: item.chunkSize,
            batch: item.batch,
            case: item.case || null,
            evidence: item.evidence || null,
          }),
          headers: { "Content-Type": "application/json" },
        }));
        item.session = session.session;
        missing = session.missing;
      }
      for (let round = 0; ; round++) {
        setState(item, "sending");
        await sendChunks(item, missing);
        setState(item, "completing");
        try {
          await withRetries(item, () => call("POST", `/api/uploads/${item.session}/complete`));
          break;
        } catch (error) {
          if (error.status === 404 && (await alreadyIn(item))) break;
          if (error.status !== 409 || round >= RETRIES) throw error;
          // Chunks missing after all (a chunk lost on the server's side): ask which, send them.
          missing = (await withRetries(item, () => call("GET", `/api/uploads/${item.session}`))).missing;
        }
      }
      batches.add(item.batch);
      item.sent = item.size;
      setState(item, "done");
    } catch (error) {
      fail(item, error.message);
    }
  }

  async function run(chosen) {
    running = true;
    submit.disabled = true;
    retryFailed.hidden = true;
    after.replaceChildren();
    notice.textContent = text.msgKeepOpen;
    const parallel = Math.max(1, Math.min(3, Number(text.parallel) || 3));
    let next = 0;
    const worker = async () => {
      while (next < chosen.length) await send(chosen[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(parallel, chosen.length) }, worker));
    running = false;
    submit.disabled = false;
    const failed = items.filter((item) => item.state === "failed").length;
    notice.textContent = failed ? fill(text.msgSomeFailed, { failed }) : text.msgAllSent;
    for (const batch of batches) {
      const link = document.createElement("a");
      link.href = `/batches/${encodeURIComponent(batch)}`;
      link.textContent = text.msgFollow;
      const line = document.createElement("p");
      line.append(link);
      after.append(line);
    }
    summarise();
  }

  window.addEventListener("beforeunload", (event) => {
    if (!running) return;
    event.preventDefault(); // the browser asks before the page, and the uploads in it, are left
    event.returnValue = "";
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (running) return;
    const chosen = items.filter((item) => item.state === "waiting");
    if (!chosen.length) {
      notice.textContent = text.msgNothing;
      return;
    }
    // Every file chosen for this sending, in one batch, with the case and exhibit number as they are now.
    const batch = newBatchId();
    const requested = Number(text.chunkSize) || 8 * 1024 * 1024;
    const chunkSize = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, requested));
    const fields = new FormData(form);
    for (const item of chosen) {
      Object.assign(item, {
        batch, chunkSize, case: (fields.get("case") || "").trim(), evidence: (fields.get("evidence") || "").trim(),
      });
    }
    run(chosen);
  });

  retryFailed.addEventListener("click", () => {
    if (running) return;
    // The same batch, and where a session was opened, the chunks already in are not sent again.
    const chosen = items.filter((item) => item.state === "failed" && item.file && item.batch);
    const fields = new FormData(form);
    for (const item of chosen) {
      // Not yet opened on the server: the case and exhibit number may have been corrected meanwhile.
      if (!item.session) {
        Object.assign(item, { case: (fields.get("case") || "").trim(), evidence: (fields.get("evidence") || "").trim() });
      }
      setState(item, "waiting", { reason: "" });
    }
    if (chosen.length) run(chosen);
  });
});
