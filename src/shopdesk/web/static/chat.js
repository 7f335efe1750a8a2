// Shared by the buyer's chat (buyer.js) and the agents' inbox (inbox.js): the API client with
// the platform's JSON error shape, the message thread and the WebSocket that pushes messages.
// Messages are keyed by seq per conversation, so a replay never shows twice.

const csrf = document.querySelector('meta[name="csrf-token"]').content;

export const el = (id) => document.getElementById(id);

export class ApiError extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data;
    this.code = data && data.code;
  }
}

function sentence(text) {
  const t = text.trim();
  if (!t) return t;
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?。！？]$/.test(s) ? s : s + ".";
}

/** A message for people from an API error (`{"code", "message", ...}`). */
export function errorText(status, data) {
  if (status === 401) return "Your session has ended. Log in again to continue.";
  if (data && typeof data.message === "string" && data.message) return sentence(data.message);
  if (status === 413) return "That file is too large.";
  if (status === 429) return "Too many requests. Wait a moment and try again.";
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

export async function api(method, path, body, {signal, form} = {}) {
  const headers = {"X-CSRF-Token": csrf};
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch("/api/v1" + path, {
      method, credentials: "same-origin", headers, signal,
      body: form || (body !== undefined ? JSON.stringify(body) : undefined),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("Could not reach the server. Check your connection and try again.", 0, null);
  }
  let data = null;
  if (res.status !== 204) {
    const raw = await res.text();
    try { data = raw ? JSON.parse(raw) : null; } catch { data = null; }
  }
  if (!res.ok) throw new ApiError(errorText(res.status, data), res.status, data);
  return {data, res};
}

export function showError(node, err) {
  if (!node) return;
  if (!err) { node.hidden = true; node.textContent = ""; return; }
  node.textContent = err instanceof ApiError ? err.message : String(err.message || err);
  node.hidden = false;
  if (err instanceof ApiError && err.status === 401) {
    const a = document.createElement("a");
    a.href = "/login"; a.textContent = " Log in";
    node.append(a);
  }
}

export const newClientId = () =>
  crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;

export function formatWhen(iso) {
  return new Date(iso).toLocaleString(undefined, {
    weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

const AUTO_LABELS = {
  card: "Automatic reply · FAQ",
  chatbot: "Automatic reply",
  out_of_hours: "Automatic reply · outside business hours",
};

/** The messages of one conversation, in seq order, each shown once. */
export class Thread {
  constructor(list, {me, viewer, decorate, onAdd} = {}) {
    this.list = list;
    this.me = me;
    this.viewer = viewer;        // "buyer" or "team"
    this.decorate = decorate;    // (li, message) => void, for per-page extras
    this.onAdd = onAdd;          // (message) => void
    this.conversation = null;
    this.last = 0;
  }

  reset(conversationId) {
    this.conversation = conversationId;
    this.last = 0;
    this.list.replaceChildren();
  }

  who(m) {
    if (m.author === this.me) return "You";
    if (m.sender === "buyer") return m.author_name || "Buyer";
    if (m.sender === "agent") return m.author_name || "Shop";
    if (m.sender === "bot") {
      const via = m.payload && m.payload.kb && m.payload.kb.via;
      return AUTO_LABELS[via] || "Automatic reply";
    }
    return "Platform";
  }

  render(m) {
    const li = document.createElement("li");
    li.className = `msg ${m.sender}` + (m.author === this.me ? " mine" : "");
    li.dataset.seq = m.seq;
    li.dataset.id = m.id;
    li.dataset.testid = "message";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = this.who(m);
    if (m.sender === "bot") {
      const badge = document.createElement("span");
      badge.className = "badge auto";
      badge.textContent = "auto";
      badge.title = "Sent automatically, not by a person";
      who.append(" ", badge);
    }
    const body = document.createElement("span");
    body.className = "text";
    if (m.kind === "image" && m.attachment) {
      const img = document.createElement("img");
      img.src = `/api/v1/attachments/${m.attachment}`;
      img.alt = `Image from ${this.who(m)}`;
      img.loading = "lazy";
      body.append(img);
    } else {
      body.textContent = m.text || `[${m.kind}]`;
    }
    const at = document.createElement("time");
    at.dateTime = m.at;
    at.textContent = new Date(m.at).toLocaleString();
    li.append(who, body, at);
    // The seller learns discreetly that a delivered message went to platform review (SCR-D1).
    if (m.flagged && this.viewer === "team" && m.sender === "agent") {
      const note = document.createElement("span");
      note.className = "flag-note";
      note.textContent = "Delivered · flagged for platform review";
      li.append(note);
    }
    if (this.decorate) this.decorate(li, m);
    return li;
  }

  add(m) {
    if (m.conversation !== this.conversation || m.seq <= this.last) return false;
    this.last = m.seq;
    const li = this.render(m);
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
    if (this.onAdd) this.onAdd(m);
    return true;
  }

  async catchUp() {
    const conv = this.conversation;
    for (;;) {
      const {data} = await api("GET", `/conversations/${conv}/messages?after_seq=${this.last}&limit=500`);
      if (conv !== this.conversation) return;  // switched meanwhile
      data.forEach((m) => this.add(m));
      if (data.length < 500) return;
    }
  }

  /** A pushed message: a gap means we missed some while away, so fetch rather than reorder. */
  onFrame(frame) {
    if (frame.conversation !== this.conversation) return;
    if (frame.message.seq > this.last + 1) this.catchUp().catch(() => {});
    else this.add(frame.message);
  }
}

/** Keep a WebSocket open (reconnecting with back-off); 4401 means the login has ended. */
export function connectLive(onFrame, {onOpen, onAuthLost} = {}) {
  let delay = 1000;
  const open = () => {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/ws`);
    ws.onopen = () => { delay = 1000; document.body.dataset.live = "1"; if (onOpen) onOpen(); };
    ws.onmessage = (ev) => {
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      onFrame(frame);
    };
    ws.onclose = (ev) => {
      document.body.dataset.live = "0";
      if (ev.code === 4401) { if (onAuthLost) onAuthLost(); return; }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    };
  };
  open();
}
