"use strict";
// The solution editor: a form per operation, generated from the served input schema; fields with a
// `lookup` are searchable dropdowns fed by the DDL operations through the server's own call endpoint.
// Plain browser JavaScript, no build step, nothing loaded from elsewhere.
(() => {
  const CONNECTOR = "outreach";
  const TEMPLATE = /^\{\{\{properties\.(.+)\}\}\}$/;  // falafel's reference to another input field
  const INVALID = "Connector input validation failed.";
  const AUTH_PAGE_SIZE = 100;  // the most GET /authentications gives at once
  const AUTH_PAGES = 20;       // 2,000 authentications: a select longer than that is of no use to a person
  const $ = (selector) => document.querySelector(selector);
  const ui = {
    key: $("[data-testid=api-key]"), connect: $("[data-testid=connect]"), status: $("#status"),
    auth: $("[data-testid=auth]"), operation: $("[data-testid=operation]"), description: $("#description"),
    form: $("#form"), run: $("[data-testid=run]"), outcome: $("[data-testid=outcome]"),
    output: $("[data-testid=output]"), json: $("#json-text"), jsonApply: $("#json-apply"),
  };
  const state = { key: "", base: "", operations: new Map(), fields: new Map(), lookups: [], root: null };

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  // ---- the server ---------------------------------------------------------------------------------
  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.key}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      return { status: 0, data: { message: `The server could not be reached (${error.message})` } };
    }
    const data = await response.json().catch(() => null);
    return { status: response.status, data };
  }

  async function callOperation(operation, input) {
    const body = { operation, authId: ui.auth.value, input, returnOutputSchema: false };
    const reply = await api("POST", `${state.base}/call`, body);
    if (reply.status === 200) return reply.data;
    return { outcome: "error", status: reply.status, output: { message: problemText(reply) } };
  }

  function problemText(reply) {
    return (reply.data && reply.data.message) || `HTTP ${reply.status}`;
  }

  // ---- connect: connector version, operations, the caller's authentications --------------------------
  async function connect() {
    state.key = ui.key.value.trim();
    ui.status.textContent = "Connecting…";
    const connectors = await api("GET", "/connectors");
    if (connectors.status !== 200) return void (ui.status.textContent = problemText(connectors));
    const mine = connectors.data.elements.find((c) => c.name === CONNECTOR);
    state.base = `/connectors/${CONNECTOR}/versions/${encodeURIComponent(mine.version)}`;
    const [operations, auths] = await Promise.all([api("GET", `${state.base}/operations`), authentications()]);
    if (operations.status !== 200) return void (ui.status.textContent = problemText(operations));
    fillOperations(operations.data.elements);
    fillAuthentications(auths.elements, auths.cut);
    ui.status.textContent = auths.status !== 200 ? `Connected, but authentications: ${problemText(auths)}`
      : `Connected: ${mine.title} ${mine.version}${auths.cut ? ` (${auths.cut})` : ""}`;
    renderForm();
  }

  // The key's own authentications, every page, but at most AUTH_PAGES of them (the page says so).
  async function authentications() {
    const elements = [];
    let after = null;
    for (let page = 0; page < AUTH_PAGES; page += 1) {
      const query = after === null ? "" : `&after=${encodeURIComponent(after)}`;
      const reply = await api("GET", `/authentications?limit=${AUTH_PAGE_SIZE}${query}`);
      if (reply.status !== 200) return { ...reply, elements, cut: elements.length ? "the rest failed" : "" };
      elements.push(...reply.data.elements);
      after = reply.data.next_page_after ?? null;
      if (after === null) return { status: 200, elements, cut: "" };
    }
    return { status: 200, elements, cut: `only the first ${elements.length} authentications are listed` };
  }

  function fillAuthentications(elements, cut) {
    const options = elements.map((a) => el("option", { value: a.id }, a.name));
    if (cut) options.push(el("option", { value: "", disabled: "", "data-testid": "auth-cut" }, `— ${cut} —`));
    ui.auth.replaceChildren(el("option", { value: "" }, "— choose an authentication —"), ...options);
    if (elements.length === 1) ui.auth.value = elements[0].id;
    ui.auth.disabled = false;
  }

  function fillOperations(elements) {
    state.operations = new Map(elements.map((op) => [op.name, op]));
    const main = elements.filter((op) => !op.name.endsWith("_ddl"));
    const ddls = elements.filter((op) => op.name.endsWith("_ddl"));
    const option = (op) => el("option", { value: op.name }, op.title);
    ui.operation.replaceChildren(el("option", { value: "" }, "— choose an operation —"),
      el("optgroup", { label: "Operations" }, ...main.map(option)),
      el("optgroup", { label: "Dropdowns (DDL)" }, ...ddls.map(option)));
    ui.operation.disabled = false;
  }

  // ---- the form -------------------------------------------------------------------------------------
  function renderForm() {
    const op = state.operations.get(ui.operation.value);
    state.fields = new Map();
    state.lookups = [];
    state.root = null;
    ui.form.replaceChildren();
    ui.description.textContent = op ? op.description : "";
    ui.run.disabled = !op;
    if (!op) return;
    state.root = objectControl(op.inputSchema, "");
    ui.form.append(...state.root.node.childNodes);
  }

  function field(schema, path, required) {
    const name = path.split(".").pop();
    const wrap = el("div", { class: "field", "data-field": path });
    const label = el("span", { class: "label" }, schema.title || name);
    if (required) label.append(el("span", { class: "required", title: "required" }, "*"));
    const control = controlFor(schema, path);
    wrap.append(label, control.node);
    if (schema.description) wrap.append(el("small", { class: "description" }, schema.description));
    state.fields.set(path, { wrap, ...control });
    return wrap;
  }

  function typesOf(schema) {
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    return types.filter((t) => t !== "null");
  }

  function controlFor(schema, path) {
    const types = typesOf(schema);
    if (schema.lookup) return lookupControl(schema, path);
    if (schema.enum) return enumControl(schema.enum);
    if (schema.properties) return objectControl(schema, path);
    if (types.length === 1 && types[0] === "array" && schema.items && !Array.isArray(schema.items)) {
      return arrayControl(schema.items, path);
    }
    if (types.length === 1 && types[0] === "boolean") return enumControl([true, false]);
    if (types.length === 1 && (types[0] === "integer" || types[0] === "number")) return numberControl();
    if (types.length === 1 && types[0] === "string") return textControl((text) => text);
    if (types.length === 2 && types.includes("integer") && types.includes("string")) return textControl(idOrText);
    return jsonControl();
  }

  function idOrText(text) {
    return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : text;
  }

  function textControl(convert) {
    const input = el("input", { type: "text" });
    return { node: input, get: () => (input.value.trim() === "" ? undefined : convert(input.value.trim())),
             set: (v) => { input.value = v === undefined || v === null ? "" : String(v); } };
  }

  function numberControl() {
    const input = el("input", { type: "number", step: "any" });
    return { node: input, get: () => (input.value === "" ? undefined : Number(input.value)),
             set: (v) => { input.value = v === undefined || v === null ? "" : String(v); } };
  }

  function enumControl(values) {
    const select = el("select", {}, el("option", { value: "" }, "— not set —"),
                      ...values.map((v, i) => el("option", { value: String(i) }, String(v))));
    return { node: select, get: () => (select.value === "" ? undefined : values[Number(select.value)]),
             set: (v) => { const i = values.indexOf(v); select.value = i < 0 ? "" : String(i); } };
  }

  function jsonControl() {
    const area = el("textarea", { rows: "2", spellcheck: "false", placeholder: "JSON" });
    const get = () => {
      const text = area.value.trim();
      if (text === "") return undefined;
      try { return JSON.parse(text); } catch (error) { return text; }  // the server names what is wrong
    };
    return { node: area, get, set: (v) => { area.value = v === undefined ? "" : JSON.stringify(v); } };
  }

  function objectControl(schema, path) {
    const box = el(path ? "fieldset" : "div");
    const required = schema.required || [];
    const children = Object.entries(schema.properties || {}).map(([name, sub]) => {
      const childPath = path ? `${path}.${name}` : name;
      box.append(field(sub, childPath, required.includes(name)));
      return [name, childPath];
    });
    const get = () => {
      const out = {};
      for (const [name, childPath] of children) {
        const value = state.fields.get(childPath).get();
        if (value !== undefined) out[name] = value;
      }
      return Object.keys(out).length || !path ? out : undefined;
    };
    const set = (value) => {
      for (const [name, childPath] of children) state.fields.get(childPath).set((value || {})[name]);
    };
    return { node: box, get, set };
  }

  function arrayControl(items, path) {
    const box = el("div", { class: "array" });
    const list = el("div");
    const add = el("button", { type: "button", class: "small" }, "Add");
    const entries = [];
    const append = (value) => {
      const itemPath = `${path}.${entries.length}`;
      const item = field(items, itemPath, false);
      const remove = el("button", { type: "button", class: "small" }, "Remove");
      const entry = { item, path: itemPath };
      remove.addEventListener("click", () => { item.remove(); entries.splice(entries.indexOf(entry), 1); });
      item.append(remove);
      entries.push(entry);
      list.append(item);
      if (value !== undefined) state.fields.get(itemPath).set(value);
    };
    add.addEventListener("click", () => append());
    box.append(list, add);
    const get = () => {
      const values = entries.map((e) => state.fields.get(e.path).get()).filter((v) => v !== undefined);
      return values.length ? values : undefined;
    };
    const set = (values) => {
      entries.splice(0).forEach((e) => e.item.remove());
      (Array.isArray(values) ? values : []).forEach(append);
    };
    return { node: box, get, set };
  }

  // ---- lookups: searchable, paged, dependent dropdowns ------------------------------------------------
  function lookupInput(template) {
    const input = {};
    for (const [key, raw] of Object.entries(template || {})) {
      const match = typeof raw === "string" && raw.match(TEMPLATE);
      if (!match) { input[key] = raw; continue; }
      const parent = state.fields.get(match[1]);
      const value = parent ? parent.get() : undefined;
      if (value !== undefined && value !== "") input[key] = value;  // no parent yet: not narrowed
    }
    return input;
  }

  // One dropdown: a text input to type into, and a list of the DDL's options under it.
  class Lookup {
    constructor(lookup, path) {
      this.operation = lookup.operation;
      this.template = lookup.input || {};
      this.path = path;
      this.parents = Object.values(this.template)
        .map((t) => (typeof t === "string" && t.match(TEMPLATE) || [])[1]).filter(Boolean);
      this.input = el("input", { type: "text", role: "combobox", placeholder: "Type to search…" });
      this.list = el("ul", { role: "listbox", hidden: "" });
      this.node = el("div", { class: "lookup" }, this.input, this.list);
      this.chosen = null;  // {text, value} of the selected option
      this.next = null;    // next_page_after of the last answer
      this.asked = 0;      // answers to older requests are dropped
      this.timer = null;
      this.input.addEventListener("focus", () => this.load(false));
      this.input.addEventListener("input", () => this.typed());
      this.input.addEventListener("blur", () => { this.list.hidden = true; });
    }

    typed() {
      this.chosen = null;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(false), 200);
    }

    async load(more) {
      const request = ++this.asked;
      const data = lookupInput(this.template);
      const search = this.input.value.trim();
      if (search && !(this.chosen && search === this.chosen.text)) data.search = search;
      if (more) data.page_after = this.next;
      const reply = await callOperation(this.operation, data);
      if (request !== this.asked) return;
      if (reply.outcome !== "success") return this.show([], more, reply.output.message);
      this.next = reply.output.next_page_after || null;
      this.show(reply.output.result, more);
    }

    show(options, more, note) {
      if (!more) this.list.replaceChildren();
      this.list.querySelectorAll(".more, .note").forEach((li) => li.remove());
      for (const option of options) {
        const li = el("li", { "data-testid": "option", "data-value": String(option.value), role: "option" },
                      option.text);
        li.addEventListener("mousedown", (event) => { event.preventDefault(); this.choose(option); });
        this.list.append(li);
      }
      if (note || !this.list.children.length) this.list.append(el("li", { class: "note" }, note || "No matches"));
      if (this.next && !note) {
        const li = el("li", { class: "more", "data-testid": "more" }, "More…");
        li.addEventListener("mousedown", (event) => { event.preventDefault(); this.load(true); });
        this.list.append(li);
      }
      this.list.hidden = document.activeElement !== this.input;
    }

    choose(option) {
      clearTimeout(this.timer);
      this.asked += 1;  // an answer still on its way must not reopen the list
      this.chosen = option;
      this.input.value = option.text;
      this.list.hidden = true;
      changed(this.path);
    }

    reset() {
      clearTimeout(this.timer);
      this.asked += 1;
      this.chosen = null;
      this.next = null;
      this.input.value = "";
      this.list.replaceChildren();
      this.list.hidden = true;
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
      const reply = await callOperation(this.operation, { ...lookupInput(this.template), value });
      const found = reply.outcome === "success" && reply.output.result[0];
      if (found && this.chosen === saved) { this.chosen = found; this.input.value = found.text; }
    }
  }

  function lookupControl(schema, path) {
    const lookup = new Lookup(schema.lookup, path);
    state.lookups.push(lookup);
    return { node: lookup.node, get: () => lookup.get(), set: (value) => lookup.set(value) };
  }

  function changed(path) {
    const entry = state.fields.get(path);
    if (entry) clearError(entry.wrap);
    for (const lookup of state.lookups) {
      if (lookup.parents.includes(path)) lookup.reset();  // its options depended on the old parent
    }
  }

  // ---- run, outcome, errors by their fields ------------------------------------------------------------
  async function run() {
    clearErrors();
    const input = state.root ? state.root.get() : {};
    ui.json.value = JSON.stringify(input, null, 2);
    ui.outcome.textContent = "…";
    ui.outcome.className = "";
    const reply = await callOperation(ui.operation.value, input);
    ui.outcome.textContent = reply.outcome;
    ui.outcome.className = reply.outcome;
    ui.output.textContent = reply.outcome === "success" || reply.status === undefined
      ? JSON.stringify(reply.output, null, 2) : reply.output.message;
    if (reply.status === 400) showFieldErrors(reply.output.message);
  }

  function showFieldErrors(message) {
    if (!message.startsWith(INVALID)) return;
    for (const part of message.slice(INVALID.length).trim().split("; ")) {
      const split = part.indexOf(": ");
      if (split < 0) continue;
      const path = part.slice(0, split).replace(/\[(\d+)\]/g, ".$1");
      const entry = nearestField(path);
      if (!entry) continue;
      entry.wrap.classList.add("invalid");
      entry.wrap.append(el("small", { class: "error", "data-testid": "field-error" }, part.slice(split + 2)));
    }
  }

  function nearestField(path) {
    for (let parts = path.split("."); parts.length; parts.pop()) {
      const entry = state.fields.get(parts.join("."));
      if (entry) return entry;
    }
    return null;
  }

  function clearError(wrap) {
    wrap.classList.remove("invalid");
    wrap.querySelectorAll(":scope > .error").forEach((node) => node.remove());
  }

  function clearErrors() {
    for (const entry of state.fields.values()) clearError(entry.wrap);
  }

  function applyJson() {
    let value;
    try { value = JSON.parse(ui.json.value || "{}"); } catch (error) {
      ui.outcome.textContent = "error";
      ui.output.textContent = `Input JSON: ${error.message}`;
      return;
    }
    if (state.root) state.root.set(value);
  }

  ui.connect.addEventListener("click", connect);
  ui.key.addEventListener("keydown", (event) => { if (event.key === "Enter") connect(); });
  ui.operation.addEventListener("change", renderForm);
  ui.auth.addEventListener("change", () => state.lookups.forEach((lookup) => lookup.reset()));
  ui.form.addEventListener("change", (event) => {
    const wrap = event.target.closest("[data-field]");
    if (wrap) changed(wrap.dataset.field);
  });
  ui.form.addEventListener("submit", (event) => event.preventDefault());
  ui.run.addEventListener("click", run);
  ui.jsonApply.addEventListener("click", applyJson);
})();
