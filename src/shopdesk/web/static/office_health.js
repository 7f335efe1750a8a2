// Shop health: the live projection, past evaluations with their sessions (MET-D2), the penalty
// ledger and appeals (PEN-D1, APL-1). All data from /api/v1; refusals show the API's message.
"use strict";
(function () {
  const {api, h, $, when, day, setZone, timeEl, left, pct, dur, label, badge, flash, table} = window.Office;
  const root = $("#health");
  const shop = Number(root.dataset.shop);
  const canAppeal = root.dataset.canAppeal === "1";
  setZone(root.dataset.timezone);
  const flashEl = $("#flash");
  let appeals = [];

  function figure(name, value, note, onclick) {
    const v = onclick ? h("button", {type: "button", class: "link", onclick, title: "Show the sessions behind this figure"}, value) : value;
    return h("div", {class: "figure"}, h("span", {class: "fig-name"}, name), h("span", {class: "fig-value"}, v), note ? h("span", {class: "fig-note muted"}, note) : null);
  }

  function figures(e, sessions, what) {
    const show = (status) => () => drill(sessions, what, status);
    return [
      figure("Response rate", pct(e.response_rate), `${e.answered_in_time} answered in time of ${e.counted - (e.pending || 0)} decided`, show("answered_in_time")),
      figure("Counted sessions", e.counted, "need a manual reply", show("")),
      figure("Pending", e.pending, "deadline not passed yet", show("pending")),
      figure("Buyer messages", e.buyer_messages, `${e.sessions} sessions`),
      figure("Satisfaction", pct(e.satisfaction_rate), `${e.ratings} ratings`),
      figure("First response", dur(e.first_response_median_s), "median"),
      figure("Outcome", badge(e.outcome), e.policy_version ? `policy ${e.policy_version}` : e.policy ? `policy ${e.policy}` : ""),
    ];
  }

  function drill(sessions, what, status, csv) {
    const sec = $("#drill");
    sec.hidden = false;
    $("#drill-what").textContent = what;
    const sel = $("#drill-status");
    const counts = {};
    sessions.forEach((s) => { counts[s.status] = (counts[s.status] || 0) + 1; });
    sel.replaceChildren(h("option", {value: ""}, `all (${sessions.length})`),
      ...Object.keys(counts).sort().map((k) => h("option", {value: k}, `${label(k)} (${counts[k]})`)));
    sel.value = counts[status] ? status : "";
    const render = () => {
      const rows = sessions.filter((s) => !sel.value || s.status === sel.value).map((s) => h("tr", {},
        h("td", {}, "#" + s.conversation), h("td", {}, timeEl(s.start)), h("td", {}, timeEl(s.deadline)),
        h("td", {}, badge(s.status)), h("td", {}, timeEl(s.first_reply_at)), h("td", {}, s.first_reply_by || "—")));
      $("#drill-table").replaceChildren(table(["Conversation", "Started", "Deadline", "Status", "First reply", "By"], rows, "No sessions."));
    };
    sel.onchange = render;
    render();
    const link = $("#drill-csv");
    link.hidden = !csv;
    if (csv) { link.href = csv; link.setAttribute("download", ""); }
    sec.scrollIntoView({behavior: "smooth", block: "start"});
  }

  async function loadNow() {
    const d = await api("GET", `/shops/${shop}/diagnosis`);
    const p = d.projection;
    $("#now-window").textContent = `If evaluated now (${when(p.as_of)}): window ${when(p.window.start)} – ${when(p.window.end)}, next evaluation at the window's end.`;
    const sessions = p.sessions_detail || [];
    $("#now-figures").replaceChildren(...figures(p, sessions, "Sessions of the current window, as if evaluated now."));
    const rows = (p.open_sessions || []).map((s) => h("tr", {class: s.seconds_left < 3 * 3600 ? "urgent" : ""},
      h("td", {}, "#" + s.conversation), h("td", {}, timeEl(s.deadline)), h("td", {}, left(s.deadline))));
    $("#open-sessions").replaceChildren(table(["Conversation", "Deadline", "Time left"], rows, "No session is waiting for a reply."));
    $("#now-sessions").onclick = () => drill(sessions, "Sessions of the current window, as if evaluated now.", "");
  }

  async function openEvaluation(id) {
    const e = await api("GET", `/evaluations/${id}`);
    drill(e.sessions_detail || [], `Evaluation ${e.id}: window ${when(e.window.start)} – ${when(e.window.end)}, policy ${e.policy_version}, response rate ${pct(e.response_rate)}, ${label(e.outcome)}.`,
      "", `/api/v1/evaluations/${e.id}/sessions.csv`);
  }

  async function loadEvaluations() {
    const list = await api("GET", `/shops/${shop}/evaluations`);
    const rows = list.map((e) => h("tr", {dataset: {evaluation: e.id}},
      h("td", {}, timeEl(e.scheduled_for)),
      h("td", {}, `${day(e.window.start)} – ${day(e.window.end)}`),
      h("td", {}, e.policy_version),
      h("td", {}, pct(e.response_rate)), h("td", {}, `${e.answered_in_time}/${e.counted}`),
      h("td", {}, pct(e.satisfaction_rate)), h("td", {}, badge(e.outcome)),
      h("td", {}, h("button", {type: "button", class: "link", onclick: () => openEvaluation(e.id).catch((x) => flash(flashEl, x.message))}, "Sessions"), " · ",
        h("a", {href: `/api/v1/evaluations/${e.id}/sessions.csv`, download: ""}, "CSV"))));
    $("#evaluations").replaceChildren(table(["Evaluated", "Window", "Policy", "Response rate", "In time / counted", "Satisfaction", "Outcome", ""], rows, "No evaluation yet."));
  }

  async function loadLedger() {
    const [led, aps] = await Promise.all([api("GET", `/shops/${shop}/ledger`), api("GET", `/appeals?shop=${shop}`)]);
    appeals = aps;
    const hl = led.health;
    $("#ledger-health").replaceChildren(h("strong", {}, `${hl.violation_points} violation point${hl.violation_points === 1 ? "" : "s"}`),
      hl.sanctions.length ? ` · sanctions: ${hl.sanctions.map(label).join(", ")}` : " · no sanctions in force");
    const pending = new Set(aps.filter((a) => a.status === "pending").map((a) => a.entry));
    const rows = led.entries.map((e) => {
      let action = "";
      if (e.kind === "reversal") action = h("span", {class: "muted"}, `reverses #${e.reverses}`);
      else if (e.reversed_by) action = h("span", {class: "muted"}, `reversed by #${e.reversed_by}`);
      else if (pending.has(e.id)) action = h("span", {class: "muted"}, "appeal pending");
      else if (canAppeal) action = h("button", {type: "button", class: "small", dataset: {entry: e.id}, onclick: () => openAppeal(e)}, "Appeal");
      return h("tr", {class: e.reversed_by ? "reversed" : "", dataset: {entry: e.id}},
        h("td", {}, "#" + e.id), h("td", {}, timeEl(e.at)), h("td", {}, badge(e.kind)), h("td", {}, e.rule || "—"),
        h("td", {class: "num"}, e.points), h("td", {}, e.reason || ""),
        h("td", {}, e.evaluation ? h("button", {type: "button", class: "link", onclick: () => openEvaluation(e.evaluation).catch((x) => flash(flashEl, x.message))}, `evaluation ${e.evaluation}`) : e.message ? `message ${e.message}` : "—"),
        h("td", {}, action));
    });
    $("#ledger").replaceChildren(table(["Entry", "At", "Kind", "Rule", "Points", "Reason", "Source", ""], rows, "No warnings or violations. Well done."));
    const arows = aps.slice().reverse().map((a) => h("tr", {dataset: {appeal: a.id}},
      h("td", {}, "#" + a.id), h("td", {}, "#" + a.entry), h("td", {}, timeEl(a.created_at)), h("td", {}, a.reason),
      h("td", {}, a.evidence.length ? a.evidence.map((id) => h("a", {href: `/api/v1/attachments/${id}`, target: "_blank", rel: "noopener"}, `file ${id}`)).reduce((acc, x) => acc.concat(acc.length ? [", ", x] : [x]), []) : "—"),
      h("td", {}, badge(a.status)), h("td", {}, a.decision_reason || ""), h("td", {}, timeEl(a.decided_at))));
    $("#appeals").replaceChildren(table(["Appeal", "Entry", "Filed", "Reason", "Evidence", "Status", "Decision", "Decided"], arows, "No appeals."));
  }

  // rule APL-1: an appeal of a ledger entry with a reason and evidence the seller uploads.
  let appealEntry = null;
  const dialog = $("#appeal-dialog");
  function openAppeal(e) {
    appealEntry = e;
    $("#appeal-entry").textContent = "#" + e.id;
    $("#appeal-summary").textContent = `${label(e.kind)} ${e.rule || ""} · ${e.points} point(s) · ${e.reason || ""}`;
    $("#appeal-reason").value = "";
    $("#appeal-files").value = "";
    flash($("#appeal-flash"), "");
    dialog.showModal();
  }
  $("#appeal-cancel").onclick = () => dialog.close();
  $("#appeal-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = $("#appeal-submit");
    btn.disabled = true;
    try {
      const evidence = [];
      for (const f of $("#appeal-files").files) {
        const fd = new FormData();
        fd.append("file", f);
        evidence.push((await api("POST", "/attachments", fd)).id);
      }
      const a = await api("POST", `/ledger/${appealEntry.id}/appeals`, {reason: $("#appeal-reason").value, evidence});
      dialog.close();
      flash(flashEl, `Appeal #${a.id} filed; platform staff will review it.`, true);
      await loadLedger();
    } catch (e) {
      flash($("#appeal-flash"), e.message);
    } finally {
      btn.disabled = false;
    }
  });

  const fail = (e) => flash(flashEl, e.message);
  loadNow().catch(fail);
  loadEvaluations().catch(fail);
  loadLedger().catch(fail);
})();
