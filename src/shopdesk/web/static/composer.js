// The composer: screening as the seller types (POST /screen, debounced), the blocked-send 422
// shown the same way with the draft kept for editing, and a discreet note when a delivered
// message was flagged for review (SCR-D1).
import {api, ApiError, el, showError} from "./chat.js";
import {describe, paint, shift, toUnits} from "./highlight.js";

const CHECK_DELAY_MS = 350;

export class Composer {
  /**
   * send(text) stores the message and resolves to it (or throws an ApiError);
   * liveCheck (a boolean or a function returning one) turns on the as-you-type check;
   * conversation() names the open conversation.
   */
  constructor({send, liveCheck = false, conversation = () => null}) {
    this.form = el("composer");
    this.input = el("text");
    this.backdrop = el("draft-backdrop");
    this.panel = el("screening");
    this.verdict = el("screening-verdict");
    this.list = el("findings");
    this.error = el("send-error");
    this.notice = el("sent-notice");
    this.button = el("send");
    this.sendFn = send;
    this.liveCheck = liveCheck;
    this.conversation = conversation;
    this.findings = [];     // UTF-16 offsets into `this.shown`
    this.shown = "";        // the text the findings belong to
    this.timer = null;
    this.inflight = null;
    this.drafts = new Map(); // conversation id -> unsent draft
    this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
    this.input.addEventListener("input", () => this.changed());
    this.input.addEventListener("scroll", () => { this.backdrop.scrollTop = this.input.scrollTop; });
    this.input.addEventListener("keydown", (ev) => {
      // Enter sends, Shift+Enter starts a new line; never while an input method is composing
      // (Chinese and Japanese typing confirm candidates with Enter).
      if (ev.key === "Enter" && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey &&
          !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.form.requestSubmit();
      }
    });
  }

  /** Show the composer for another conversation, keeping each conversation's draft. */
  switchTo(previous, next) {
    if (previous != null) this.drafts.set(previous, this.input.value);
    this.input.value = this.drafts.get(next) || "";
    this.drafts.delete(next);
    this.setFindings([], "", null);
    showError(this.error, null);
    this.notice.hidden = true;
    this.form.hidden = false;
    if (this.input.value) this.changed();
  }

  fill(text) {
    this.input.value = text;
    this.input.focus();
    this.input.setSelectionRange(text.length, text.length);
    this.changed();
  }

  changed() {
    const text = this.input.value;
    this.notice.hidden = true;
    if (this.findings.length && text !== this.shown) {
      this.setFindings(shift(this.shown, text, this.findings), text, this.verdict.dataset.state);
    } else {
      this.shown = text;
      paint(this.backdrop, text, this.findings);
    }
    this.backdrop.scrollTop = this.input.scrollTop;
    if (!(typeof this.liveCheck === "function" ? this.liveCheck() : this.liveCheck)) return;
    clearTimeout(this.timer);
    if (this.inflight) { this.inflight.abort(); this.inflight = null; }
    if (!text.trim()) { this.setFindings([], text, null); return; }
    this.timer = setTimeout(() => this.check(text), CHECK_DELAY_MS);
  }

  async check(text) {
    const ctrl = new AbortController();
    this.inflight = ctrl;
    try {
      const {data} = await api("POST", "/screen",
        {text, conversation: this.conversation() || undefined}, {signal: ctrl.signal});
      // A check of older text would put its highlights on the wrong words.
      if (this.input.value !== text) return;
      this.setFindings(toUnits(text, data.findings), text, data.verdict);
    } catch (e) {
      if (e.name === "AbortError") return;
      if (this.input.value !== text) return;
      this.verdict.textContent = "The draft could not be checked right now; it is checked again when you send it.";
      this.verdict.dataset.state = "unchecked";
      this.list.replaceChildren();
      this.panel.hidden = false;
    } finally {
      if (this.inflight === ctrl) this.inflight = null;
    }
  }

  /** verdict: "block" | "flag" | "allow" from a check, "blocked" after a refused send. */
  setFindings(findings, text, verdict) {
    this.findings = findings;
    this.shown = text;
    paint(this.backdrop, this.input.value, this.input.value === text ? findings : []);
    const messages = {
      blocked: "What to change before sending again:",
      block: "This draft would be blocked. Edit the highlighted parts before sending.",
      flag: "This draft would be delivered, but flagged for platform review.",
    };
    if (!findings.length) {
      this.panel.hidden = true;
      this.verdict.dataset.state = verdict || "";
      this.list.replaceChildren();
      return;
    }
    this.verdict.textContent = messages[verdict] || "";
    this.verdict.dataset.state = verdict || "";
    this.list.replaceChildren(...findings.map((f) => this.findingItem(f, text)));
    this.panel.hidden = false;
  }

  findingItem(f, text) {
    const li = document.createElement("li");
    li.dataset.testid = "finding";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "finding";
    const rule = document.createElement("strong");
    rule.textContent = f.rule;
    const reason = document.createElement("span");
    reason.textContent = " " + (f.reason || f.kind.replace(/_/g, " "));
    button.append(rule, reason);
    if (f.start != null) {
      const quote = document.createElement("q");
      quote.textContent = text.slice(f.start, f.end);
      button.append(" ", quote);
      button.title = `Select it in the draft (${describe(f)})`;
      button.addEventListener("click", () => {
        this.input.focus();
        this.input.setSelectionRange(f.start, f.end);
      });
    } else {
      button.append(" (in the attached image)");
      button.disabled = true;
    }
    li.append(button);
    return li;
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text || this.button.disabled) return;
    // The server screens exactly what it is sent; show that text so offsets line up.
    if (text !== this.input.value) { this.input.value = text; this.changed(); }
    clearTimeout(this.timer);
    if (this.inflight) { this.inflight.abort(); this.inflight = null; }
    showError(this.error, null);
    this.notice.hidden = true;
    this.button.disabled = true;
    this.form.setAttribute("aria-busy", "true");
    try {
      const message = await this.sendFn(text);
      if (this.input.value === text) this.input.value = "";
      this.setFindings([], "", null);
      paint(this.backdrop, this.input.value, []);
      if (message && message.flagged) {
        this.notice.textContent = "Sent. The platform will review this message because it may break the messaging rules.";
        this.notice.hidden = false;
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === "message_blocked") {
        this.setFindings(toUnits(text, e.data.findings), text, "blocked");
      }
      showError(this.error, e);
      this.input.focus();
    } finally {
      this.button.disabled = false;
      this.form.removeAttribute("aria-busy");
    }
  }
}
