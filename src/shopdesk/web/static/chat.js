// Live chat for the buyer page and the agents' inbox: REST to send and catch up, a WebSocket
// for push. Messages are keyed by seq per conversation, so a replay never shows twice.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const api = async (method, path, body) => {
    const res = await fetch("/api/v1" + path, {
      method, credentials: "same-origin",
      headers: Object.assign({"X-CSRF-Token": csrf}, body ? {"Content-Type": "application/json"} : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? null : await res.json();
    if (!res.ok) { const e = new Error(data && data.message || res.statusText); e.data = data; e.status = res.status; throw e; }
    return {data, res};
  };
  const el = (id) => document.getElementById(id);
  const seen = new Map();   // conversation id -> highest seq shown
  let current = null;       // conversation shown
  const buyerRoot = el("buyer-chat"), inboxRoot = el("inbox");
  const me = Number((buyerRoot || inboxRoot).dataset.me);

  function showMessage(m) {
    if (m.conversation !== current) return;
    const last = seen.get(m.conversation) || 0;
    if (m.seq <= last) return;
    seen.set(m.conversation, m.seq);
    const li = document.createElement("li");
    const mine = m.author === me;
    li.className = "msg " + m.sender + (mine ? " mine" : "");
    li.dataset.seq = m.seq;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = mine ? "You" : (m.sender === "buyer" ? "Buyer" : m.sender === "agent" ? (m.author_name || "Shop") : m.sender === "bot" ? "Automatic reply" : "Platform");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = m.kind === "image" ? "[image]" : m.text;
    const at = document.createElement("time");
    at.dateTime = m.at; at.textContent = new Date(m.at).toLocaleString();
    li.append(who, text, at);
    el("messages").append(li);
    li.scrollIntoView({block: "end"});
  }

  async function catchUp(convId) {
    const after = seen.get(convId) || 0;
    const {data} = await api("GET", `/conversations/${convId}/messages?after_seq=${after}`);
    data.forEach(showMessage);
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/ws`);
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === "message") {
        if (f.conversation === current) {
          // A gap means we missed something while away: fetch it rather than show out of order.
          const last = seen.get(current) || 0;
          if (f.message.seq > last + 1) catchUp(current); else showMessage(f.message);
        }
        if (inboxRoot) loadConversations();
      }
    };
    ws.onopen = () => { document.body.dataset.live = "1"; if (current) catchUp(current); };
    ws.onclose = () => { document.body.dataset.live = "0"; setTimeout(connect, 1000); };
  }

  async function send(ev) {
    ev.preventDefault();
    const input = el("text"), err = el("send-error");
    const text = input.value.trim();
    if (!text || !current) return;
    err.hidden = true;
    const clientId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    try {
      const {data, res} = await api("POST", `/conversations/${current}/messages`, {client_id: clientId, kind: "text", text});
      input.value = "";
      showMessage(data);
      if (res.headers.get("X-Shopdesk-Offer-Ticket") && el("ticket-offer")) el("ticket-offer").hidden = false;
    } catch (e) {
      const findings = (e.data && e.data.findings) || [];
      err.textContent = e.message + (findings.length ? ": " + findings.map(f => `${f.rule} ${f.kind} “${f.text || ""}”`).join(", ") : "");
      err.hidden = false;
    }
  }

  async function startBuyer() {
    const shop = Number(buyerRoot.dataset.shop);
    const {data: conv} = await api("POST", "/conversations", {shop});
    current = conv.id;
    const {data: s} = await api("GET", `/shops/${shop}`);
    el("shop-status").textContent = (s.open_now ? "Open now" : "Closed now" + (s.next_opening ? ", opens " + new Date(s.next_opening).toLocaleString() : "")) +
      (s.agents_online ? ` · ${s.agents_online} online` : " · nobody online");
    if (conv.offer_ticket) el("ticket-offer").hidden = false;
    el("ticket-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await api("POST", "/tickets", {shop, conversation: current, text: el("ticket-text").value});
      el("ticket-offer").innerHTML = "<p>Thanks — your ticket was left for the shop.</p>";
    });
    await catchUp(current);
  }

  async function loadConversations() {
    const q = el("queue").value;
    const {data} = await api("GET", `/conversations?queue=${q}`);
    const ul = el("conversations");
    ul.replaceChildren(...data.map((c) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "#"; a.dataset.conversation = c.id; a.dataset.testid = "conversation";
      a.textContent = `${c.buyer_name || "Buyer " + c.buyer}` + (c.waiting_since ? " · waiting" : "");
      if (c.id === current) a.className = "active";
      a.onclick = (ev) => { ev.preventDefault(); openConversation(c); };
      li.append(a);
      return li;
    }));
  }

  async function openConversation(c) {
    current = c.id;
    seen.delete(c.id);
    el("messages").replaceChildren();
    el("conv-title").textContent = `${c.buyer_name || "Buyer " + c.buyer}`;
    el("composer").hidden = false;
    await catchUp(c.id);
    loadConversations();
  }

  el("composer").addEventListener("submit", send);
  if (buyerRoot) startBuyer().then(connect);
  if (inboxRoot) { el("queue").addEventListener("change", loadConversations); loadConversations().then(connect); }
})();
