// A form generated from an input schema, as the editor draws it for operations and for triggers: every field
// labelled and wrapped in `data-field="<dotted input path>"`, lookups as WAI-ARIA comboboxes fed by the DDL
// operations, arrays that renumber, "More fields" for the rest, and a 400's `errors` placed by their fields.
// Each form keeps its own fields, so the operation form and the trigger form live side by side.
import { el, nextId } from "./dom.js";
import { Lookup, TEMPLATE, idOrText } from "./lookup.js";

const CUSTOM_FIELD = /^custom[0-9]+$/;               // Outreach's numbered custom fields: folded

// `container`: where the fields go (a <form>); `call(operation, input)`: runs a DDL operation for a lookup
// and answers {outcome, output}; `label`: what the form is, for names such as "Filter the more fields of …".
export function createForm(container, call, label) {
  const fields = new Map();   // dotted input path -> {wrap, text, control, get, set}
  let lookups = [];
  let aliases = new Map();    // path as sent (empty array items left out) -> path of its field
  let root = null;

  function render(schema) {
    fields.clear();
    lookups = [];
    root = null;
    container.replaceChildren();
    if (!schema) return;
    root = objectControl(schema, "", label);
    container.append(...root.node.childNodes);
  }

  // The input as Run or Subscribe sends it (empty fields left out).
  function value() {
    aliases = new Map();
    return root ? root.get() : {};
  }

  function requiredMark() {
    return el("span", { class: "required", "aria-hidden": "true", title: "required" }, "*");
  }

  // One field: its label tied to its control, its description and (later) its error tied by
  // aria-describedby, the wrapper carrying the dotted input path.
  function field(schema, path, required, title) {
    const text = title || schema.title || path.split(".").pop();
    const wrap = el("div", { class: "field", "data-field": path });
    const control = controlFor(schema, path, text);
    if (control.legend) {
      control.legend.append(text);
      if (required) control.legend.append(requiredMark());
      wrap.append(control.node);
    } else {
      const label = el("label", { class: "label", for: control.id }, text);
      if (required) label.append(requiredMark());
      wrap.append(label, control.node);
      if (required) control.focusable.setAttribute("aria-required", "true");
    }
    let description = null;
    if (schema.description) {
      description = el("small", { class: "description", id: nextId("desc") }, schema.description);
      wrap.append(description);
    }
    const entry = { wrap, text, control, description, get: control.get, set: control.set };
    fields.set(path, entry);
    describe(entry);
    return wrap;
  }

  // aria-describedby of a field's control: its error first, then its description.
  function describe(entry, error) {
    const target = entry.control.focusable;
    if (!target) return;
    const ids = [error && error.id, entry.description && entry.description.id].filter(Boolean);
    if (ids.length) target.setAttribute("aria-describedby", ids.join(" "));
    else target.removeAttribute("aria-describedby");
  }

  function typesOf(schema) {
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    return types.filter((t) => t !== "null");
  }

  // A `oneOf` is shown as its first object alternative (e.g. one sort key); the rest stay reachable through
  // "Input as JSON".
  function formShape(schema) {
    if (!schema.properties && !schema.type && Array.isArray(schema.oneOf)) {
      const shape = schema.oneOf.find((part) => part && part.properties);
      if (shape) return { ...shape, title: schema.title, description: schema.description };
    }
    return schema;
  }

  function controlFor(given, path, text) {
    const schema = formShape(given);
    const types = typesOf(schema);
    if (schema.lookup) return lookupControl(schema, path, text);
    if (schema.enum) return enumControl(schema.enum, schema.enum.map(String));
    if (schema.properties) return objectControl(schema, path, text);
    if (types.length === 1 && types[0] === "array" && schema.items && !Array.isArray(schema.items)) {
      return arrayControl(schema.items, path, text);
    }
    if (types.length === 1 && types[0] === "boolean") return enumControl([true, false], ["Yes", "No"]);
    if (types.length === 1 && (types[0] === "integer" || types[0] === "number")) return numberControl();
    if (types.length === 2 && types.includes("integer") && types.includes("string")) return textControl(idOrText);
    if (types.includes("string") && !types.includes("object")) return textControl((value) => value);
    return jsonControl();
  }

  function textControl(convert) {
    const input = el("input", { type: "text", id: nextId("field") });
    return { node: input, focusable: input, id: input.id,
             get: () => (input.value.trim() === "" ? undefined : convert(input.value.trim())),
             set: (v) => { input.value = v === undefined || v === null ? "" : String(v); } };
  }

  function numberControl() {
    const input = el("input", { type: "number", step: "any", id: nextId("field") });
    return { node: input, focusable: input, id: input.id,
             get: () => (input.value === "" ? undefined : Number(input.value)),
             set: (v) => { input.value = v === undefined || v === null ? "" : String(v); } };
  }

  function enumControl(values, labels) {
    const select = el("select", { id: nextId("field") }, el("option", { value: "" }, "— not set —"),
                      ...values.map((v, i) => el("option", { value: String(i) }, v === null ? "null" : labels[i])));
    return { node: select, focusable: select, id: select.id,
             get: () => (select.value === "" ? undefined : values[Number(select.value)]),
             set: (v) => { const i = values.indexOf(v); select.value = i < 0 ? "" : String(i); } };
  }

  function jsonControl() {
    const area = el("textarea", { rows: "2", spellcheck: "false", id: nextId("field"), placeholder: "JSON" });
    const get = () => {
      const text = area.value.trim();
      if (text === "") return undefined;
      try { return JSON.parse(text); } catch (error) { return text; }  // the server names what is wrong
    };
    return { node: area, focusable: area, id: area.id, get,
             set: (v) => { area.value = v === undefined ? "" : JSON.stringify(v); } };
  }

  // The members people fill first: required ones (in the schema's order), then the others; custom fields and
  // the schema's `advanced` ones (on long attribute lists: all but the common ones) fold behind "More fields".
  function arrangeMembers(schema) {
    const names = Object.keys(schema.properties || {});
    const required = (schema.required || []).filter((name) => names.includes(name));
    const rest = names.filter((name) => !required.includes(name));
    const folded = (name) => CUSTOM_FIELD.test(name) || (schema.advanced || []).includes(name);
    return { first: [...required, ...rest.filter((name) => !folded(name))], more: rest.filter(folded), required };
  }

  function objectControl(schema, path, text) {
    const legend = path ? el("legend") : null;
    const box = path ? el("fieldset", {}, legend) : el("div");
    const { first, more, required } = arrangeMembers(schema);
    const member = (name) => {
      const childPath = path ? `${path}.${name}` : name;
      return [name, childPath, field(schema.properties[name], childPath, required.includes(name))];
    };
    const shown = first.map(member);
    box.append(...shown.map(([, , wrap]) => wrap));
    const folded = more.map(member);
    if (folded.length) box.append(moreFields(folded.map(([, , wrap]) => wrap), text));
    const children = [...shown, ...folded];
    const get = () => {
      const out = {};
      for (const [name, childPath] of children) {
        const value = fields.get(childPath).get();
        if (value !== undefined) out[name] = value;
      }
      return Object.keys(out).length || !path ? out : undefined;
    };
    const set = (value) => {
      for (const [name, childPath] of children) fields.get(childPath).set((value || {})[name]);
    };
    return { node: box, legend, get, set };
  }

  // "More fields (N)": folded, with a filter box that keeps the fields whose label or name has its text.
  function moreFields(wraps, text) {
    const filter = el("input", { type: "search", "data-testid": "field-filter", autocomplete: "off",
                                 "aria-label": `Filter the more fields of ${text}` });
    const count = el("span", { class: "hint", role: "status" });
    const details = el("details", { class: "more-fields", "data-testid": "more-fields" },
                       el("summary", {}, `More fields (${wraps.length})`), filter, count, ...wraps);
    filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      let kept = 0;
      for (const wrap of wraps) {
        const entry = fields.get(wrap.dataset.field);
        const keep = !wanted || entry.text.toLowerCase().includes(wanted)
          || wrap.dataset.field.toLowerCase().includes(wanted);
        wrap.hidden = !keep;
        kept += keep ? 1 : 0;
      }
      count.textContent = wanted ? `${kept} of ${wraps.length} fields match` : "";
    });
    return details;
  }

  // Forget the fields (and dropdowns) under a path: their wrappers are gone.
  function forget(prefix) {
    for (const path of [...fields.keys()]) if (path.startsWith(prefix)) fields.delete(path);
    lookups = lookups.filter((lookup) => !lookup.path.startsWith(prefix));
  }

  // An array: items numbered from 1 on screen, paths 0.. in the input; removing one renumbers the rest,
  // so the form and what Run sends never disagree.
  function arrayControl(items, path, text) {
    const legend = el("legend");
    const list = el("div", { class: "items" });
    const add = el("button", { type: "button", class: "small", "data-testid": "add-item",
                               "aria-label": `Add an item to ${text}` }, "Add");
    const box = el("fieldset", { class: "array" }, legend, list, add);
    let entries = [];
    const append = (value) => {
      const index = entries.length;
      const itemPath = `${path}.${index}`;
      const item = field(items, itemPath, false, `${text} ${index + 1}`);
      const remove = el("button", { type: "button", class: "small", "data-testid": "remove-item",
                                    "aria-label": `Remove ${text} ${index + 1}` }, "Remove");
      remove.addEventListener("click", () => removeAt(index));
      item.append(remove);
      entries.push({ item, path: itemPath });
      list.append(item);
      if (value !== undefined) fields.get(itemPath).set(value);
      return item;
    };
    const render = (values) => {
      forget(`${path}.`);
      entries = [];
      list.replaceChildren();
      values.forEach((value) => append(value));
    };
    const removeAt = (index) => {
      const values = entries.map((entry) => fields.get(entry.path).get());
      values.splice(index, 1);
      render(values);
      const next = entries[Math.min(index, entries.length - 1)];
      (next ? next.item.querySelector(":scope > [data-testid=remove-item]") : add).focus();
    };
    add.addEventListener("click", () => {
      const item = append();
      const first = item.querySelector("input, select, textarea");
      if (first) first.focus();
    });
    const get = () => {
      const values = [];
      for (const entry of entries) {
        const value = fields.get(entry.path).get();
        if (value === undefined) continue;  // an empty item is not sent; errors still find their field
        aliases.set(`${path}.${values.length}`, entry.path);
        values.push(value);
      }
      return values.length ? values : undefined;
    };
    const set = (values) => render(Array.isArray(values) ? values : []);
    return { node: box, legend, get, set };
  }

  // ---- lookups: searchable, paged, dependent dropdowns ------------------------------------------------
  function lookupInput(template) {
    const input = {};
    for (const [key, raw] of Object.entries(template || {})) {
      const match = typeof raw === "string" && raw.match(TEMPLATE);
      if (!match) { input[key] = raw; continue; }
      const parent = fields.get(match[1]);
      const value = parent ? parent.get() : undefined;
      if (value !== undefined && value !== "") input[key] = value;  // no parent yet: not narrowed
    }
    return input;
  }

  function lookupControl(schema, path, text) {
    const lookup = new Lookup(schema.lookup, path, text, { call, inputFor: lookupInput, changed });
    lookups.push(lookup);
    return { node: lookup.node, focusable: lookup.input, id: lookup.input.id,
             get: () => lookup.get(), set: (value) => lookup.set(value) };
  }

  function changed(path) {
    const entry = fields.get(path);
    if (entry) clearError(entry);
    for (const lookup of lookups) {
      if (lookup.parents.includes(path)) lookup.reset();  // its options depended on the old parent
    }
  }

  // The 400's `errors`, each shown by its field (or the nearest field that holds it).
  function showFieldErrors(errors) {
    let first = null;
    for (const error of errors || []) {
      if (typeof error.path !== "string" || error.path === "") continue;
      const entry = nearestField(sentToField(error.path));
      if (!entry) continue;
      const message = el("small", { class: "error", "data-testid": "field-error", id: nextId("error") }, error.message);
      entry.wrap.classList.add("invalid");
      entry.wrap.append(message);
      const target = entry.control.focusable;
      if (target) {
        target.setAttribute("aria-invalid", "true");
        describe(entry, message);
        first = first || target;
      }
    }
    if (first) first.focus();
  }

  // A path as sent (empty array items left out) -> the path of the field on screen.
  function sentToField(path) {
    let out = "";
    for (const part of path.split(".")) {
      const next = out ? `${out}.${part}` : part;
      out = aliases.get(next) || next;
    }
    return out;
  }

  function nearestField(path) {
    for (let parts = path.split("."); parts.length; parts.pop()) {
      const entry = fields.get(parts.join("."));
      if (entry) return entry;
    }
    return null;
  }

  function clearError(entry) {
    entry.wrap.classList.remove("invalid");
    entry.wrap.querySelectorAll(":scope > .error").forEach((node) => node.remove());
    if (entry.control.focusable) entry.control.focusable.removeAttribute("aria-invalid");
    describe(entry);
  }

  function clearErrors() {
    for (const entry of fields.values()) clearError(entry);
  }

  container.addEventListener("change", (event) => {
    const wrap = event.target.closest("[data-field]");
    if (wrap) changed(wrap.dataset.field);
  });
  container.addEventListener("submit", (event) => event.preventDefault());

  return {
    render, value,
    fill: (input) => { if (root) root.set(input); },
    showErrors: showFieldErrors, clearErrors,
    resetLookups: () => lookups.forEach((lookup) => lookup.reset()),  // their options belonged to another account
  };
}
