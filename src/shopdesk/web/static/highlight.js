// Screening findings as highlighted spans of a draft (SCR-D1: "the seller sees why").
// The server's offsets count Unicode code points (Python string indices) while JavaScript
// strings count UTF-16 units, so one emoji before a finding would shift every highlight;
// findings are converted once, on arrival, and kept in UTF-16 units from then on.

function codePointToUnit(text) {
  const map = [0];
  let unit = 0;
  for (const ch of text) { unit += ch.length; map.push(unit); }
  return (cp) => map[Math.max(0, Math.min(cp, map.length - 1))];
}

/** Findings from the API with `start`/`end` converted to UTF-16 offsets into `text`
 *  (`null` stays `null`: a finding in an attachment has no span). */
export function toUnits(text, findings) {
  const unit = codePointToUnit(text);
  return (findings || []).map((f) => ({
    ...f,
    start: f.start == null ? null : unit(f.start),
    end: f.end == null ? null : unit(f.end),
  }));
}

/** Keep findings attached to their words while the draft is edited: spans before the edit
 *  stay, spans after it move with it, spans the edit touches are dropped (being rewritten). */
export function shift(oldText, newText, findings) {
  let pre = 0;
  const max = Math.min(oldText.length, newText.length);
  while (pre < max && oldText[pre] === newText[pre]) pre++;
  let suf = 0;
  while (suf < max - pre &&
         oldText[oldText.length - 1 - suf] === newText[newText.length - 1 - suf]) suf++;
  const editEnd = oldText.length - suf, delta = newText.length - oldText.length;
  return findings.flatMap((f) => {
    if (f.start == null) return [f];
    if (f.end <= pre) return [f];
    if (f.start >= editEnd) return [{...f, start: f.start + delta, end: f.end + delta}];
    return [];
  });
}

export function describe(f) {
  return `${f.rule}: ${f.reason || f.kind.replace(/_/g, " ")}`;
}

/** Replace `container`'s children with `text`, each finding's span wrapped in <mark>. */
export function paint(container, text, findings) {
  const spans = findings.filter((f) => f.start != null && f.end > f.start);
  const cuts = new Set([0, text.length]);
  for (const f of spans) { cuts.add(f.start); cuts.add(Math.min(f.end, text.length)); }
  const points = [...cuts].filter((p) => p <= text.length).sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i], b = points[i + 1];
    const piece = text.slice(a, b);
    const covering = spans.filter((f) => f.start <= a && f.end >= b);
    if (!covering.length) { nodes.push(document.createTextNode(piece)); continue; }
    const mark = document.createElement("mark");
    mark.className = "finding-span";
    mark.dataset.rules = [...new Set(covering.map((f) => f.rule))].join(" ");
    mark.title = covering.map(describe).join("; ");
    mark.textContent = piece;
    nodes.push(mark);
  }
  // A textarea shows a final newline as an empty line; without the extra character the
  // backdrop would be one line shorter and the highlights would drift when scrolled.
  nodes.push(document.createTextNode("\u200b"));
  container.replaceChildren(...nodes);
}
