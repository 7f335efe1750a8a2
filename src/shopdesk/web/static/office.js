// Shared helpers of the back-office pages: the /api/v1 client (session cookie + CSRF header,
// like chat.js), a tiny element builder, and formatting. Page modules use window.Office.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  class ApiError extends Error {
    constructor(status, data) {
      super((data && data.message) || ("HTTP " + status));
      this.status = status;
      this.data = data;
    }
  }

  // body: an object (sent as JSON), a string/Blob with opts.type, or FormData (multipart).
  async function api(method, path, body, opts) {
    const headers = {"X-CSRF-Token": csrf, "Accept": "application/json"};
    let payload;
    if (body instanceof FormData) payload = body;
    else if (opts && opts.type) { headers["Content-Type"] = opts.type; payload = body; }
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const res = await fetch("/api/v1" + path, {method, credentials: "same-origin", headers, body: payload});
    if (res.status === 401) { location.href = "/login"; throw new ApiError(401, {message: "Your session has ended; log in again."}); }
    const text = res.status === 204 ? "" : await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = {message: text}; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // h("tr", {class: "x", dataset: {id: 1}, onclick: fn}, child, "text", [more])
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else if (k in node && typeof v !== "string") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  const $ = (sel, root) => (root || document).querySelector(sel);

  // Shop pages show times in the shop's zone (deadlines are the shop's, SPEC EV-5); other
  // pages in the browser's.
  let zone;
  const setZone = (tz) => { zone = tz || undefined; };
  const opts = () => (zone ? {timeZone: zone} : {});

  function when(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(undefined, opts());
  }

  function day(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleDateString(undefined, opts());
  }

  function timeEl(iso) {
    return iso ? h("time", {datetime: iso, title: iso}, when(iso)) : "—";
  }

  // "in 3 h 20 min" / "2 d 1 h ago": deadlines are what people act on.
  function left(iso, now) {
    if (!iso) return "";
    let s = Math.round((new Date(iso) - (now || new Date())) / 1000);
    const past = s < 0; s = Math.abs(s);
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    const txt = d ? `${d} d ${hh} h` : hh ? `${hh} h ${m} min` : `${m} min`;
    return past ? `${txt} ago` : `in ${txt}`;
  }

  const pct = (x) => (x === null || x === undefined) ? "—" : (Math.round(x * 1000) / 10) + "%";
  const dur = (s) => (s === null || s === undefined) ? "—" : s < 60 ? Math.round(s) + " s" : s < 3600 ? Math.round(s / 60) + " min" : (Math.round(s / 360) / 10) + " h";
  const label = (s) => String(s || "").replaceAll("_", " ");

  function badge(value) {
    return h("span", {class: "badge b-" + String(value || "none").replace(/[^a-z0-9_-]/gi, "")}, label(value || "—"));
  }

  // A message area: shows an API refusal (the server's message) or a confirmation.
  function flash(node, message, ok) {
    if (!node) return;
    node.textContent = message;
    node.className = ok ? "flash ok" : "flash error";
    node.setAttribute("role", ok ? "status" : "alert");
    node.hidden = !message;
  }

  function table(headers, rows, empty) {
    if (!rows.length) return h("p", {class: "muted"}, empty || "Nothing here.");
    return h("table", {class: "grid"},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, rows));
  }

  // Tabs: <nav class="tabs"><a href="#x" data-tab="x"> … <section data-panel="x">.
  function tabs(root, onShow) {
    const links = root.querySelectorAll("[data-tab]");
    const show = (name) => {
      links.forEach((a) => a.setAttribute("aria-selected", String(a.dataset.tab === name)));
      root.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== name; });
      if (onShow) onShow(name);
    };
    links.forEach((a) => a.addEventListener("click", (ev) => { ev.preventDefault(); history.replaceState(null, "", "#" + a.dataset.tab); show(a.dataset.tab); }));
    const fromHash = () => {
      const name = location.hash.slice(1);
      show([...links].some((a) => a.dataset.tab === name) ? name : links[0].dataset.tab);
    };
    window.addEventListener("hashchange", fromHash);
    fromHash();
  }

  window.Office = {api, ApiError, h, $, when, day, setZone, timeEl, left, pct, dur, label, badge, flash, table, tabs};
})();
