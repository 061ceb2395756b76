// labkit view: hash routes #/ (runs), #/run/<path>, #/item/<path>/<index>, #/compare/<a>/<b>.
"use strict";
const main = document.getElementById("main");
let timer = null;

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function num(v) { return v === null || v === undefined ? "" : (typeof v === "number" ? Number(v.toPrecision(4)) : v); }
async function api(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
function route() {
  if (timer) { clearTimeout(timer); timer = null; }
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const go = {run: showRun, item: showItem, compare: showCompare}[parts[0]] || showRuns;
  go(...parts.slice(1)).catch(e => { main.innerHTML = `<p class="problems" id="error">${esc(e.message)}</p>`; });
}
window.addEventListener("hashchange", route);
window.addEventListener("load", route);
const link = (route, ...args) => "#/" + [route, ...args.map(encodeURIComponent)].join("/");

async function showRuns() {
  const data = await api("/api/runs");
  document.getElementById("root").textContent = data.root;
  const systems = [...new Set(data.runs.map(r => r.system))];
  let html = `<p>${data.runs.length} runs. Tick two to compare them: <button id="compare">compare</button></p>`;
  for (const s of systems) {
    html += `<h2>${esc(s)}</h2><table class="runs"><tr><th></th><th>run</th><th>date</th><th>status</th><th>items</th>` +
      `<th>failed</th><th>flagged</th><th>metrics</th></tr>`;
    for (const r of data.runs.filter(r => r.system === s)) {
      const m = Object.entries(r.metrics).slice(0, 4).map(([k, v]) => `${esc(k)} ${num(v)}`).join(", ");
      html += `<tr data-path="${esc(r.path)}"><td><input type="checkbox" value="${esc(r.path)}"></td>` +
        `<td><a class="run-link" href="${link("run", r.path)}">${esc(r.name)}</a></td><td>${esc(r.date)}</td>` +
        `<td class="status-${r.status}">${r.status}</td><td>${r.items}</td><td>${r.failed}</td><td>${r.flagged}</td>` +
        `<td>${m}${r.problems.length ? ` <span class="problems">${esc(r.problems[0])}</span>` : ""}</td></tr>`;
    }
    html += "</table>";
  }
  main.innerHTML = html;
  document.getElementById("compare").onclick = () => {
    const picked = [...document.querySelectorAll("input[type=checkbox]:checked")].map(c => c.value);
    if (picked.length === 2) location.hash = link("compare", picked[0], picked[1]);
  };
}

const state = {offset: 0, limit: 50, status: "all", q: "", metric: "", low: "", high: ""};

async function showRun(path) {
  const run = await api(`/api/run?path=${encodeURIComponent(path)}`);
  const metricRows = Object.entries(run.metrics).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${num(v)}</td></tr>`).join("");
  main.innerHTML = `<h1>${esc(run.system)} / ${esc(run.name)}</h1>
    <p><span id="run-status" class="status-${run.status}">${run.status}</span> · <span id="run-counts">${run.items} items,
    ${run.failed} failed, ${run.flagged} flagged</span></p>
    ${run.problems.length ? `<ul class="problems" id="problems">${run.problems.map(p => `<li>${esc(p)}</li>`).join("")}</ul>` : ""}
    <h2>Items</h2>
    <div class="filters">
      <input id="q" placeholder="search" value="${esc(state.q)}">
      <select id="status">${["all", "ok", "failed", "flagged"].map(s => `<option ${s === state.status ? "selected" : ""}>${s}</option>`).join("")}</select>
      <select id="metric"><option value="">metric range...</option>${run.numeric_fields.map(f => `<option ${f === state.metric ? "selected" : ""}>${esc(f)}</option>`).join("")}</select>
      <input id="low" size="6" placeholder="min" value="${esc(state.low)}"><input id="high" size="6" placeholder="max" value="${esc(state.high)}">
      <button id="apply">filter</button>
      <button id="prev">&lt;</button><span id="page"></span><button id="next">&gt;</button>
    </div>
    <table id="items"></table>
    <h2>Metrics</h2><table id="metrics">${metricRows || "<tr><td>none yet</td></tr>"}</table>
    <h2>Report</h2><div class="report" id="report">${run.report || "<p>no report.md yet</p>"}</div>
    <h2>Config</h2><pre id="config">${esc(run.config)}</pre>`;
  const read = () => Object.assign(state, {q: q.value, status: status.value, metric: metric.value, low: low.value, high: high.value});
  const q = document.getElementById("q"), status = document.getElementById("status"), metric = document.getElementById("metric");
  const low = document.getElementById("low"), high = document.getElementById("high");
  document.getElementById("apply").onclick = () => { read(); state.offset = 0; loadItems(path); };
  q.onkeydown = e => { if (e.key === "Enter") { read(); state.offset = 0; loadItems(path); } };
  document.getElementById("prev").onclick = () => { state.offset = Math.max(0, state.offset - state.limit); loadItems(path); };
  document.getElementById("next").onclick = () => { state.offset += state.limit; loadItems(path); };
  await loadItems(path);
  if (run.status !== "finished") watch(path, run.size);
}

async function loadItems(path) {
  const p = new URLSearchParams({path, offset: state.offset, limit: state.limit, status: state.status, q: state.q});
  if (state.metric) { p.set("metric", state.metric); if (state.low !== "") p.set("low", state.low); if (state.high !== "") p.set("high", state.high); }
  const page = await api(`/api/items?${p}`);
  if (state.offset >= page.total && page.total > 0) { state.offset = Math.max(0, page.total - state.limit); return loadItems(path); }
  const rows = page.rows.map(r => `<tr class="${r.ok === false ? "failed" : (r.flagged ? "flagged" : "")}">` +
    `<td><a class="item-link" href="${link("item", path, r.index)}">${r.index + 1}</a></td><td>${esc(r.key)}</td>` +
    `<td>${r.ok === true ? "ok" : (r.ok === false ? "failed" : "?")}</td>` +
    (state.metric ? `<td>${num(r.metric)}</td>` : "") + `<td>${esc(r.summary)}</td></tr>`).join("");
  document.getElementById("items").innerHTML = `<tr><th>#</th><th>key</th><th>status</th>${state.metric ? `<th>${esc(state.metric)}</th>` : ""}` +
    `<th>summary</th></tr>${rows}`;
  document.getElementById("page").textContent = ` ${page.total ? state.offset + 1 : 0}-${state.offset + page.rows.length} of ${page.total} `;
}

function watch(path, size) {  // a run in progress: follow results.jsonl as it grows
  timer = setTimeout(async () => {
    try {
      const run = await api(`/api/run?path=${encodeURIComponent(path)}`);
      if (run.size !== size) {
        document.getElementById("run-counts").textContent = `${run.items} items, ${run.failed} failed, ${run.flagged} flagged`;
        document.getElementById("run-status").textContent = run.status;
        await loadItems(path);
      }
      if (run.status !== "finished") watch(path, run.size); else route();
    } catch (e) { watch(path, size); }
  }, 1500);
}

function block(v) {  // any JSON value, laid out for reading
  if (v === null || v === undefined) return "<i>null</i>";
  if (typeof v === "string") return v.length > 80 || v.includes("\n") ? `<pre>${esc(v)}</pre>` : esc(v);
  if (typeof v !== "object") return esc(num(v));
  if (Array.isArray(v)) {
    if (v.length && v.every(m => m && typeof m === "object" && "role" in m)) return messages(v);
    const keys = v.length && v.every(x => x && typeof x === "object" && !Array.isArray(x)) ? [...new Set(v.flatMap(Object.keys))] : null;
    if (keys && keys.length <= 8 && v.length <= 200 && v.every(x => Object.values(x).every(y => y === null || typeof y !== "object")))
      return `<table><tr>${keys.map(k => `<th>${esc(k)}</th>`).join("")}</tr>` +
        v.map(x => `<tr>${keys.map(k => `<td>${block(x[k])}</td>`).join("")}</tr>`).join("") + "</table>";
    if (v.every(x => x === null || typeof x !== "object") && v.length > 12) return `<pre>${esc(JSON.stringify(v))}</pre>`;
    return `<ol start="0">${v.map(x => `<li>${block(x)}</li>`).join("")}</ol>`;
  }
  return `<dl>${Object.entries(v).map(([k, x]) => `<dt>${esc(k)}</dt><dd>${block(x)}</dd>`).join("")}</dl>`;
}

function messages(list) {  // an OpenAI-format conversation: the agent's trajectory, a judge prompt and its answer
  return list.map((m, i) => {
    const calls = (m.tool_calls || []).map(c => `<pre>call ${esc(c.function ? c.function.name : c.name)}(${esc(c.function ? c.function.arguments : JSON.stringify(c.arguments))})</pre>`).join("");
    const content = typeof m.content === "string" ? m.content : JSON.stringify(m.content);
    return `<div class="msg ${esc(m.role)}"><div class="role">${i}. ${esc(m.role)}${m.name ? " " + esc(m.name) : ""}</div>` +
      `${content ? `<pre>${esc(content)}</pre>` : ""}${calls}</div>`;
  }).join("");
}

async function showItem(path, index) {
  const d = await api(`/api/item?path=${encodeURIComponent(path)}&index=${index}`);
  const r = d.record || {}, i = Number(index);
  const nav = `<a href="${link("run", path)}">back to run</a> · ` +
    (i > 0 ? `<a id="prev-item" href="${link("item", path, i - 1)}">previous</a> · ` : "") +
    (i + 1 < d.count ? `<a id="next-item" href="${link("item", path, i + 1)}">next</a>` : "");
  main.innerHTML = `<p>${nav}</p><h1>${esc(d.system)} / item ${i + 1} of ${d.count}</h1>
    <p id="item-key">key <b>${esc(r.key)}</b> · ${r.ok === false ? `<span class="problems">failed: ${esc(r.error)}</span>` : "ok"}</p>
    <div id="record">${block(r.value !== undefined ? r.value : r)}</div>
    <details><summary>raw record</summary><pre>${esc(JSON.stringify(r, null, 1))}</pre></details>`;
}

async function showCompare(a, b) {
  const d = await api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  const rows = d.metrics.map(m => `<tr><td>${esc(m.name)}</td><td>${num(m.a)}</td><td>${num(m.b)}</td>` +
    `<td class="${m.diff > 0 ? "diff-pos" : (m.diff < 0 ? "diff-neg" : "")}">${m.diff === null ? "" : num(m.diff)}</td></tr>`).join("");
  const changed = d.changed.map(c => `<tr><td>${esc(c.key)}</td>` +
    `<td><a href="${link("item", a, c.a_index)}">${c.a_ok === false ? "failed" : (c.a_flagged ? "flagged" : "ok")}</a></td>` +
    `<td><a href="${link("item", b, c.b_index)}">${c.b_ok === false ? "failed" : (c.b_flagged ? "flagged" : "ok")}</a></td>` +
    `<td>${Object.entries(c.fields).map(([k, v]) => `${esc(k)} ${num(v[0])} &rarr; ${num(v[1])}`).join(", ")}</td></tr>`).join("");
  main.innerHTML = `<h1>Compare</h1><p>A: <a href="${link("run", a)}">${esc(a)}</a><br>B: <a href="${link("run", b)}">${esc(b)}</a></p>
    <h2>Metrics (B - A)</h2><table id="metric-diff"><tr><th>metric</th><th>A</th><th>B</th><th>B - A</th></tr>${rows}</table>
    <h2>Items whose outcome changed: ${d.changed_total} of ${d.shared_items} shared</h2>
    <table id="changed"><tr><th>key</th><th>A</th><th>B</th><th>fields</th></tr>${changed}</table>`;
}
