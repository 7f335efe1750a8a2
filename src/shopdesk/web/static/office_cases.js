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

  // Forms sit below the list: bring the refusal into view where it is shown.
  const fail = (e) => { flash(flashEl, e.message); flashEl.scrollIntoView({block: "nearest"}); };
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

  // --- a buyer's orders: after-sales requests within the time limits (AS-2, AS-6) ----------
  const orderList = $("#order-list");
  const PAGE = 50;
  let orders = [];
  const ORDER_FILES = "image/jpeg,image/png,application/pdf";

  async function upload(file) {
    const fd = new FormData();
    fd.append("file", file, file.name);
    return (await api("POST", "/casework/files", fd)).id;
  }

  function requestForm(o) {
    const open = o.aftersales.kinds.filter((k) => k.open_now);
    const refusals = o.aftersales.kinds.filter((k) => !k.open_now)
      .map((k) => h("li", {}, label(k.kind) + ": " + k.reason));
    const why = refusals.length ? h("details", {}, h("summary", {class: "muted"}, open.length ? "Other requests" : "No request can be opened now"), h("ul", {}, refusals)) : null;
    if (!open.length) return why;
    const kind = h("select", {"aria-label": "Kind"}, open.map((k) => h("option", {value: k.kind}, label(k.kind))));
    const reason = h("input", {maxlength: 500, required: true, "aria-label": "Reason", placeholder: "Reason"});
    const description = h("textarea", {rows: 2, "aria-label": "Details", placeholder: "Details (optional)"});
    const file = h("input", {type: "file", accept: ORDER_FILES, "aria-label": "Photo or document"});
    const form = h("form", {class: "stack", dataset: {order: o.id}, onsubmit: async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const attachments = file.files[0] ? [await upload(file.files[0])] : [];
        const c = await api("POST", "/aftersales", {order: o.id, kind: kind.value, reason: reason.value,
          description: description.value, attachments});
        location.href = `/office/cases/${c.id}`;
      } catch (e) { fail(e); button.disabled = false; }
    }}, h("label", {}, "Kind ", kind), h("label", {}, "Reason ", reason), h("label", {}, "Details ", description),
      h("label", {}, "Photo or document (optional) ", file), h("button", {type: "submit"}, "Request after-sales"));
    return [h("details", {}, h("summary", {}, "Request after-sales"), form), why];
  }

  function renderOrders() {
    const rows = orders.map((o) => h("tr", {dataset: {order: o.id}},
      h("td", {}, `#${o.id}`), h("td", {}, o.product.title || `product ${o.product.id}`),
      h("td", {}, badge(o.status)), h("td", {}, timeEl(o.placed_at)), h("td", {}, timeEl(o.shipped_at)), h("td", {}, timeEl(o.delivered_at)),
      h("td", {}, o.aftersales_requests.map((r) => h("p", {}, h("a", {href: `/office/cases/${r.id}`}, `request #${r.id}`), " ", badge(r.state))),
        requestForm(o))));
    orderList.replaceChildren(table(["Order", "Product", "Status", "Placed", "Shipped", "Delivered", "After-sales"], rows, "No orders."));
  }

  async function loadOrders(more) {
    const q = new URLSearchParams({limit: String(PAGE)});
    if (more && orders.length) q.set("before", String(orders[orders.length - 1].id));
    const page = await api("GET", "/orders?" + q);
    orders = more ? orders.concat(page) : page;
    $("#orders-more").hidden = page.length < PAGE;
    renderOrders();
  }
  if (orderList) {
    $("#orders-more").addEventListener("click", () => loadOrders(true).catch(fail));
    loadOrders(false).catch(fail);
  }

  // --- force majeure: adjusted regions (FM-1) and a shop's application (FM-3, FM-4) --------
  const regionList = $("#region-list");
  async function loadRegions() {
    const list = await api("GET", "/force-majeure/regions?state=all");
    const rows = list.map((r) => h("tr", {dataset: {region: r.id}},
      h("td", {}, r.name, h("p", {class: "muted"}, r.reason)), h("td", {}, r.region_codes.join(", ")),
      h("td", {}, timeEl(r.starts_at), " – ", timeEl(r.ends_at), r.ended_early_at ? h("p", {class: "muted"}, "ended early") : null),
      h("td", {}, `+${r.extension_days} day(s) to ship`, r.renewals ? h("p", {class: "muted"}, `renewed ${r.renewals}×`) : null),
      h("td", {}, badge(r.state))));
    regionList.replaceChildren(table(["Region", "Codes", "Period", "Extension", "State"], rows, "No adjusted region has been declared."));
  }
  if (regionList) loadRegions().catch(fail);

  const fmForm = $("#fm-form");
  const SHIPPED = ["shipped", "delivered", "completed", "cancelled"];
  async function fmTickets() {
    const shop = Number($("#fm-shop").value);
    const open = (await api("GET", "/cases?process=tickets")).filter((c) => c.shop === shop && c.state !== "closed").slice(0, 20);
    const full = await Promise.all(open.map((c) => api("GET", `/cases/${c.id}`).catch(() => null)));
    const fm = full.filter((c) => c && c.data && c.data.kind === "force_majeure");
    $("#fm-ticket").replaceChildren(h("option", {value: ""}, "open a new force-majeure ticket"),
      ...fm.map((c) => h("option", {value: c.id}, `#${c.id} ${c.data.subject || ""}`)));
  }
  async function fmOrders() {
    const shop = Number($("#fm-shop").value);
    const list = (await api("GET", `/orders?shop=${shop}&limit=200`)).filter((o) => !o.shipped_at && !SHIPPED.includes(o.status));
    $("#fm-orders").replaceChildren(list.length ? h("ul", {class: "plain"}, list.map((o) => h("li", {},
      h("label", {class: "check"}, h("input", {type: "checkbox", value: o.id, dataset: {order: o.id}}), ` #${o.id} ${o.product.title || ""} (placed `, timeEl(o.placed_at), ")"),
      h("label", {}, " due to ship by ", h("input", {type: "datetime-local", dataset: {shipBy: o.id}, "aria-label": `Order ${o.id} due to ship by`})))))
      : h("p", {class: "muted"}, "The shop has no order waiting to ship."));
  }
  if (fmForm) {
    const refresh = () => Promise.all([fmTickets(), fmOrders()]).catch(fail);
    $("#fm-shop").addEventListener("change", refresh);
    $("#fm-details").addEventListener("toggle", () => { if ($("#fm-details").open) refresh(); });
    fmForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = fmForm.querySelector("button[type=submit]");
      button.disabled = true;
      const shop = Number($("#fm-shop").value), reason = $("#fm-reason").value;
      const affected = [...$("#fm-orders").querySelectorAll("input[type=checkbox]:checked")].map((cb) => {
        const when = $(`input[data-ship-by="${cb.value}"]`, fmForm).value;
        return {order: Number(cb.value), ship_by: when ? new Date(when).toISOString() : ""};
      });
      try {
        const file = $("#fm-file").files[0];
        const attachment = await upload(file);
        let ticket = Number($("#fm-ticket").value) || null;
        if (!ticket) {
          const t = await api("POST", "/platform-tickets", {shop, kind: "force_majeure",
            subject: "Force majeure: " + reason.slice(0, 150), body: reason});
          ticket = t.id;
          // A refused application is corrected and sent again through the same ticket (FM-4).
          $("#fm-ticket").append(h("option", {value: t.id}, `#${t.id} ${t.data ? t.data.subject : ""}`));
          $("#fm-ticket").value = String(t.id);
        }
        const c = await api("POST", "/force-majeure", {ticket, shipping_address: $("#fm-address").value, reason,
          proofs: [{attachment, declared_kind: $("#fm-kind").value, file_name: file.name, issuer: $("#fm-issuer").value.trim() || null}],
          affected_orders: affected, expected_recovery: $("#fm-recovery").value});
        location.href = `/office/cases/${c.id}`;
      } catch (e) { fail(e); button.disabled = false; }
    });
  }

  load().catch(fail);
})();
