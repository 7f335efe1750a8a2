// The buyer's chat with a shop: greeting and FAQ cards (KB-4), automatic replies marked as
// such, the hand-over to a person (KB-7), the ticket offer when nobody is online (CHAT-5) and
// the rating once the shop has answered (CHAT-9).
import {api, connectLive, el, formatWhen, newClientId, showError, Thread} from "./chat.js";
import {Composer} from "./composer.js";

const root = el("buyer-chat");
const shopId = Number(root.dataset.shop);
const pageError = el("page-error");
let conv = null;
let lastReplySeq = 0;    // the latest message from the shop (person or bot)
let ratedAfterSeq = -1;  // the shop's latest message when the buyer last rated
const replies = [];      // {seq, at} of the shop's messages, in order

const thread = new Thread(el("messages"), {
  me: Number(root.dataset.me),
  viewer: "buyer",
  onAdd: (m) => {
    if (m.sender === "agent" || m.sender === "bot") {
      lastReplySeq = Math.max(lastReplySeq, m.seq);
      replies.push({seq: m.seq, at: m.at});
      updateRating();
    }
    // A person answering ends the hand-over (the server clears it on a human reply).
    if (m.sender === "agent") el("handover").hidden = true;
  },
});

function showHandover(c) {
  el("handover").hidden = !c.handed_over;
}

async function refreshConversation() {
  const {data} = await api("GET", `/conversations/${conv.id}`);
  conv = data;
  showHandover(conv);
}

const composer = new Composer({
  conversation: () => conv && conv.id,
  send: async (text) => {
    const {data, res} = await api("POST", `/conversations/${conv.id}/messages`,
      {client_id: newClientId(), kind: "text", text});
    thread.add(data);
    if (res.headers.get("X-Shopdesk-Offer-Ticket")) el("ticket-offer").hidden = false;
    // The chatbot may have handed the chat to a person (KB-7); its answers arrive as frames.
    refreshConversation().catch(() => {});
    return data;
  },
});

function shopStatus(s) {
  const open = s.open_now ? "Open now" :
    "Closed now" + (s.next_opening ? `, opens ${formatWhen(s.next_opening)}` : "");
  const people = s.agents_online ? ` · ${s.agents_online} online` : " · nobody online";
  el("shop-status").textContent = open + people;
}

function renderWelcome(w) {
  const greeting = el("greeting");
  greeting.textContent = w.greeting || "";
  greeting.hidden = !w.greeting;
  const cards = el("cards");
  cards.replaceChildren(...w.cards.map((c) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "faq-card";
    b.dataset.entry = c.entry;
    b.textContent = c.question;
    b.addEventListener("click", () => tap(c, b));
    li.append(b);
    return li;
  }));
  el("faq").hidden = !w.cards.length;
  el("welcome").hidden = !(w.greeting || w.cards.length);
}

async function tap(card, button) {
  showError(pageError, null);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const {data} = await api("POST",
      `/conversations/${conv.id}/cards/${encodeURIComponent(card.entry)}/tap`,
      {client_id: newClientId()});
    thread.add(data.question);
    if (data.answer) thread.add(data.answer);
  } catch (e) {
    showError(pageError, e);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function updateRating() {
  // Offered once the shop (a person or its bot) has answered; rating again is offered after
  // each new answer, not after every visit.
  const section = el("rating");
  if (!lastReplySeq) { section.hidden = true; return; }
  section.hidden = false;
  el("rating-form").hidden = ratedAfterSeq >= lastReplySeq;
}

function showRated(stars, at) {
  const done = el("rating-done");
  done.textContent = `You rated this chat ${stars} of 5 (${formatWhen(at)}). Thank you!`;
  done.hidden = false;
}

function paintStars() {
  const chosen = Number((el("rating-form").querySelector("input[name=stars]:checked") || {}).value || 0);
  el("rating-form").querySelectorAll(".stars label").forEach((label, i) => {
    label.classList.toggle("on", i < chosen);
  });
}

async function rate(ev) {
  ev.preventDefault();
  const form = el("rating-form");
  const picked = form.querySelector("input[name=stars]:checked");
  const err = el("rating-error");
  if (!picked) { showError(err, new Error("Pick from 1 to 5 stars.")); return; }
  showError(err, null);
  try {
    const {data} = await api("POST", `/conversations/${conv.id}/rating`,
      {stars: Number(picked.value), comment: el("rating-comment").value});
    ratedAfterSeq = lastReplySeq;
    showRated(data.stars, data.at);
    form.reset();
    paintStars();
    updateRating();
  } catch (e) {
    showError(err, e);
  }
}

async function start() {
  ({data: conv} = await api("POST", "/conversations", {shop: shopId}));
  thread.reset(conv.id);
  showHandover(conv);
  if (conv.offer_ticket) el("ticket-offer").hidden = false;
  composer.switchTo(null, conv.id);
  const [shop, welcome, ratings] = await Promise.all([
    api("GET", `/shops/${shopId}`),
    api("GET", `/conversations/${conv.id}/cards`),
    api("GET", `/conversations/${conv.id}/ratings`),
  ]);
  shopStatus(shop.data);
  renderWelcome(welcome.data);
  await thread.catchUp();
  const latest = ratings.data[ratings.data.length - 1];
  if (latest) {
    showRated(latest.stars, latest.at);
    // Replies from before the latest rating were rated already.
    const before = replies.filter((r) => Date.parse(r.at) <= Date.parse(latest.at));
    ratedAfterSeq = before.length ? before[before.length - 1].seq : -1;
  }
  updateRating();
}

el("ticket-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(pageError, null);
  try {
    await api("POST", "/tickets", {shop: shopId, conversation: conv.id, text: el("ticket-text").value});
    const done = document.createElement("p");
    done.setAttribute("role", "status");
    done.textContent = "Thanks — your ticket was left for the shop.";
    el("ticket-offer").replaceChildren(done);
  } catch (e) {
    showError(pageError, e);
  }
});
el("rating-form").addEventListener("submit", rate);
el("rating-form").addEventListener("change", paintStars);

start()
  .catch((e) => showError(pageError, e))
  .then(() => connectLive((f) => {
    if (f.type === "message") thread.onFrame(f);
  }, {
    onOpen: () => { if (conv) thread.catchUp().catch(() => {}); },
    onAuthLost: () => showError(pageError, new Error("Your session has ended. Log in again to continue.")),
  }));
