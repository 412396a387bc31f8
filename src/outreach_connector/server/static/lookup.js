// One lookup field of a generated form: a searchable, paged, dependent dropdown fed by a DDL operation.
import { el, nextId } from "./dom.js";

export const TEMPLATE = /^\{\{\{properties\.(.+)\}\}\}$/;  // falafel's reference to another input field

// An id typed by hand: a number when it looks like one (Outreach's ids), else the text for the server to judge.
export function idOrText(text) {
  return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : text;
}

// One dropdown, the WAI-ARIA combobox pattern: a text input (role=combobox) that owns a listbox; arrow
// keys move the active option (aria-activedescendant), Enter chooses it, Escape closes the list.
export class Lookup {
  // host: what the form lends it: call(operation, input) -> reply, inputFor(template) -> the DDL's input
  // with its parents' values, changed(path) after a choice (dependent lookups reset, the error clears).
  constructor(lookup, path, text, host) {
    this.host = host;
    this.operation = lookup.operation;
    this.template = lookup.input || {};
    this.path = path;
    this.parents = Object.values(this.template)
      .map((t) => (typeof t === "string" && t.match(TEMPLATE) || [])[1]).filter(Boolean);
    const listId = nextId("listbox");
    this.input = el("input", { type: "text", id: nextId("field"), role: "combobox", "aria-autocomplete": "list",
                               "aria-expanded": "false", "aria-controls": listId, autocomplete: "off",
                               placeholder: "Type to search…" });
    // aria-busy: the options shown are not yet the answer to what was typed (a screen reader waits to read them).
    this.list = el("ul", { role: "listbox", id: listId, hidden: "", "aria-label": `${text} options`,
                           "aria-busy": "false" });
    this.node = el("div", { class: "lookup" }, this.input, this.list);
    this.chosen = null;  // {text, value} of the selected option
    this.next = null;    // next_page_after of the last answer
    this.asked = 0;      // answers to older requests are dropped
    this.timer = null;
    this.active = null;  // the highlighted <li>
    this.activateFirst = false;  // opened from the keyboard: highlight the first option that arrives
    this.input.addEventListener("focus", () => this.load(false));
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("blur", () => this.close());
    this.input.addEventListener("keydown", (event) => this.key(event));
  }

  items() {
    return [...this.list.querySelectorAll("[role=option]:not([aria-disabled=true])")];
  }

  key(event) {
    const open = !this.list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        this.activateFirst = true;
        if (this.items().length) this.open(); else this.load(false);
        return;
      }
      const items = this.items();
      const at = items.indexOf(this.active);
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.highlight(items[at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length]);
    } else if (event.key === "Enter" && open && this.active) {
      event.preventDefault();
      this.activate(this.active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  }

  open() {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.activateFirst && !this.active) this.highlight(this.items()[0]);
    this.activateFirst = false;
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.highlight(null);
  }

  highlight(li) {
    if (this.active) { this.active.classList.remove("active"); this.active.setAttribute("aria-selected", "false"); }
    this.active = li || null;
    if (!this.active) return void this.input.removeAttribute("aria-activedescendant");
    this.active.classList.add("active");
    this.active.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", this.active.id);
    this.active.scrollIntoView({ block: "nearest" });
  }

  activate(li) {
    if (li.dataset.testid === "more") return void this.load(true);
    this.choose(li.option);
  }

  busy(waiting) {
    this.list.setAttribute("aria-busy", String(waiting));
  }

  typed() {
    this.chosen = null;
    this.asked += 1;  // the text changed: an answer to an earlier search is no longer the one to show
    this.busy(true);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(false), 200);
  }

  async load(more) {
    const request = ++this.asked;
    this.busy(true);
    const reply = await this.ask(more);
    if (request !== this.asked) return;
    if (reply.outcome !== "success") return this.show([], more, reply.output.message);
    this.next = reply.output.next_page_after || null;
    this.show(reply.output.result, more);
  }

  // The DDL's answer for what is typed; a failure to ask is an answer too, so the list says so and is not
  // left busy.
  async ask(more) {
    try {
      const data = this.host.inputFor(this.template);
      const search = this.input.value.trim();
      if (search && !(this.chosen && search === this.chosen.text)) data.search = search;
      if (more) data.page_after = this.next;
      const reply = await this.host.call(this.operation, data);
      if (reply && reply.output) return reply;
    } catch (error) {
      console.warn("lookup: the options could not be asked for", error);
    }
    return { outcome: "error", output: { message: "The options could not be loaded." } };
  }

  show(options, more, note) {
    this.busy(false);
    const firstNew = more ? this.items().filter((li) => li.dataset.testid === "option").length : 0;
    if (!more) { this.highlight(null); this.list.replaceChildren(); }
    this.list.querySelectorAll(".more, .note").forEach((li) => li.remove());
    for (const option of options) {
      const li = el("li", { "data-testid": "option", "data-value": String(option.value), role: "option",
                            id: nextId("option"), "aria-selected": "false" }, option.text);
      li.option = option;
      li.addEventListener("mousedown", (event) => { event.preventDefault(); this.choose(option); });
      this.list.append(li);
    }
    if (note || !this.list.children.length) {
      this.list.append(el("li", { class: "note", role: "option", "aria-disabled": "true", id: nextId("option") },
                          note || "No matches"));
    }
    if (this.next && !note) {
      const li = el("li", { class: "more", "data-testid": "more", role: "option", id: nextId("option"),
                            "aria-selected": "false" }, "More…");
      li.addEventListener("mousedown", (event) => { event.preventDefault(); this.load(true); });
      this.list.append(li);
    }
    if (document.activeElement !== this.input) return this.close();
    this.open();
    if (more) this.highlight(this.items().filter((li) => li.dataset.testid === "option")[firstNew] || null);
  }

  // Nothing asked any more: a pending search is not sent, an answer still on its way is dropped.
  cancel() {
    clearTimeout(this.timer);
    this.asked += 1;
    this.busy(false);
  }

  choose(option) {
    this.cancel();  // an answer still on its way must not reopen the list
    this.chosen = option;
    this.input.value = option.text;
    this.close();
    this.host.changed(this.path);
  }

  reset() {
    this.cancel();
    this.chosen = null;
    this.next = null;
    this.input.value = "";
    this.list.replaceChildren();
    this.close();
  }

  get() {
    if (this.chosen) return this.chosen.value;
    const typed = this.input.value.trim();
    return typed === "" ? undefined : idOrText(typed);  // the server says what is wrong with it
  }

  async set(value) {  // a saved value: shown by its label, asked from the DDL with `value`
    this.reset();
    if (value === undefined || value === null || value === "") return;
    const saved = { text: String(value), value };
    this.chosen = saved;
    this.input.value = saved.text;
    const reply = await this.host.call(this.operation, { ...this.host.inputFor(this.template), value });
    const found = reply.outcome === "success" && reply.output.result[0];
    if (found && this.chosen === saved) { this.chosen = found; this.input.value = found.text; }
  }
}
