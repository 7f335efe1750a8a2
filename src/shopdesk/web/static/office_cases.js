// Cases list: the caller's after-sales requests, disputes, complaints, force-majeure
// applications and tickets (the API scopes the list by role), nearest deadline first.
"use strict";
(function () {
  const {api, h, $, timeEl, left, label, badge, flash, table} = window.Office;
  const flashEl = $("#flash");
  const titles = {};
  $("#f-process").querySelectorAll("option").forEach((o) => { if (o.value) titles[o.value] = o.textContent; });
  const shopName = new Map(JSON.parse($("#shop-names").textContent).map((s) => [s.id, s.name]));
  let cases = [];

  const nextDue = (c) => (c.deadlines || []).map((d) => d.due).sort()[0] || null;

  function render() {
    const state = $("#f-state").value, open = $("#f-open").checked;
    const rows = cases.filter((c) => (!state || c.state === state) && (!open || nextDue(c) || c.allowed.length))
      .sort((a, b) => (nextDue(a) || "9999").localeCompare(nextDue(b) || "9999") || b.id - a.id)
      .map((c) => {
        const due = nextDue(c);
        const overdue = due && new Date(due) < new Date();
        return h("tr", {dataset: {case: c.id}, class: overdue ? "urgent" : ""},
          h("td", {}, h("a", {href: `/office/cases/${c.id}`}, `#${c.id}`)),
          h("td", {}, titles[c.process] || label(c.process)), h("td", {}, badge(c.state)),
          h("td", {}, c.shop ? shopName.get(c.shop) || `shop ${c.shop}` : "—"),
          h("td", {}, due ? [timeEl(due), h("span", {class: "muted"}, " " + left(due))] : "—"),
          h("td", {}, timeEl(c.updated_at)));
      });
    $("#case-list").replaceChildren(table(["Case", "Process", "State", "Shop", "Next deadline", "Updated"], rows, "No cases."));
  }

  async function load() {
    const p = $("#f-process").value;
    cases = await api("GET", "/cases" + (p ? `?process=${encodeURIComponent(p)}` : ""));
    const sel = $("#f-state"), keep = sel.value;
    const states = [...new Set(cases.map((c) => c.state))].sort();
    sel.replaceChildren(h("option", {value: ""}, "all"), ...states.map((s) => h("option", {value: s}, label(s))));
    sel.value = states.includes(keep) ? keep : "";
    render();
  }

  const fail = (e) => flash(flashEl, e.message);
  $("#f-process").addEventListener("change", () => load().catch(fail));
  $("#f-state").addEventListener("change", render);
  $("#f-open").addEventListener("change", render);

  const complaint = $("#complaint-form");
  if (complaint) complaint.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {subject: $("#c-subject").value, text: $("#c-text").value};
    if ($("#c-shop")) body.shop = Number($("#c-shop").value);
    try {
      const c = await api("POST", "/complaints", body);
      location.href = `/office/cases/${c.id}`;
    } catch (e) { fail(e); }
  });
  const ticket = $("#ticket-form");
  if (ticket) ticket.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const c = await api("POST", "/platform-tickets", {shop: Number($("#t-shop").value), kind: $("#t-kind").value,
        subject: $("#t-subject").value, body: $("#t-body").value});
      location.href = `/office/cases/${c.id}`;
    } catch (e) { fail(e); }
  });

  load().catch(fail);
})();
