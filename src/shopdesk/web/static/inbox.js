// The agents' inbox: queues (waiting, mine, unassigned, answered only automatically — KB-6),
// each open session's reply deadline and time left with the list sorted by it (MET-D2, EV-5),
// take / release / transfer / close, suggested replies (KB-5), screening in the composer
// (SCR-D1) and reporting an abusive buyer message (SCR-12).
import {api, ApiError, connectLive, el, formatWhen, newClientId, showError, Thread} from "./chat.js";
import {Composer} from "./composer.js";

const root = el("inbox");
const me = Number(root.dataset.me);
const shops = new Map(JSON.parse(el("inbox-shops").textContent).map((s) => [s.id, s]));
const TEAM_ROLES = new Set(["owner", "admin", "agent"]);
const pageError = el("page-error");

let conversations = [];  // as listed by the API
let current = null;      // the open conversation (its list entry)

// --- deadlines ------------------------------------------------------------------------------
// The shop diagnosis projects the current window as if evaluated now: every session with its
// deadline and status (EV-5, EV-7). An open session is one still waiting for a human reply:
// `pending` before its deadline, `unanswered` after it (overdue).

const deadlines = new Map();  // conversation id -> {shop, at: deadline in ms, server clock}
const deadlineErrors = new Map();  // shop id -> why its deadlines are missing
const skew = new Map();       // shop id -> server clock minus browser clock (ms)
const diagnosisState = new Map();  // shop id -> {busy, again, timer, last}
// The projection evaluates the shop's whole window; a busy inbox asks at most every 5 s.
const DIAGNOSIS_MIN_INTERVAL_MS = 5000;

function serverNow(shopId) {
  return Date.now() + (skew.get(shopId) || 0);
}

function loadDeadlines(shopId) {
  let state = diagnosisState.get(shopId);
  if (!state) diagnosisState.set(shopId, state = {busy: false, again: false, timer: null, last: 0});
  if (state.busy) { state.again = true; return; }
  if (state.timer) return;
  const wait = state.last + DIAGNOSIS_MIN_INTERVAL_MS - Date.now();
  if (wait > 0) {
    state.timer = setTimeout(() => { state.timer = null; loadDeadlines(shopId); }, wait);
    return;
  }
  state.busy = true;
  state.last = Date.now();
  fetchDeadlines(shopId).finally(() => {
    state.busy = false;
    if (state.again) { state.again = false; loadDeadlines(shopId); }
    renderList();
  });
}

async function fetchDeadlines(shopId) {
  try {
    const asked = Date.now();
    const {data} = await api("GET", `/shops/${shopId}/diagnosis`);
    const proj = data.projection;
    skew.set(shopId, Date.parse(proj.as_of) - (asked + Date.now()) / 2);
    for (const [id, d] of deadlines) if (d.shop === shopId) deadlines.delete(id);
    const latestStart = new Map();
    for (const s of proj.sessions_detail || []) {
      if (s.first_reply_at || !(s.status === "pending" || s.status === "unanswered")) continue;
      const id = Number(s.conversation), start = Date.parse(s.start);
      if ((latestStart.get(id) ?? -Infinity) > start) continue;
      latestStart.set(id, start);
      deadlines.set(id, {shop: shopId, at: Date.parse(s.deadline)});
    }
    deadlineErrors.delete(shopId);
  } catch (e) {
    const shop = shops.get(shopId);
    deadlineErrors.set(shopId,
      `Reply deadlines for ${shop ? shop.name : "shop " + shopId} are unavailable: ${e.message}`);
  }
}

/** Milliseconds left to answer the open session (negative when overdue), or null. */
function timeLeft(c) {
  if (!c.waiting_since || !deadlines.has(c.id)) return null;
  return deadlines.get(c.id).at - serverNow(c.shop);
}

function duration(ms) {
  const min = Math.floor(Math.abs(ms) / 60000);
  const d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60), m = min % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m` : "under a minute";
}

function dueText(c) {
  const left = timeLeft(c);
  if (left == null) return null;
  const due = formatWhen(new Date(deadlines.get(c.id).at).toISOString());
  return left >= 0 ? `${duration(left)} left · due ${due}` : `overdue by ${duration(left)} · was due ${due}`;
}

// The order agents work in: the least time left first (overdue at the top); then waiting
// conversations without a known deadline, longest wait first; then the rest as listed (most
// recent activity first).
function sorted(list) {
  const rank = (c) => {
    const left = timeLeft(c);
    if (left != null) return [0, left];
    if (c.waiting_since) return [1, Date.parse(c.waiting_since)];
    return [2, 0];
  };
  return list
    .map((c, i) => ({c, i, r: rank(c)}))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.c);
}

// --- the list -------------------------------------------------------------------------------

function buyerName(c) {
  return c.buyer_name || `Buyer ${c.buyer}`;
}

function badge(text, cls, title) {
  const b = document.createElement("span");
  b.className = `badge ${cls}`;
  b.textContent = text;
  if (title) b.title = title;
  return b;
}

function assignmentText(c) {
  if (c.assigned_agent == null) return "Unassigned";
  if (c.assigned_agent === me) return "Assigned to you";
  return `Assigned to ${memberName(c.shop, c.assigned_agent)}`;
}

function renderList() {
  const ul = el("conversations");
  const list = sorted(conversations);
  // Re-rendering must not take keyboard focus away from the conversation it was on.
  const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.conversation : null;
  ul.replaceChildren(...list.map((c) => {
    const li = document.createElement("li");
    const left = timeLeft(c);
    li.className = "conv" + (left != null && left < 0 ? " overdue" : "") +
      (left != null && left >= 0 && left < 2 * 3600e3 ? " soon" : "");
    const a = document.createElement("a");
    a.href = `#conversation-${c.id}`;
    a.dataset.conversation = c.id;
    a.dataset.testid = "conversation";
    if (current && c.id === current.id) { a.className = "active"; a.setAttribute("aria-current", "true"); }
    const name = document.createElement("span");
    name.className = "conv-name";
    name.textContent = buyerName(c);
    a.append(name);
    if (shops.size > 1) {
      const shop = document.createElement("span");
      shop.className = "muted small";
      shop.textContent = ` · ${(shops.get(c.shop) || {}).name || "shop " + c.shop}`;
      a.append(shop);
    }
    const badges = document.createElement("span");
    badges.className = "badges";
    if (c.waiting_since) badges.append(badge("waiting", "waiting", `Waiting since ${formatWhen(c.waiting_since)}`));
    if (c.auto_only) badges.append(badge("answered automatically", "auto", "Only the chatbot or an FAQ card answered; check the answer and add to it (KB-6)"));
    if (c.handed_over) badges.append(badge("asked for a person", "handover"));
    if (c.assigned_agent === me) badges.append(badge("yours", "mine"));
    else if (c.assigned_agent == null && c.waiting_since) badges.append(badge("unassigned", "unassigned"));
    a.append(badges);
    const due = dueText(c);
    if (due) {
      const d = document.createElement("span");
      d.className = "due";
      d.dataset.testid = "time-left";
      d.textContent = due;
      a.append(d);
    }
    a.addEventListener("click", (ev) => { ev.preventDefault(); openConversation(c); });
    li.append(a);
    return li;
  }));
  if (focused) { const a = ul.querySelector(`a[data-conversation="${focused}"]`); if (a) a.focus(); }
  const status = el("list-status");
  const n = list.length;
  const err = [...deadlineErrors.values()].join(" ");
  status.textContent = (n ? `${n} conversation${n === 1 ? "" : "s"}, least time to reply first.` :
    "No conversations in this queue.") + (err ? " " + err : "");
  if (current) {
    const fresh = conversations.find((c) => c.id === current.id);
    if (fresh) { current = fresh; renderHeader(); }
  }
}

let listTimer = null;
function scheduleList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadConversations().catch((e) => showError(pageError, e)), 300);
}

async function loadConversations() {
  const q = el("queue").value;
  const shopFilter = el("shop-filter") ? el("shop-filter").value : "";
  const {data} = await api("GET", `/conversations?queue=${q}&limit=200` + (shopFilter ? `&shop=${shopFilter}` : ""));
  conversations = data;
  renderList();
  // Deadlines only matter where someone is waiting; staff see every shop, so ask only there.
  const waitingShops = new Set(data.filter((c) => c.waiting_since).map((c) => c.shop));
  for (const shopId of waitingShops) loadDeadlines(shopId);
}

// --- the open conversation ------------------------------------------------------------------

const teams = new Map();  // shop id -> members

async function loadTeam(shopId) {
  if (!teams.has(shopId)) {
    const {data} = await api("GET", `/shops/${shopId}/team`);
    teams.set(shopId, data);
  }
  return teams.get(shopId);
}

function memberName(shopId, userId) {
  const m = (teams.get(shopId) || []).find((x) => x.user === userId);
  return m ? (m.name || m.username) : `agent ${userId}`;
}

function role(c) {
  return (shops.get(c.shop) || {}).role;
}

function renderHeader() {
  const c = current;
  el("conv-title").textContent = buyerName(c);
  const parts = [];
  if (shops.size > 1) parts.push((shops.get(c.shop) || {}).name);
  if (c.waiting_since) parts.push(`waiting since ${formatWhen(c.waiting_since)}`);
  const due = dueText(c);
  if (due) parts.push(due);
  if (c.auto_only) parts.push("answered only automatically — check the answer");
  if (c.handed_over) parts.push("asked for a person");
  parts.push(assignmentText(c).toLowerCase());
  el("conv-meta").textContent = parts.filter(Boolean).join(" · ");
  const team = TEAM_ROLES.has(role(c));
  el("conv-actions").hidden = !team;
  if (!team) return;
  el("take").hidden = c.assigned_agent === me;
  el("release").hidden = !(c.assigned_agent === me || (c.assigned_agent != null && role(c) !== "agent"));
  const select = el("transfer-to");
  const others = (teams.get(c.shop) || []).filter((m) => m.user !== me && m.user !== c.assigned_agent);
  const keep = select.value;
  select.replaceChildren(...others.map((m) => {
    const o = document.createElement("option");
    o.value = m.user;
    o.textContent = `${m.name || m.username}${m.online ? " (online)" : ""}`;
    return o;
  }));
  if (others.some((m) => String(m.user) === keep)) select.value = keep;
  el("transfer").disabled = !others.length;
}

async function act(path, body, done) {
  showError(pageError, null);
  try {
    const {data} = await api("POST", `/conversations/${current.id}/${path}`, body);
    current = {...current, ...data};
    conversations = conversations.map((c) => (c.id === current.id ? current : c));
    renderHeader();
    renderList();
    el("action-status").textContent = typeof done === "function" ? done(data) : done;
    scheduleList();
  } catch (e) {
    showError(pageError, e);
  }
}

const thread = new Thread(el("messages"), {
  me,
  viewer: "team",
  decorate: (li, m) => {
    if (m.sender === "buyer" && current && TEAM_ROLES.has(role(current))) li.append(reportButton(m, li));
  },
  onAdd: (m) => { if (m.sender === "buyer") scheduleSuggestions(); },
});

const composer = new Composer({
  // Platform staff are not screened on the send path, so their drafts are not checked either.
  liveCheck: () => Boolean(current) && TEAM_ROLES.has(role(current)),
  conversation: () => current && current.id,
  send: async (text) => {
    const {data} = await api("POST", `/conversations/${current.id}/messages`,
      {client_id: newClientId(), kind: "text", text});
    thread.add(data);
    scheduleList();
    return data;
  },
});

async function openConversation(c) {
  const previous = current && current.id;
  current = c;
  history.replaceState(null, "", `#conversation-${c.id}`);
  showError(pageError, null);
  el("action-status").textContent = "";
  thread.reset(c.id);
  composer.switchTo(previous, c.id);
  renderList();
  renderHeader();
  lastSuggestedFor = null;
  el("suggestions").hidden = true;
  try {
    if (TEAM_ROLES.has(role(c))) await loadTeam(c.shop).then(renderHeader);
    await thread.catchUp();
  } catch (e) {
    showError(pageError, e);
  }
}

// --- suggested replies (KB-5) ---------------------------------------------------------------

let lastSuggestedFor = null;  // the buyer message the suggestions answer
let suggestionsTimer = null;

function scheduleSuggestions() {
  clearTimeout(suggestionsTimer);
  suggestionsTimer = setTimeout(() => loadSuggestions().catch(() => {}), 150);
}

async function loadSuggestions() {
  if (!current) return;
  const convId = current.id;
  const {data} = await api("GET", `/conversations/${convId}/suggestions`);
  if (!current || current.id !== convId || !data.message) return;
  if (lastSuggestedFor === data.message.id) return;
  lastSuggestedFor = data.message.id;
  const box = el("suggestions");
  el("suggestions-for").textContent = `For: “${data.message.text.slice(0, 120)}”`;
  const shown = data.suggestions.map((s) => s.entry);
  const ul = el("suggestion-list");
  if (!data.suggestions.length) {
    const li = document.createElement("li");
    li.className = "muted small";
    li.textContent = "Nothing in the knowledge base matches this message.";
    ul.replaceChildren(li);
  } else {
    ul.replaceChildren(...data.suggestions.map((s) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "suggestion";
      b.dataset.entry = s.entry;
      const q = document.createElement("span");
      q.className = "q";
      q.textContent = s.question;
      const a = document.createElement("span");
      a.className = "a";
      a.textContent = s.answer;
      b.append(q, a);
      b.setAttribute("aria-label", `Use this reply: ${s.answer}`);
      b.addEventListener("click", () => choose(convId, s, shown));
      li.append(b);
      return li;
    }));
  }
  box.hidden = false;
}

async function choose(convId, s, shown) {
  composer.fill(s.answer);
  // The choice improves future rankings (KB-5); the agent's draft does not wait for it.
  try {
    await api("POST", `/conversations/${convId}/suggestions/${encodeURIComponent(s.entry)}/chosen`, {shown});
  } catch (e) {
    showError(pageError, e);
  }
}

// --- reporting a buyer message (SCR-12) -----------------------------------------------------

const dialog = el("report-dialog");
let reporting = null;  // {message, li, button}

function reportButton(m, li) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "link report";
  b.textContent = "Report";
  b.setAttribute("aria-label", `Report this message from ${m.author_name || "the buyer"}`);
  b.addEventListener("click", () => {
    reporting = {message: m, li, button: b};
    el("report-form").reset();
    showError(el("report-error"), null);
    el("report-quote").textContent = m.text || `[${m.kind}]`;
    dialog.showModal();
  });
  return b;
}

async function submitReport(ev) {
  ev.preventDefault();
  const form = el("report-form");
  const reason = form.querySelector("input[name=reason]:checked");
  const err = el("report-error");
  if (!reason) { showError(err, new Error("Pick a reason for the report.")); return; }
  showError(err, null);
  const submit = el("report-submit");
  submit.disabled = true;
  try {
    const evidence = [];
    for (const file of el("report-evidence").files) {
      const body = new FormData();
      body.append("file", file);
      const {data} = await api("POST", "/attachments", undefined, {form: body});
      evidence.push(data.id);
    }
    await api("POST", `/messages/${reporting.message.id}/report`,
      {reason: reason.value, note: el("report-note").value, evidence});
    markReported(reporting);
    dialog.close();
  } catch (e) {
    if (e instanceof ApiError && e.code === "already_reported") markReported(reporting);
    showError(err, e);
  } finally {
    submit.disabled = false;
  }
}

function markReported({li, button}) {
  const note = document.createElement("span");
  note.className = "flag-note";
  note.textContent = "Reported · the platform will review it";
  button.replaceWith(note);
  li.dataset.reported = "1";
}

el("report-form").addEventListener("submit", submitReport);
el("report-cancel").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  if (reporting && reporting.button.isConnected) reporting.button.focus();
});

// --- wiring ---------------------------------------------------------------------------------

el("take").addEventListener("click", () => act("take", undefined, "You took this conversation."));
el("release").addEventListener("click", () => act("release", undefined, (c) =>
  // Releasing re-runs round-robin assignment; an online agent with room may get it straight back.
  c.assigned_agent === me ? "Released, and assigned back to you: you are the online agent with room for it." :
    "Conversation released."));
el("close-session").addEventListener("click", () => act("close", undefined, "Session closed."));
el("transfer").addEventListener("click", () => {
  const to = Number(el("transfer-to").value);
  if (!to) return;
  act("transfer", {agent: to}, `Transferred to ${memberName(current.shop, to)}.`);
});
el("queue").addEventListener("change", scheduleList);
if (el("shop-filter")) el("shop-filter").addEventListener("change", scheduleList);
// Time left moves on its own; repaint the labels (and the order) every half minute.
setInterval(renderList, 30000);

loadConversations()
  .then(() => {
    const wanted = Number((location.hash.match(/^#conversation-(\d+)$/) || [])[1]);
    const c = conversations.find((x) => x.id === wanted);
    if (c) openConversation(c);
  })
  .catch((e) => showError(pageError, e))
  .then(() => connectLive((f) => {
    if (f.type !== "message") return;
    thread.onFrame(f);
    scheduleList();
  }, {
    onOpen: () => { if (current) thread.catchUp().catch(() => {}); scheduleList(); },
    onAuthLost: () => showError(pageError, new Error("Your session has ended. Log in again to continue.")),
  }));
