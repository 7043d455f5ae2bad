// The audit form saves each answer as it is given, and text as it is typed (after a second of quiet, and on leaving
// the box). A save sends only the questions changed here, each with what the page was shown of it (`_was-<key>`)
// and the audit version it was read at (`_base-<key>`): the server refuses it (409) when another tab or person
// changed one of those questions since, and the page then lists the differences to keep or replace; it never takes
// the new version silently. Leaving the page with anything unsaved asks first.
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

const TYPING_QUIET_MS = 1000;
const form = document.querySelector("form[data-app-autosave]");
if (form) autosave(form);

function autosave(form) {
  const url = form.dataset.appAutosave;
  const status = form.querySelector("#save-status");
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const dirty = new Set(); // changed here, not yet sent or changed again since
  const invalid = new Set(); // sent and refused as invalid (or an unfinished date): kept here until changed
  const held = new Set(); // in a refused save's differences: sent only once the auditor chooses
  let sending = null; // question key -> what was sent, while a save is on its way
  let again = false;
  let timer = null;
  let leaving = false;

  const blockFor = (key) => document.getElementById(`question-${key}`);
  const keyOf = (element) => element.closest("[data-question]")?.dataset.question;
  const version = () => form.querySelector("#audit-version").value;

  function values(block) {
    const found = [];
    block.querySelectorAll("input, textarea, select").forEach((el) => {
      if (!el.name || el.disabled || el.name.startsWith("_was-") || el.name.startsWith("_base-")) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      found.push([el.name, el.value]);
    });
    return found;
  }
  const fingerprint = (key) => {
    const block = blockFor(key);
    return block ? JSON.stringify(values(block)) : "";
  };
  form.querySelectorAll("[data-question]").forEach((block) => {
    block.dataset.appStarted = "1";
  });
  const unsaved = () => dirty.size + invalid.size + held.size > 0 || sending !== null;

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function changed(event, delay) {
    const key = keyOf(event.target);
    if (!key) return;
    dirty.add(key);
    invalid.delete(key);
    schedule(delay);
  }
  form.addEventListener("input", (event) => {
    const typing = event.target.matches("textarea, input[type=text], input:not([type])");
    changed(event, typing ? TYPING_QUIET_MS : 0);
  });
  form.addEventListener("change", (event) => changed(event, 0));

  async function save() {
    clearTimeout(timer);
    if (sending) {
      again = true;
      return;
    }
    const keys = [...dirty].filter((key) => !held.has(key) && blockFor(key) && !blockFor(key).hidden);
    dirty.forEach((key) => {
      if (!blockFor(key) || blockFor(key).hidden) dirty.delete(key);
    });
    if (!keys.length) return;
    const body = new FormData();
    form.querySelectorAll('input[type="hidden"]').forEach((el) => {
      if (!el.closest("[data-question]") && !el.closest("#answer-conflicts")) body.append(el.name, el.value);
    });
    let since = Number(version());
    form.querySelectorAll('input[name^="_base-"]').forEach((el) => {
      since = Math.min(since, Number(el.value));
    });
    body.append("_since", String(since));
    sending = {};
    for (const key of keys) {
      const block = blockFor(key);
      values(block).forEach(([name, value]) => body.append(name, value));
      block.querySelectorAll('input[name^="_was-"], input[name^="_base-"]').forEach((el) => body.append(el.name, el.value));
      sending[key] = fingerprint(key);
      dirty.delete(key);
    }
    status.textContent = "Saving…";
    let response;
    let text;
    try {
      response = await fetch(url, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRF-Token": csrf ? csrf.content : "" },
      });
      text = await response.text();
    } catch {
      Object.keys(sending).forEach((key) => dirty.add(key));
      sending = null;
      status.textContent =
        "Not saved: check your connection. Your answers are still on this page; they are saved when you change one or press the button.";
      return;
    }
    const sent = sending;
    if (response.headers.get("HX-Redirect")) {
      leaving = true;
      window.location.href = response.headers.get("HX-Redirect");
      return;
    }
    if (![200, 409, 422].includes(response.status)) {
      Object.keys(sent).forEach((key) => dirty.add(key));
      sending = null;
      status.textContent = `Not saved (the server answered ${response.status}). Reload the page to carry on; your answers are still on this page.`;
      return;
    }
    apply(text, sent, response.status);
    sending = null;
    if (again || dirty.size) {
      again = false;
      schedule(0);
    }
  }

  // Questions whose answer is only here (typed since the save left, refused, or in the differences) are not redrawn
  // by what the server sends back; everything else is, so the page learns other people's answers.
  const keep = new Set();
  document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
    const key = event.detail.target?.dataset?.question;
    if (!key || !sending) return;
    const local =
      held.has(key) || invalid.has(key) || dirty.has(key) || (key in sending && sending[key] !== fingerprint(key));
    if (local) {
      event.detail.shouldSwap = false;
      keep.add(key);
    }
  });

  function apply(text, sent, code) {
    keep.clear();
    const active = document.activeElement;
    const focus = active && form.contains(active) ? { id: active.id, start: active.selectionStart, end: active.selectionEnd } : null;
    htmx.swap(status, text, { swapStyle: "innerHTML" });
    document
      .querySelectorAll("#answer-conflicts, #escalation-part, #safeguarding-withdrawal")
      .forEach((el) => initAll({ scope: el }));
    form.querySelectorAll("[data-question]").forEach((block) => {
      if (!block.dataset.appStarted) {
        block.dataset.appStarted = "1";
        initAll({ scope: block });
      }
    });
    const refused = new Set((status.querySelector("[data-unsaved]")?.dataset.unsaved || "").split(" ").filter(Boolean));
    form.querySelectorAll("[data-conflict]").forEach((entry) => held.add(entry.dataset.conflict));
    if (code === 409) form.querySelector("#answer-conflicts .app-conflicts")?.focus(); // the differences, in view
    for (const key of Object.keys(sent)) {
      const same = sent[key] === fingerprint(key);
      if (held.has(key)) continue;
      if (!same) dirty.add(key);
      else if (refused.has(key)) invalid.add(key);
      else if (code === 409) dirty.add(key); // nothing was saved: send it again (the differences are held back)
    }
    if (code !== 409) {
      // Everything changed since the oldest version on the page came back with this answer: the rest is current.
      form.querySelectorAll('input[name^="_base-"]').forEach((el) => {
        const key = el.name.slice("_base-".length);
        if (!keep.has(key) && !dirty.has(key) && !invalid.has(key) && !held.has(key) && !refused.has(key)) el.value = version();
      });
    }
    if (code !== 409 && focus && focus.id && document.activeElement !== document.getElementById(focus.id)) {
      const again = document.getElementById(focus.id);
      if (again) {
        again.focus();
        if (typeof focus.start === "number" && again.setSelectionRange) again.setSelectionRange(focus.start, focus.end);
      }
    }
  }

  // A difference: keep my answer (sent again, now judged against the saved one) or use the saved one.
  form.addEventListener("click", (event) => {
    const button = event.target.closest('button[name="_keep"], button[name="_take"]');
    if (!button) return;
    event.preventDefault();
    const entry = button.closest("[data-conflict]");
    const key = entry.dataset.conflict;
    const saved = entry.querySelector("template[data-saved]").content;
    const block = blockFor(key);
    if (button.name === "_take") {
      const fresh = saved.querySelector("[data-question]").cloneNode(true);
      block.replaceWith(fresh);
      initAll({ scope: fresh });
      dirty.delete(key);
    } else {
      block.querySelector(`#known-${key}`).replaceWith(saved.querySelector(`#known-${key}`).cloneNode(true));
      dirty.add(key);
    }
    held.delete(key);
    entry.remove();
    const panel = document.getElementById("answer-conflicts");
    if (!panel.querySelector("[data-conflict]")) panel.replaceChildren();
    blockFor(key).querySelector("input:not([type=hidden]), textarea, select")?.focus();
    schedule(0);
  });

  form.addEventListener("submit", () => {
    leaving = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !unsaved()) return;
    event.preventDefault();
    event.returnValue = "";
  });
}
