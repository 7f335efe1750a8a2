// One case: facts, deadlines, evidence, timeline, and the steps the state machine allows this
// user now (the case's `allowed` list, filtered by the caller's role). A refused step shows the
// API's 409 message, which says what is allowed now and by whom.
"use strict";
(function () {
  const {api, h, $, timeEl, left, label, badge, flash} = window.Office;
  const root = $("#case");
  const id = Number(root.dataset.case);
  const myRole = root.dataset.role;
  const catalogue = JSON.parse($("#catalogue").textContent);
  const proposalKinds = JSON.parse($("#proposal-kinds").textContent);
  const flashEl = $("#flash");
  let current = null;

  const FACTS = ["shop", "buyer", "order", "conversation", "parent", "created_at", "updated_at", "version"];
  const SKIP = new Set(["deadlines", "evidence", "id", "state", "opened_at", "updated_at", "version", "buyer_id", "shop_id"]);

  const CASE_LINKS = new Set(["parent", "ticket_id", "linked_case", "after_sales_id", "dispute_id"]);

  // Case data is nested (decisions, proofs, affected orders): render it readably, with files
  // and related cases as links.
  function value(v, key) {
    if (v === null || v === undefined || v === "") return "—";
    if (CASE_LINKS.has(key) && /^\d+$/.test(String(v))) return h("a", {href: `/office/cases/${v}`}, "#" + v);
    if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return timeEl(v);
    if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== "object")) return v.map(String).join(", ") || "—";
      return h("ul", {class: "nested"}, v.map((x) => h("li", {}, value(x))));
    }
    if (typeof v === "object") {
      if (v.media_type && v.id !== undefined) {
        return h("a", {href: `/api/v1/cases/${id}/attachments/${v.id}`, target: "_blank", rel: "noopener"}, v.file_name || `file ${v.id}`);
      }
      return h("span", {class: "pairs"}, Object.entries(v).filter(([k, x]) => k !== "sha256" && x !== null)
        .map(([k, x]) => h("span", {}, h("span", {class: "muted"}, label(k) + ": "), value(x, k), " ")));
    }
    return String(v);
  }

  function renderFacts(c) {
    const dl = $("#facts");
    dl.replaceChildren();
    for (const k of FACTS) if (c[k] !== null && c[k] !== undefined) dl.append(h("dt", {}, label(k)), h("dd", {}, value(c[k], k)));
    for (const [k, v] of Object.entries(c.data || {})) {
      if (SKIP.has(k) || v === null || (Array.isArray(v) && !v.length)) continue;
      dl.append(h("dt", {}, label(k)), h("dd", {}, value(v, k)));
    }
    const rows = (c.deadlines || []).map((d) => h("li", {class: new Date(d.due) < new Date() ? "urgent" : ""},
      h("strong", {}, label(d.name)), " ", timeEl(d.due), h("span", {class: "muted"}, ` ${left(d.due)} · then ${label(d.on_expiry)} (${d.rule})`)));
    $("#deadlines").replaceChildren(rows.length ? h("ul", {class: "list"}, rows) : h("p", {class: "muted"}, "No deadline running."));
    $("#raw").textContent = JSON.stringify(c.data, null, 2);
  }

  function renderEvidence(c) {
    const items = (c.data && c.data.evidence) || [];
    $("#evidence").replaceChildren(items.length ? h("ul", {class: "evidence"}, items.map((e) => h("li", {},
      h("div", {}, h("strong", {}, label(e.party)), " · ", label(e.kind), " · ", timeEl(e.submitted_at),
        e.auto ? h("span", {class: "badge b-auto", title: "attached by the system"}, `auto: ${label(e.source)}`) : "",
        e.primary ? h("span", {class: "badge b-primary", title: "weighs most (DSP-2)"}, "primary") : ""),
      e.text ? h("p", {}, e.text) : null,
      e.attachment ? h("a", {href: `/api/v1/cases/${id}/attachments/${e.attachment.id}`, target: "_blank", rel: "noopener"}, e.attachment.file_name || `file ${e.attachment.id}`) : null)))
      : h("p", {class: "muted"}, "No evidence yet."));
    $("#evidence-form").hidden = !mine(c).some((a) => a.action === "add_evidence");
  }

  async function renderTimeline() {
    const events = await api("GET", `/cases/${id}/timeline`);
    $("#timeline").replaceChildren(...events.map((e) => h("li", {},
      timeEl(e.at), " ", h("strong", {}, label(e.action)), ` by ${label(e.role)}${e.actor ? " " + e.actor : ""}`,
      e.from_state && e.from_state !== e.to_state ? h("span", {class: "muted"}, ` · ${label(e.from_state)} → ${label(e.to_state)}`) : "",
      e.rule ? h("span", {class: "muted"}, ` · ${e.rule}`) : "",
      e.detail && Object.keys(e.detail).length ? h("div", {class: "detail"}, value(e.detail)) : null)));
  }

  // One entry per action: an action may have several transitions (e.g. decide_appeal when
  // appeals remain and when none does); their guards are alternatives.
  function merged(list) {
    const out = new Map();
    for (const a of list) {
      const seen = out.get(a.action);
      if (!seen) out.set(a.action, {...a, roles: [...a.roles]});
      else {
        seen.roles = [...new Set([...seen.roles, ...a.roles])];
        seen.guard = [seen.guard, a.guard].filter(Boolean).join(" or ");
      }
    }
    return [...out.values()];
  }
  const mine = (c) => merged(c.allowed.filter((a) => a.roles.includes(myRole)));

  function field(p) {
    const name = "p-" + p.name;
    const title = label(p.name) + (p.optional ? " (optional)" : "");
    if (p.name === "proposal") {
      return h("fieldset", {}, h("legend", {}, "Proposal"),
        h("label", {}, "Kind ", h("select", {name: "proposal.kind"}, proposalKinds.map((k) => h("option", {value: k}, label(k))))),
        h("label", {}, "What you offer ", h("textarea", {name: "proposal.text", rows: 2, required: true})),
        h("label", {}, "Amount (minor units, optional) ", h("input", {name: "proposal.amount_minor", type: "number", min: 0})));
    }
    if (p.choices) {
      return h("label", {}, title + " ", h("select", {name}, p.optional ? h("option", {value: ""}, "—") : null,
        p.choices.map((v) => h("option", {value: v}, label(v)))));
    }
    if (p.integer) return h("label", {}, title + " ", h("input", {name, type: "number", min: 0, required: !p.optional}));
    const long = /reason|text|resolution|plan|cause|handling|outcome|claim/.test(p.name);
    return h("label", {}, title + " ", long ? h("textarea", {name, rows: 2, required: !p.optional}) : h("input", {name, required: !p.optional}));
  }

  function params(form, spec) {
    const out = {};
    for (const p of spec.params) {
      if (p.name === "proposal") {
        const amount = form.elements["proposal.amount_minor"].value;
        out.proposal = {kind: form.elements["proposal.kind"].value, text: form.elements["proposal.text"].value};
        if (amount !== "") out.proposal.amount_minor = Number(amount);
        continue;
      }
      const el = form.elements["p-" + p.name];
      if (!el || el.value === "") continue;
      out[p.name] = p.integer ? Number(el.value) : el.value;
    }
    return out;
  }

  function renderActions(c) {
    const forms = mine(c).filter((a) => a.action !== "add_evidence").map((a) => {
      const spec = catalogue[a.action] || {summary: "", params: []};
      const shown = spec.params.filter((p) => !["attachment", "evidence_id"].includes(p.name));
      const form = h("form", {class: "action", dataset: {action: a.action}},
        h("h3", {}, label(a.action)), h("p", {class: "muted"}, spec.summary, spec.rule ? ` (${spec.rule})` : "", a.guard ? ` — needs: ${a.guard}` : ""),
        shown.map(field), h("button", {type: "submit"}, label(a.action)));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (a.action === "withdraw" && !confirm("Withdraw this case? This cannot be undone.")) return;
        const btn = form.querySelector("button[type=submit]");
        btn.disabled = true;
        try {
          await api("POST", `/cases/${id}/actions`, {action: a.action, params: params(form, {params: shown}), version: current.version});
          flash(flashEl, `Done: ${label(a.action)}.`, true);
          await load();
        } catch (e) {
          flash(flashEl, e.message);
        } finally { btn.disabled = false; }
      });
      return form;
    });
    $("#actions").replaceChildren(...(forms.length ? forms : [h("p", {class: "muted"}, "Nothing for you to do in this state.")]));
    const others = merged(c.allowed.filter((a) => !a.roles.includes(myRole)));
    $("#others").replaceChildren(...(others.length ? others.map((a) => h("li", {}, h("strong", {}, label(a.action)), " by ", a.roles.map(label).join(" / "), a.guard ? h("span", {class: "muted"}, ` (if ${a.guard})`) : ""))
      : [h("li", {class: "muted"}, "Nobody: the case is in a final state or waits for a deadline.")]));
  }

  $("#evidence-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("#ev-text").value.trim(), file = $("#ev-file").files[0];
    try {
      if (file) {
        const fd = new FormData();
        fd.append("file", file);
        if (text) fd.append("text", text);
        await api("POST", `/cases/${id}/attachments`, fd);
      } else {
        const evidenceId = "stmt-" + (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36));
        await api("POST", `/cases/${id}/actions`, {action: "add_evidence", params: {evidence_id: evidenceId, text}, version: current.version});
      }
      $("#ev-text").value = ""; $("#ev-file").value = "";
      flash(flashEl, "Evidence submitted.", true);
      await load();
    } catch (e) { flash(flashEl, e.message); }
  });

  async function load() {
    current = await api("GET", `/cases/${id}`);
    $("#state").replaceChildren(badge(current.state));
    renderFacts(current);
    renderEvidence(current);
    renderActions(current);
    await renderTimeline();
  }

  load().catch((e) => flash(flashEl, e.message));
})();
