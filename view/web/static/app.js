// AINKA dashboard: renders the daemon's view.Snapshot, kept live by the
// server-sent event stream /api/events. Charts are SVG drawn here: no
// library, nothing fetched from elsewhere.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const state = { snap: null, events: [], lastSeq: 0, page: "overview" };
// Measured by the browser tests: updates received and their latency.
window.ainka = { updates: 0, latencies: [], renders: [] };

function el(tag, attrs, ...kids) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
const $ = (id) => document.getElementById(id);
const ok = (v) => v !== null && v !== undefined && isFinite(v);
// why is a change's reason with, last, the gain its tuner measured.
const why = (c) => (c.why || "") + (c.gain ? "  gain " + c.gain : "");

function fmt(v) {
  if (!ok(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}
function dur(s) {
  if (!ok(s)) return "–";
  if (s < 60) return s.toFixed(0) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(Math.floor(s % 60)).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
}
// ago is an event time relative to the newest window the view has seen.
function ago(ns) {
  if (!state.snap || !state.snap.event_time_ns || !ns) return "";
  return "−" + ((state.snap.event_time_ns - ns) / 1e9).toFixed(1) + " s";
}
function table(id, head, rows) {
  const t = $(id);
  t.replaceChildren(el("tr", {}, ...head.map((h) => el("th", { text: h }))));
  for (const r of rows) t.append(r);
  if (rows.length === 0) t.append(el("tr", {}, el("td", { class: "mut", colspan: head.length, text: "none" })));
}
function tr(attrs, ...cells) {
  return el("tr", attrs, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) :
    el("td", typeof c === "number" ? { class: "n", text: fmt(c) } : { text: c == null ? "" : String(c) }))));
}

// chart draws a feature: its values, the forecast interval each second
// forecast (shifted by the horizon to the time it was for), spans whose
// anomaly score reached 0.5, and the current forecast with its interval.
function chart(f, horizonS, w, h) {
  const vals = f.history || [], lo = f.lo_history || [], hi = f.hi_history || [], sc = f.scores || [];
  const n = vals.length, span = Math.max(n - 1 + horizonS, 1);
  const ys = [...vals, ...lo, ...hi, f.forecast, f.lo, f.hi].filter(ok);
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys, 1e-9);
  if (y1 === y0) y1 = y0 + 1;
  const pl = 36, pb = 14, X = (i) => pl + (i / span) * (w - pl - 4), Y = (v) => 4 + (1 - (v - y0) / (y1 - y0)) * (h - pb - 4);
  const svg = el("svg:svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "plot" });
  sc.forEach((s, i) => {
    if (ok(s) && s >= 0.5) svg.append(el("svg:rect", { class: "anom", x: X(i - 0.5), y: 4, width: Math.max(X(1) - X(0), 2), height: h - pb - 4, fill: "#f3c1bd" }));
  });
  // The interval band: hi forward, lo backward, each at i + horizon.
  const band = [];
  hi.forEach((v, i) => { if (ok(v) && ok(lo[i]) && i + horizonS <= span) band.push([X(i + horizonS), Y(v)]); });
  for (let i = lo.length - 1; i >= 0; i--) if (ok(lo[i]) && ok(hi[i]) && i + horizonS <= span) band.push([X(i + horizonS), Y(lo[i])]);
  if (band.length > 2) svg.append(el("svg:polygon", { class: "band", points: band.map((p) => p.join(",")).join(" "), fill: "#9fc0f5", "fill-opacity": "0.6" }));
  let d = "", pts = 0;
  vals.forEach((v, i) => { if (ok(v)) { d += (d && ok(vals[i - 1]) ? "L" : "M") + X(i).toFixed(1) + "," + Y(v).toFixed(1); pts++; } });
  svg.append(el("svg:path", { class: "line", d: d || "M0,0", fill: "none", stroke: "#2f6fdb", "stroke-width": 1.5 }));
  if (ok(f.forecast)) {
    const x = X(n - 1 + horizonS);
    if (ok(f.lo) && ok(f.hi)) svg.append(el("svg:line", { x1: x, x2: x, y1: Y(f.lo), y2: Y(f.hi), stroke: "#7a3fc2", "stroke-width": 2 }));
    svg.append(el("svg:circle", { class: "fc", cx: x, cy: Y(f.forecast), r: 3, fill: "#7a3fc2" }));
  }
  svg.append(el("svg:line", { x1: pl, x2: w - 4, y1: h - pb, y2: h - pb, stroke: "#ccc" }));
  svg.append(el("svg:text", { x: 2, y: 12, text: fmt(y1) }), el("svg:text", { x: 2, y: h - pb, text: fmt(y0) }));
  svg.append(el("svg:text", { x: pl, y: h - 2, text: "−" + (n - 1) + " s" }), el("svg:text", { x: X(n - 1) - 10, y: h - 2, text: "now" }));
  svg.setAttribute("data-points", String(pts));
  return svg;
}

function featureCard(f, horizonS, w, h) {
  const score = ok(f.score) ? f.score : NaN;
  const cls = score >= 0.5 ? "bad" : score >= 0.2 ? "warn" : "good";
  return el("div", { class: "chart", "data-feature": f.name },
    el("h3", { text: f.name }),
    el("div", { class: "sub" }, "now ", el("b", { text: fmt(f.value) }), "  score ", el("span", { class: cls, text: fmt(score) }),
      `  forecast ${fmt(f.forecast)} [${fmt(f.lo)} … ${fmt(f.hi)}]`),
    chart(f, horizonS, w, h));
}

function renderHeader(s) {
  $("mode").textContent = s.mode + (s.dry_run ? ", advice only" : "");
  const st = $("state");
  st.textContent = s.engine.emergency ? "EMERGENCY" : (s.engine.state || "starting");
  st.className = "badge" + (s.engine.emergency ? " bad" : s.engine.state === "anomaly_detection" ? " warn" : "");
  $("uptime").textContent = "up " + dur(s.uptime_s);
}

function renderOverview(s) {
  const e = s.engine;
  $("engine").replaceChildren(el("table", {},
    tr({}, "state", (e.state || "starting") + (e.since_ns && s.event_time_ns >= e.since_ns ? " for " + dur((s.event_time_ns - e.since_ns) / 1e9) : "")),
    tr({}, "windows scored", String(s.windows)), tr({}, "policies", String(e.policies)),
    tr({}, "decisions", String(e.decisions)), tr({}, "regime", s.regime || "–"),
    tr(ok(s.host_alarm) && s.host_alarm >= 0.8 ? { class: "bad" } : {}, "host alarm",
      ok(s.host_alarm) ? fmt(s.host_alarm) + (s.host_alarm_why ? (s.host_alarm >= 0.8 ? " ALARM: " : " closest: ") + s.host_alarm_why : "") : "–"),
    tr(ok(s.ring_fill) && s.ring_fill >= 0.75 ? { class: "bad" } : {}, "ring buffer",
      ok(s.ring_fill) ? (100 * s.ring_fill).toFixed(0) + " % full at its peak" : "– (no ring: a replay)"),
    e.reload_error ? tr({ class: "bad" }, "policy reload", e.reload_error) : null));
  const j = { name: "joint_score", history: s.joint_history, scores: s.joint_history, value: s.joint_score, score: s.joint_score };
  $("joint").replaceChildren(el("div", { class: "sub", text: "now " + fmt(s.joint_score) }), chart(j, 0, 400, 90));
  table("kinds", ["kind", "events/s", "total", "lost/s", "dropped/s"], (s.kinds || []).map((k) =>
    tr({}, k.kind, k.per_s, k.total, k.lost_per_s + 0, k.dropped_per_s + 0)));
  table("stages", ["stage", "in/s", "queue fill", "dropped"], (s.stages || []).map((g) =>
    tr({}, g.name, g.in_per_s, el("span", {}, el("span", { class: "fill" }), (100 * g.queue_fill).toFixed(0) + " %"), String(g.dropped))));
  document.querySelectorAll("#stages .fill").forEach((b, i) => { b.style.width = Math.round(60 * s.stages[i].queue_fill) + "px"; });
  const ch = (s.knobs || []).map((k) => tr({}, k.knob, `${k.original} → ${k.value}`, k.policy, k.why || ""));
  for (const c of (s.changes || []).slice().reverse()) ch.push(tr({ class: "mut" }, c.knob || "–", c.knob ? `${c.old} → ${c.new}` : c.status, c.policy, why(c)));
  table("changes", ["knob", "change", "by", "why"], ch);
  const top = (s.features || []).filter((f) => ok(f.max_score)).slice(0, 4);
  $("top").replaceChildren(...top.map((f) => featureCard(f, horizon(s), 400, 110)));
  const log = $("log");
  log.replaceChildren(...(s.log || []).map((l) => el("li", { class: "warn", text: l })));
  if (!(s.log || []).length) log.append(el("li", { class: "mut", text: "none" }));
}

const horizon = (s) => Math.max(1, Math.round((s.horizon_ns || 1e9) / 1e9));

function renderFeatures(s) {
  $("features").replaceChildren(...(s.features || []).map((f) => featureCard(f, horizon(s), 380, 120)));
}

function renderTimeline(s) {
  const evs = state.events, w = 1100, h = 70;
  const svg = el("svg:svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "plot" });
  if (evs.length) {
    const t0 = Math.min(...evs.map((e) => e.time_ns)), t1 = Math.max(s.event_time_ns || 0, ...evs.map((e) => e.time_ns));
    const X = (t) => 10 + ((t - t0) / Math.max(t1 - t0, 1)) * (w - 20);
    svg.append(el("svg:line", { x1: 10, x2: w - 10, y1: 35, y2: 35, stroke: "#ccc" }));
    for (const e of evs) {
      const color = e.type === "decision" ? (e.kind === "state" ? "#b36b00" : e.kind === "effect" ? "#217a3c" : "#2f6fdb") : "#7a3fc2";
      const mark = e.type === "decision" ? el("svg:circle", { class: "mark", cx: X(e.time_ns), cy: 25, r: 4, fill: color }) :
        el("svg:rect", { class: "mark", x: X(e.time_ns) - 3, y: 42, width: 6, height: 6, fill: color });
      mark.append(el("svg:title", { text: `${e.kind} ${e.policy || ""}: ${why(e)}` }));
      svg.append(mark);
    }
    svg.append(el("svg:text", { x: 10, y: h - 2, text: ago(t0) }), el("svg:text", { x: w - 40, y: h - 2, text: "now" }));
    svg.append(el("svg:text", { x: 10, y: 12, text: "● decisions   ■ actuations" }));
  }
  svg.setAttribute("data-points", String(evs.length));
  $("tlchart").replaceChildren(svg);
  table("timeline", ["when", "what", "kind", "policy", "action / knob", "why"], evs.slice().reverse().slice(0, 200).map((e) =>
    tr({ class: "ev", "data-type": e.type, "data-kind": e.kind, "data-policy": e.policy || "" }, ago(e.time_ns), e.type, e.kind, e.policy,
      e.type === "change" ? (e.knob ? `${e.knob} ${e.old} → ${e.new}` : "") : e.action, why(e))));
}

function renderKnobs(s) {
  table("knobs", ["knob", "original", "current", "by", "since", "why"], (s.knobs || []).map((k) =>
    tr({}, k.knob, k.original, k.value, k.policy, k.since, k.why || "")));
  table("journal", ["when", "knob", "old → new", "status", "by", "why"], state.events.filter((e) => e.type === "change").reverse().map((e) =>
    tr({}, ago(e.time_ns), e.knob || "–", e.knob ? `${e.old} → ${e.new}` : "", e.kind, e.policy, why(e))));
}

function renderTuners(s) {
  $("regime").textContent = "workload regime: " + (s.regime || "not classified yet");
  const ts = s.tuners || [], w = 500, bh = 22;
  const svg = el("svg:svg", { width: w, height: Math.max(ts.length * bh, bh) + 6, class: "plot" });
  const m = Math.max(1, ...ts.map((t) => Math.abs(t.gain_pct)));
  ts.forEach((t, i) => {
    const bw = (Math.abs(t.gain_pct) / m) * (w - 260);
    svg.append(el("svg:text", { x: 0, y: i * bh + 15, text: t.name }),
      el("svg:rect", { class: "bar", x: 120, y: i * bh + 4, width: Math.max(bw, 1), height: bh - 8, fill: t.gain_pct >= 0 ? "#217a3c" : "#c0271b" }),
      el("svg:text", { x: 126 + bw, y: i * bh + 15, text: t.gain_pct.toFixed(1) + " % measured gain" }));
  });
  svg.setAttribute("data-points", String(ts.length));
  $("gains").replaceChildren(svg);
  table("tuners", ["tuner", "mode", "state", "objective", "target", "setting", "steps", "gain", "changes", "why"], ts.map((t) =>
    tr({}, t.name, t.mode, t.state, t.objective, [t.target, t.class].filter(Boolean).join(" "), t.setting || "", String(t.steps),
      t.gain_pct.toFixed(1) + " %", String(t.changes), t.why || "")));
}

function renderPolicies(s) {
  table("policies", ["policy", "state", "condition", "action", "priority", "fired", "effectiveness", "last fired"], (s.policies || []).map((p) =>
    tr({ "data-policy": p.name }, p.name, p.state + (p.why ? ": " + p.why : ""), p.condition, p.action, String(p.priority),
      String(p.actuations), ok(p.effectiveness) ? p.effectiveness.toFixed(2) : "–", p.last_fired_ns ? ago(p.last_fired_ns) : "never")));
}

// The fleet page: the hosts that push to the fleet's store, which the
// daemon reads for the page (/api/fleet, 204 when no fleet_url is set).
// Asked for every few seconds while the page is shown: the daemon caches.
const fleet = { enabled: false, at: 0, ans: null };
async function fetchFleet() {
  fleet.at = Date.now();
  try {
    const r = await fetch("/api/fleet");
    if (r.status === 204) return;
    fleet.enabled = true;
    $("nav-fleet").hidden = false;
    fleet.ans = await r.json();
  } catch (e) {
    fleet.ans = { error: "the daemon did not answer: " + e };
  }
  if (state.page === "fleet") renderFleet();
}

function renderFleet() {
  if (fleet.enabled && Date.now() - fleet.at > 5000) fetchFleet();
  const a = fleet.ans;
  if (!a) { $("fleetinfo").textContent = fleet.enabled ? "asking the store…" : "no fleet_url set in [ui]"; return; }
  $("fleetinfo").textContent = a.error ? "store " + (a.store || "") + ": " + a.error :
    `${a.hosts.length} hosts in ${a.store}, read ${new Date(a.at).toLocaleTimeString()}`;
  const gains = (m) => Object.entries(m || {}).map(([k, v]) => `${k} ${v >= 0 ? "+" : ""}${v.toFixed(1)} %`).join(", ");
  table("fleet", ["host", "state", "joint anomaly", "events", "drops", "decisions", "knobs changed", "tuners' gains", "last push"],
    (a.hosts || []).map((h) => tr({ class: "host", "data-host": h.host }, h.host, h.state, h.joint_anomaly_score, h.events, h.drops,
      h.decisions, String(h.knobs_changed), gains(h.tuner_gain_pct), new Date(h.last_push).toLocaleTimeString())));
}

const pages = { overview: renderOverview, features: renderFeatures, timeline: renderTimeline, knobs: renderKnobs, tuners: renderTuners, policies: renderPolicies, fleet: renderFleet };

function render() {
  const s = state.snap;
  if (!s) { if (state.page === "fleet") renderFleet(); return; } // the fleet needs no snapshot
  const t = performance.now();
  renderHeader(s);
  pages[state.page](s);
  window.ainka.renders.push(performance.now() - t);
}

function show() {
  const p = (location.hash || "#overview").slice(1);
  state.page = pages[p] ? p : "overview";
  document.querySelectorAll(".page").forEach((e) => e.classList.toggle("on", e.id === "page-" + state.page));
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("on", a.dataset.page === state.page));
  render();
}

// addEvents keeps the timeline: events arrive in order; a gap (an update
// this viewer lost) is filled from /api/timeline.
async function addEvents(evs) {
  if (evs.length && evs[0].seq > state.lastSeq + 1 && state.lastSeq > 0) {
    const r = await fetch("/api/timeline?after=" + state.lastSeq);
    if (r.ok) evs = await r.json();
  }
  for (const e of evs) if (e.seq > state.lastSeq) { state.events.push(e); state.lastSeq = e.seq; }
  if (state.events.length > 1000) state.events.splice(0, state.events.length - 1000);
}

function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("conn").textContent = "live"; };
  es.onerror = () => { $("conn").textContent = "reconnecting…"; };
  es.onmessage = async (m) => {
    const u = JSON.parse(m.data);
    window.ainka.updates++;
    window.ainka.latencies.push(Date.now() - u.sent_ms);
    await addEvents(u.events || []);
    state.snap = u.snapshot;
    render();
  };
}

window.addEventListener("hashchange", show);
fetchFleet();
show();
connect();
