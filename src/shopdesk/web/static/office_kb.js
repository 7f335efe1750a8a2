// Knowledge base management (KB-1…KB-4): entries, greeting and FAQ cards, import/export.
// Agents get the same page without the editing controls (TEAM-2); the API refuses them anyway.
"use strict";
(function () {
  const {api, h, $, label, badge, flash, table, tabs} = window.Office;
  const root = $("#kb");
  const shop = Number(root.dataset.shop);
  const canEdit = root.dataset.canEdit === "1";
  const maxCards = Number(root.dataset.maxCards);
  const flashEl = $("#flash");
  const base = `/shops/${shop}/kb`;
  let entries = [];
  let shown = []; // the entries the category and language filters select, filtered by the API
  let cards = [];
  let editing = null; // entry being edited, null for a new one

  const fail = (e) => flash(flashEl, e.message);

  function stats(s) {
    const avg = s.rated ? (s.rating_sum / s.rated).toFixed(1) : "—";
    return h("dl", {class: "stats"},
      [["shown", s.shown], ["tapped", s.tapped], ["auto-answered", s.auto_answered], ["handed over after", s.handed_over], ["avg rating", avg]]
        .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
  }

  function actions(e) {
    if (!canEdit) return "";
    const act = (name, fn, cls) => h("button", {type: "button", class: "small " + (cls || "secondary"), dataset: {action: name}, onclick: () => fn(e).catch(fail)}, name);
    return h("div", {class: "row-actions"},
      act("Edit", async () => openEditor(e)),
      act(e.enabled ? "Disable" : "Enable", (x) => save(x.id, {enabled: !x.enabled}, `${x.enabled ? "Disabled" : "Enabled"} “${x.question}”.`)),
      e.preset ? act("Reset to preset", async (x) => {
        if (!confirm(`Reset “${x.question}” to the platform preset? Your wording is replaced; statistics are kept.`)) return;
        await api("POST", `${base}/entries/${encodeURIComponent(x.id)}/reset`);
        flash(flashEl, `“${x.question}” is back to the preset.`, true);
        await loadEntries();
      }) : null,
      act("Delete", async (x) => {
        if (!confirm(`Delete “${x.question}”? This cannot be undone (export first to keep a copy).`)) return;
        await api("DELETE", `${base}/entries/${encodeURIComponent(x.id)}`);
        flash(flashEl, `Deleted “${x.question}”.`, true);
        await loadEntries();
      }, "danger"));
  }

  function render() {
    const q = $("#f-text").value.trim().toLowerCase(), showDisabled = $("#f-disabled").checked;
    const rows = shown.filter((e) => (showDisabled || e.enabled) &&
      (!q || [e.question, e.answer, ...e.similar].some((t) => t.toLowerCase().includes(q)))
    ).map((e) => h("tr", {class: e.enabled ? "" : "disabled", dataset: {entry: e.id}},
      h("td", {}, h("details", {},
        h("summary", {}, e.question, e.similar.length ? h("span", {class: "muted"}, ` (+${e.similar.length} phrasings)`) : ""),
        e.similar.length ? h("ul", {class: "similar"}, e.similar.map((s) => h("li", {}, s))) : null,
        h("p", {class: "answer"}, e.answer))),
      h("td", {}, label(e.category)), h("td", {}, e.lang || "any"),
      h("td", {}, e.enabled ? "enabled" : badge("disabled"), e.preset ? h("span", {class: "muted", title: e.preset}, " · preset") : ""),
      h("td", {}, stats(e.stats)), h("td", {}, actions(e))));
    const sum = (k) => entries.reduce((n, e) => n + (e.stats[k] || 0), 0);
    $("#kb-usage").textContent = `${entries.length} entries (${entries.filter((e) => e.enabled).length} enabled). ` +
      `All time: shown ${sum("shown")}, tapped ${sum("tapped")}, answered automatically ${sum("auto_answered")}, handed over after ${sum("handed_over")}.`;
    $("#entries").replaceChildren(table(["Question", "Category", "Language", "State", "Usage", ""], rows, "No entry matches."));
  }

  async function loadEntries() {
    entries = await api("GET", `${base}/entries`);
    const langs = [...new Set(entries.map((e) => e.lang).filter(Boolean))].sort();
    const sel = $("#f-lang"), keep = sel.value;
    sel.replaceChildren(h("option", {value: ""}, "all"), ...langs.map((l) => h("option", {value: l}, l)));
    sel.value = langs.includes(keep) ? keep : "";
    await loadShown();
    renderCards();
  }

  async function loadShown() {
    const q = new URLSearchParams({category: $("#f-category").value});
    if ($("#f-lang").value) q.set("language", $("#f-lang").value);
    shown = await api("GET", `${base}/entries?${q}`);
    render();
  }

  async function save(id, patch, message) {
    await api("PUT", `${base}/entries/${encodeURIComponent(id)}`, patch);
    flash(flashEl, message, true);
    await loadEntries();
  }

  // --- editor ---------------------------------------------------------------------------
  function openEditor(e) {
    editing = e;
    $("#entry-h").textContent = e ? "Edit entry" : "New entry";
    $("#e-category").value = e ? e.category : "pre_sale";
    $("#e-lang").value = e ? (e.lang || "") : "";
    $("#e-enabled").checked = e ? e.enabled : true;
    $("#e-question").value = e ? e.question : "";
    $("#e-similar").value = e ? e.similar.join("\n") : "";
    $("#e-answer").value = e ? e.answer : "";
    flash($("#entry-flash"), "");
    $("#entry-dialog").showModal();
  }

  if (canEdit) {
    $("#new-entry").onclick = () => openEditor(null);
    $("#entry-cancel").onclick = () => $("#entry-dialog").close();
    $("#entry-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {
        category: $("#e-category").value,
        lang: $("#e-lang").value.trim() || null,
        enabled: $("#e-enabled").checked,
        question: $("#e-question").value,
        similar: $("#e-similar").value.split("\n").map((s) => s.trim()).filter(Boolean),
        answer: $("#e-answer").value,
      };
      try {
        if (editing) await api("PUT", `${base}/entries/${encodeURIComponent(editing.id)}`, body);
        else await api("POST", `${base}/entries`, body);
        $("#entry-dialog").close();
        flash(flashEl, `Saved “${body.question}”.`, true);
        await loadEntries();
      } catch (e) {
        flash($("#entry-flash"), e.message);
      }
    });
  }

  // --- greeting and cards (KB-4) ----------------------------------------------------------
  function renderCards() {
    const byId = new Map(entries.map((e) => [e.id, e]));
    const list = $("#cards");
    list.replaceChildren(...cards.map((id, i) => {
      const e = byId.get(id);
      return h("li", {dataset: {entry: id}}, e ? e.question : id, e && !e.enabled ? h("span", {class: "muted"}, " (disabled: not shown)") : "",
        canEdit ? h("span", {class: "row-actions"},
          h("button", {type: "button", class: "small secondary", disabled: i === 0, onclick: () => { cards.splice(i - 1, 0, cards.splice(i, 1)[0]); renderCards(); }}, "Up"),
          h("button", {type: "button", class: "small secondary", onclick: () => { cards.splice(i, 1); renderCards(); }}, "Remove")) : "");
    }));
    if (!cards.length) list.append(h("li", {class: "muted"}, "No cards picked: buyers see the best presets for their language."));
    if (canEdit) {
      const sel = $("#card-add");
      sel.replaceChildren(...entries.filter((e) => e.enabled && !cards.includes(e.id))
        .map((e) => h("option", {value: e.id}, `${e.question} (${label(e.category)}${e.lang ? ", " + e.lang : ""})`)));
      $("#card-add-btn").disabled = cards.length >= maxCards || !sel.options.length;
    }
  }

  async function loadCards() {
    const c = await api("GET", `${base}/cards`);
    $("#greeting").value = c.greeting || "";
    cards = c.cards.slice();
    renderCards();
  }

  if (canEdit) {
    $("#card-add-btn").onclick = () => { const v = $("#card-add").value; if (v && cards.length < maxCards) { cards.push(v); renderCards(); } };
    $("#cards-save").onclick = async () => {
      try {
        const c = await api("PUT", `${base}/cards`, {greeting: $("#greeting").value, cards});
        cards = c.cards.slice();
        renderCards();
        flash(flashEl, "Greeting and cards saved.", true);
      } catch (e) { fail(e); }
    };
    $("#import-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const file = $("#import-file").files[0];
      if (!file) return;
      const mode = $("#import-mode").value;
      if (mode === "replace" && !confirm("Replace: entries the file does not list are deleted. Continue?")) return;
      try {
        const r = await api("POST", `${base}/import?mode=${mode}`, await file.text(), {type: "application/x-ndjson"});
        flash(flashEl, `Imported: ${r.created} created, ${r.updated} updated, ${r.deleted} deleted; ${r.entries} entries now.`, true);
        await loadEntries();
      } catch (e) { fail(e); }
    });
  }

  for (const id of ["#f-category", "#f-lang"]) $(id).addEventListener("change", () => loadShown().catch(fail));
  for (const id of ["#f-text", "#f-disabled"]) $(id).addEventListener("input", render);
  tabs(root);
  loadEntries().then(loadCards).catch(fail);
})();
