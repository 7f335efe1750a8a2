// Platform staff console: review queue (SCR-D1, SCR-12), appeals (APL-2), disputes to
// arbitrate (DSP-4), every shop's latest outcome (EVAL), complaint analytics (CMP-9).
"use strict";
(function () {
  const {api, h, $, timeEl, left, pct, dur, label, badge, flash, table, tabs} = window.Office;
  const root = $("#platform");
  const flashEl = $("#flash");
  const shopName = new Map(JSON.parse($("#shop-names").textContent).map((s) => [s.id, s.name]));
  const shopLink = (id) => h("a", {href: `/office/shops/${id}/health`}, shopName.get(id) || `shop ${id}`);
  const fail = (e) => flash(flashEl, e.message);
  const count = (sel, n) => { $(sel).textContent = n ? String(n) : ""; };
  const files = (ids) => ids.map((id) => h("a", {href: `/api/v1/attachments/${id}`, target: "_blank", rel: "noopener", dataset: {file: id}}, `file ${id}`))
    .reduce((acc, x) => acc.concat(acc.length ? [", ", x] : [x]), []);

  // A reason box and decision buttons; `decide(outcome, reason)` posts, then the list reloads.
  function decision(outcomes, decide) {
    const reason = h("input", {placeholder: "Reason (required, shown to the shop)", maxlength: 4000, "aria-label": "Reason"});
    const buttons = outcomes.map(([value, text, cls]) => h("button", {type: "button", class: "small " + (cls || ""), dataset: {outcome: value},
      onclick: async (ev) => {
        if (reason.value.trim().length < 3) { flash(flashEl, "Write a reason (at least 3 characters) first."); reason.focus(); return; }
        ev.target.disabled = true;
        try { await decide(value, reason.value.trim()); } catch (e) { fail(e); ev.target.disabled = false; }
      }}, text));
    return h("div", {class: "decision"}, reason, buttons);
  }

  // --- review queue ---------------------------------------------------------------------
  const messageCache = new Map();
  async function messagesOf(conv) {
    if (!messageCache.has(conv)) messageCache.set(conv, api("GET", `/conversations/${conv}/messages?limit=1000`).catch(() => []));
    return messageCache.get(conv);
  }

  async function loadReviews() {
    const status = $("#r-status").value, kind = $("#r-kind").value;
    const list = await api("GET", `/reviews?status=${status}&kind=${kind}`);
    if (status === "pending" && kind === "all") count("#n-reviews", list.length);
    const rows = await Promise.all(list.map(async (r) => {
      const msgs = await messagesOf(r.conversation);
      const i = msgs.findIndex((m) => m.id === r.message);
      const context = i < 0 ? [h("p", {class: "muted"}, `message ${r.message}`)] : msgs.slice(Math.max(0, i - 2), i + 1).map((m) =>
        h("p", {class: m.id === r.message ? "quoted target" : "quoted muted"}, h("span", {class: "who"}, label(m.sender) + ": "), m.text || "[" + m.kind + "]"));
      const findings = (r.findings || []).map((f) => h("li", {}, `${f.rule} ${label(f.kind)}`, f.text ? ` “${f.text}”` : ""));
      return h("tr", {dataset: {review: r.id}},
        h("td", {}, "#" + r.id, h("br"), badge(r.kind)), h("td", {}, shopLink(r.shop), h("br"), timeEl(r.created_at)),
        h("td", {}, context, findings.length ? h("ul", {class: "findings"}, findings) : null,
          r.reason ? h("p", {}, h("strong", {}, "Reported as " + label(r.reason)), r.evidence && r.evidence.length ? [" · evidence ", files(r.evidence)] : "") : null),
        h("td", {}, r.status === "pending"
          ? decision([["approved", "Approve"], ["rejected", "Reject", "secondary"]], async (outcome, reason) => {
            await api("POST", `/reviews/${r.id}/decision`, {outcome, reason});
            flash(flashEl, `Review #${r.id} ${outcome}.`, true);
            await loadReviews();
          })
          : [badge(r.status), h("p", {class: "muted"}, r.decision_reason || ""), timeEl(r.decided_at)]));
    }));
    $("#reviews").replaceChildren(table(["Review", "Shop", "Message and findings", "Decision"], rows, "The queue is empty."));
  }

  // --- appeals ----------------------------------------------------------------------------
  const ledgers = new Map();
  async function ledgerEntry(shop, entry) {
    if (!ledgers.has(shop)) ledgers.set(shop, api("GET", `/shops/${shop}/ledger`).catch(() => ({entries: []})));
    return (await ledgers.get(shop)).entries.find((e) => e.id === entry);
  }

  async function loadAppeals() {
    const status = $("#a-status").value;
    const list = await api("GET", `/appeals?status=${status}`);
    if (status === "pending") count("#n-appeals", list.length);
    ledgers.clear();
    const rows = await Promise.all(list.map(async (a) => {
      const e = await ledgerEntry(a.shop, a.entry);
      return h("tr", {dataset: {appeal: a.id}},
        h("td", {}, "#" + a.id, h("br"), timeEl(a.created_at)), h("td", {}, shopLink(a.shop)),
        h("td", {}, e ? [badge(e.kind), ` ${e.rule || ""} · ${e.points} point(s)`, h("p", {class: "muted"}, e.reason || "")] : `entry ${a.entry}`),
        h("td", {}, a.reason, a.evidence.length ? h("p", {class: "muted"}, "evidence ", files(a.evidence)) : null),
        h("td", {}, a.status === "pending"
          ? decision([["granted", "Grant (reverse the entry)"], ["denied", "Deny", "secondary"]], async (outcome, reason) => {
            await api("POST", `/appeals/${a.id}/decision`, {outcome, reason});
            flash(flashEl, `Appeal #${a.id} ${outcome}.`, true);
            await loadAppeals();
          })
          : [badge(a.status), h("p", {class: "muted"}, a.decision_reason || ""), timeEl(a.decided_at)]));
    }));
    $("#appeals").replaceChildren(table(["Appeal", "Shop", "Ledger entry", "Seller's reason", "Decision"], rows, "No appeals."));
  }

  // --- disputes ---------------------------------------------------------------------------
  async function loadDisputes() {
    const list = (await api("GET", "/cases?process=disputes")).filter((c) => !["closed", "withdrawn"].includes(c.state));
    const waiting = list.filter((c) => c.allowed.some((a) => a.roles.includes("platform_staff")));
    count("#n-disputes", waiting.length);
    const due = (c) => (c.deadlines || []).map((d) => d.due).sort()[0] || "";
    const rows = list.sort((a, b) => due(a).localeCompare(due(b))).map((c) => h("tr", {dataset: {case: c.id}},
      h("td", {}, h("a", {href: `/office/cases/${c.id}`}, "#" + c.id)), h("td", {}, c.shop ? shopLink(c.shop) : "—"),
      h("td", {}, badge(c.state)), h("td", {}, due(c) ? [timeEl(due(c)), h("span", {class: "muted"}, " " + left(due(c)))] : "—"),
      h("td", {}, c.allowed.filter((a) => a.roles.includes("platform_staff")).map((a) => label(a.action)).join(", ") || "—")));
    $("#disputes").replaceChildren(table(["Dispute", "Shop", "State", "Next deadline", "Staff can"], rows, "No open dispute."));
  }

  // --- latest outcomes --------------------------------------------------------------------
  async function loadOutcomes() {
    const q = new URLSearchParams({outcome: $("#o-outcome").value});
    if ($("#o-policy").value) q.set("policy", $("#o-policy").value);
    $("#o-csv").href = `/api/v1/evaluations.csv?${q}`;
    const list = await api("GET", `/evaluations?${q}`);
    const rows = list.map((e) => h("tr", {dataset: {shop: e.shop}},
      h("td", {}, shopLink(e.shop)), h("td", {}, e.policy_version), h("td", {}, timeEl(e.scheduled_for)),
      h("td", {}, pct(e.response_rate)), h("td", {}, `${e.answered_in_time}/${e.counted}`), h("td", {}, e.buyer_messages),
      h("td", {}, pct(e.satisfaction_rate)), h("td", {}, badge(e.outcome))));
    $("#outcomes").replaceChildren(table(["Shop", "Policy", "Evaluated", "Response rate", "In time / counted", "Buyer messages", "Satisfaction", "Outcome"], rows, "No shop matches."));
  }

  // --- complaint analytics (CMP-9) --------------------------------------------------------
  const isoDay = (d) => d.toISOString().slice(0, 10);
  function period() {
    const start = $("#c-start").value, end = $("#c-end").value;
    const endExclusive = new Date(end + "T00:00:00Z");
    endExclusive.setUTCDate(endExclusive.getUTCDate() + 1);
    return new URLSearchParams({start: start + "T00:00:00Z", end: endExclusive.toISOString().replace(".000Z", "Z")});
  }

  async function loadComplaints() {
    const q = period();
    $("#c-csv").href = `/api/v1/casework/complaints/stats.csv?${q}`;
    const s = await api("GET", `/casework/complaints/stats?${q}`);
    const kv = (obj) => table(["", "Complaints"], Object.entries(obj).sort((a, b) => b[1] - a[1]).map(([k, v]) => h("tr", {}, h("td", {}, label(k)), h("td", {class: "num"}, v))), "None.");
    $("#complaints").replaceChildren(
      h("div", {class: "figures"},
        h("div", {class: "figure"}, h("span", {class: "fig-name"}, "Complaints"), h("span", {class: "fig-value"}, s.total)),
        h("div", {class: "figure"}, h("span", {class: "fig-name"}, "Acknowledged in"), h("span", {class: "fig-value"}, dur(s.time_to_acknowledge.median_s)), h("span", {class: "fig-note muted"}, `median · p90 ${dur(s.time_to_acknowledge.p90_s)} · ${s.time_to_acknowledge.count} cases`)),
        h("div", {class: "figure"}, h("span", {class: "fig-name"}, "Resolved in"), h("span", {class: "fig-value"}, dur(s.time_to_resolve.median_s)), h("span", {class: "fig-note muted"}, `median · p90 ${dur(s.time_to_resolve.p90_s)} · ${s.time_to_resolve.count} cases`)),
        h("div", {class: "figure"}, h("span", {class: "fig-name"}, "Reopen rate"), h("span", {class: "fig-value"}, pct(s.reopen_rate)), h("span", {class: "fig-note muted"}, `${s.reopened} reopened`)),
        h("div", {class: "figure"}, h("span", {class: "fig-name"}, "Satisfaction"), h("span", {class: "fig-value"}, s.satisfaction_mean === null ? "—" : s.satisfaction_mean.toFixed(2) + " / 5"), h("span", {class: "fig-note muted"}, `${pct(s.satisfied_share)} rated 4+ · ${s.satisfaction_count} scores`))),
      h("div", {class: "two-col"}, h("div", {}, h("h3", {}, "By category"), kv(s.by_category)), h("div", {}, h("h3", {}, "By channel"), kv(s.by_channel))));
  }

  // --- adjusted regions (FM-1) -----------------------------------------------------------
  const instant = (local) => (local ? new Date(local).toISOString() : "");

  function regionActions(r) {
    if (r.state === "ended") return [badge("ended"), r.ended_early_at ? h("p", {class: "muted"}, "ended early") : null];
    const reason = h("input", {placeholder: "Reason (required)", maxlength: 4000, "aria-label": "Reason"});
    const until = h("input", {type: "datetime-local", "aria-label": "New end"});
    const run = async (ev, call, done) => {
      ev.target.disabled = true;
      try { await call(); flash(flashEl, done, true); await loadRegions(); } catch (e) { fail(e); ev.target.disabled = false; }
    };
    return h("div", {class: "decision"}, reason,
      h("label", {}, "until ", until),
      h("button", {type: "button", class: "small", dataset: {action: "renew"}, onclick: (ev) => {
        if (!until.value) { flash(flashEl, "Pick the new end of the period first."); until.focus(); return; }
        run(ev, () => api("POST", `/force-majeure/regions/${r.id}/renewals`, {ends_at: instant(until.value), reason: reason.value}), `Region “${r.name}” renewed.`);
      }}, "Renew"),
      h("button", {type: "button", class: "small secondary", dataset: {action: "end"}, onclick: (ev) => {
        if (!confirm(`End “${r.name}” now? Shops there lose the extension for new deadlines.`)) return;
        run(ev, () => api("POST", `/force-majeure/regions/${r.id}/end`, {reason: reason.value}), `Region “${r.name}” ended.`);
      }}, "End now"));
  }

  async function loadRegions() {
    const list = await api("GET", `/force-majeure/regions?state=${$("#g-state").value}`);
    const rows = list.map((r) => h("tr", {dataset: {region: r.id}},
      h("td", {}, "#" + r.id, " ", r.name, h("p", {class: "muted"}, r.reason)), h("td", {}, r.region_codes.join(", ")),
      h("td", {}, timeEl(r.starts_at), " – ", timeEl(r.ends_at), r.renewals ? h("p", {class: "muted"}, `renewed ${r.renewals}×`) : null),
      h("td", {}, `+${r.extension_days} day(s)`), h("td", {}, badge(r.state)), h("td", {}, regionActions(r))));
    $("#regions").replaceChildren(table(["Region", "Codes", "Period", "Extension", "State", ""], rows, "No adjusted region."));
  }

  $("#g-state").addEventListener("change", () => loadRegions().catch(fail));
  $("#g-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {name: $("#g-name").value, region_codes: $("#g-codes").value.split(",").map((c) => c.trim()).filter(Boolean),
      starts_at: instant($("#g-start").value), ends_at: instant($("#g-end").value), reason: $("#g-reason").value};
    if ($("#g-days").value) body.extension_days = Number($("#g-days").value);
    try {
      const r = await api("POST", "/force-majeure/regions", body);
      flash(flashEl, `Region “${r.name}” declared (+${r.extension_days} day(s)).`, true);
      $("#g-form").reset();
      await loadRegions();
    } catch (e) { fail(e); }
  });

  const today = new Date();
  $("#c-end").value = isoDay(today);
  $("#c-start").value = isoDay(new Date(today.getTime() - 29 * 86400000));
  $("#c-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadComplaints().catch(fail); });

  $("#r-status").addEventListener("change", () => loadReviews().catch(fail));
  $("#r-kind").addEventListener("change", () => loadReviews().catch(fail));
  $("#a-status").addEventListener("change", () => loadAppeals().catch(fail));
  $("#o-outcome").addEventListener("change", () => loadOutcomes().catch(fail));
  $("#o-policy").addEventListener("change", () => loadOutcomes().catch(fail));

  const loaders = {reviews: loadReviews, appeals: loadAppeals, disputes: loadDisputes, outcomes: loadOutcomes, complaints: loadComplaints, regions: loadRegions};
  const loaded = new Set();
  tabs(root, (name) => { if (!loaded.has(name)) { loaded.add(name); loaders[name]().catch(fail); } });
  // Counts on the tabs tell staff where work is waiting without opening each section.
  for (const name of ["reviews", "appeals", "disputes"]) if (!loaded.has(name)) { loaded.add(name); loaders[name]().catch(fail); }
})();
