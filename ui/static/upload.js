// Bulk upload that never loses a file: files and whole folders (dropped or picked) go through the
// resumable upload API in chunks, each with its own SHA-256, a few files at a time, all of one sending in
// one batch. A chunk that fails is tried again with back-off; after a dropped connection the server is
// asked which chunks it already has, and only the missing ones are sent. Each file's folder path is sent as
// its original path (a label the ledger keeps; the server never uses it on disk). Zip archives are plain
// files here: the server expands them. Without script the form still posts to /api/documents.
"use strict";

// -- SHA-256, incremental ---------------------------------------------------------------------------------
// The API wants the whole file's SHA-256 before the first chunk, and crypto.subtle only hashes a buffer
// held whole in memory (a 4 GB disk image would not fit), so the whole-file hash is computed here, chunk by
// chunk. crypto.subtle, native and fast, hashes each chunk where the page is a secure context.
const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

class Sha256 {
  constructor() {
    this.state = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    this.block = new Uint8Array(64);
    this.filled = 0;
    this.length = 0;
    this.words = new Uint32Array(64);
  }

  update(bytes) {
    let at = 0;
    this.length += bytes.length;
    if (this.filled) {
      const take = Math.min(64 - this.filled, bytes.length);
      this.block.set(bytes.subarray(0, take), this.filled);
      this.filled += take;
      at = take;
      if (this.filled < 64) return this;
      this.compress(this.block, 0);
      this.filled = 0;
    }
    for (; at + 64 <= bytes.length; at += 64) this.compress(bytes, at);
    if (at < bytes.length) {
      this.block.set(bytes.subarray(at), 0);
      this.filled = bytes.length - at;
    }
    return this;
  }

  compress(bytes, offset) {
    const w = this.words;
    for (let t = 0; t < 16; t++) {
      const o = offset + t * 4;
      w[t] = (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const s = this.state;
    let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (let t = 0; t < 64; t++) {
      const e1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const choose = (e & f) ^ (~e & g);
      const t1 = (h + e1 + choose + SHA256_K[t] + w[t]) | 0;
      const a0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const majority = (a & b) ^ (a & c) ^ (b & c);
      h = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + a0 + majority) | 0;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
  }

  hex() {
    const bits = this.length * 8;
    const tail = new Uint8Array(this.filled < 56 ? 64 : 128);
    tail.set(this.block.subarray(0, this.filled));
    tail[this.filled] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(tail.length - 4, bits >>> 0);
    for (let at = 0; at < tail.length; at += 64) this.compress(tail, at);
    return [...this.state].map((word) => word.toString(16).padStart(8, "0")).join("");
  }
}

function toHex(buffer) {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function chunkDigest(bytes) {
  if (globalThis.crypto && crypto.subtle) return toHex(await crypto.subtle.digest("SHA-256", bytes));
  return new Sha256().update(bytes).hex();
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
    const whole = new Sha256();
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
