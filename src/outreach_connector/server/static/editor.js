"use strict";
// The solution editor: a form per operation, generated from the served input schema; fields with a
// `lookup` are searchable dropdowns (WAI-ARIA comboboxes) fed by the DDL operations through the server's
// own call endpoint. Plain browser JavaScript, no build step, nothing loaded from elsewhere, no innerHTML.
(() => {
  const CONNECTOR = "outreach";
  const TEMPLATE = /^\{\{\{properties\.(.+)\}\}\}$/;  // falafel's reference to another input field
  const CUSTOM_FIELD = /^custom[0-9]+$/;               // Outreach's numbered custom fields: folded
  const AUTH_PAGE_SIZE = 100;  // the most GET /authentications gives at once
  const AUTH_PAGES = 20;       // 2,000 authentications: a select longer than that is of no use to a person
  const TABLE_ROWS = 500;      // rows the output table draws; the JSON has them all
  const DDL_GROUP = "Dropdowns (DDL)";
  const OTHER_GROUP = "Other";
  // record attributes worth a column in the output table, in this order, when the records have them
  const KEY_ATTRIBUTES = ["email", "emails", "title", "company", "state", "stepType", "action", "dueAt", "createdAt"];
  const $ = (selector) => document.querySelector(selector);
  const ui = {
    key: $("[data-testid=api-key]"), connect: $("[data-testid=connect]"), status: $("#status"),
    auth: $("[data-testid=auth]"), authActions: $("#auth-actions"), operation: $("[data-testid=operation]"),
    connectOutreach: $("[data-testid=connect-outreach]"),
    operationFilter: $("[data-testid=operation-filter]"), operationCount: $("#operation-count"),
    description: $("#description"), form: $("#form"), run: $("[data-testid=run]"), runHint: $("#run-hint"),
    outcome: $("[data-testid=outcome]"), summary: $("#outcome-summary"), tableBox: $("#output-table-box"),
    outputJson: $("#output-json"), output: $("[data-testid=output]"), json: $("#json-text"),
    jsonApply: $("#json-apply"),
  };
  const state = {
    key: "", base: "", operations: new Map(), operationList: [], groups: new Map(),
    fields: new Map(),   // dotted input path -> {wrap, text, control, get, set}
    lookups: [], root: null,
    aliases: new Map(),  // path as sent (empty array items left out) -> path of its field
  };
  let lastId = 0;
  const nextId = (prefix) => `${prefix}-${++lastId}`;

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  // ``sequenceState`` -> ``Sequence state``
  function readableType(name) {
    const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
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
    const errors = reply.data && Array.isArray(reply.data.errors) ? reply.data.errors : [];
    return { outcome: "error", status: reply.status, output: { message: problemText(reply), errors } };
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
    ui.connectOutreach.disabled = false;
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

  // One authentication as the select lists it: a status that needs the person's attention follows the name
  // ("reconnect required"; connected is the norm), and the chosen one's actions go into ui.authActions.
  function authenticationOption(auth) {
    const status = typeof auth.status === "string" && auth.status !== "connected" ? auth.status : "";
    const label = status ? `${auth.name} (${status.replace(/_/g, " ")})` : auth.name;
    return el("option", { value: auth.id, "data-status": status, "data-reason": auth.status_reason || "",
                          "data-name": auth.name }, label);
  }

  // (Re)fill the select, choosing `chosen` when listed (by default the current choice: a reload keeps it).
  function fillAuthentications(elements, cut, chosen = ui.auth.value) {
    const before = ui.auth.value;
    const options = elements.map(authenticationOption);
    if (cut) options.push(el("option", { value: "", disabled: "", "data-testid": "auth-cut" }, `— ${cut} —`));
    ui.auth.replaceChildren(el("option", { value: "" }, "— choose an authentication —"), ...options);
    if (chosen && elements.some((auth) => auth.id === chosen)) ui.auth.value = chosen;
    else if (elements.length === 1) ui.auth.value = elements[0].id;
    ui.auth.disabled = false;
    if (ui.auth.value !== before) state.lookups.forEach((lookup) => lookup.reset());  // options of another account
    authenticationChosen();
  }

  function authenticationChosen() {
    showAuthActions();
    updateRun();
  }

  const RECONNECT_REASONS = {
    invalid_grant: "Outreach refused its refresh token",
    access_token_rejected: "Outreach rejected its access token",
  };

  // "Reconnect" beside the select while the chosen authentication needs it, with the reason as its description.
  function showAuthActions() {
    const option = ui.auth.selectedOptions[0];
    if (!option || option.dataset.status !== "reconnect_required") return void ui.authActions.replaceChildren();
    const reason = RECONNECT_REASONS[option.dataset.reason] || "It needs reconnecting";
    const why = el("span", { id: "reconnect-why", class: "hint" },
                   `${reason}: reconnect it through Outreach's consent page (it keeps its id).`);
    const button = el("button", { type: "button", "data-testid": "reconnect", "aria-describedby": why.id },
                      "Reconnect");
    button.addEventListener("click", () => startConsent(option.value, option.dataset.name));
    ui.authActions.replaceChildren(button, why);
  }

  // ---- connecting Outreach: its consent page in a popup; the server's callback page posts how it went ------
  const CONNECTED = "outreach-connector:connected";
  const NOT_CONNECTED = "outreach-connector:error";
  const POPUP_CHECK_MS = 500;  // how often the page looks whether the consent window was closed
  const CONSENT_ERRORS = {
    access_denied: "the consent was denied",
    invalid_grant: "Outreach refused the authorization code",
    too_many_authentications: "this API key holds as many authentications as the server allows",
    authentication_not_found: "the authentication to reconnect no longer exists",
    server_not_configured: "the server that got Outreach's answer has no Outreach app",
  };
  const CONSENT_LIFE_MS = 10 * 60 * 1000;  // a connect link's life: no answer can come later than that
  let consent = null;  // the flow in progress: {popup, authId, name, known (ids listed before), timer, closedSeen}
  let unanswered = null;  // {flow, until}: its window closed with no message and nothing new was listed

  function newConnectionName() {
    return `Outreach (connected ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)`;
  }

  function isWebUrl(text) {
    try {
      return ["https:", "http:"].includes(new URL(text).protocol);
    } catch (error) {
      return false;
    }
  }

  // A new authentication (authId null) or a reconnect of `authId`, which keeps its id.
  async function startConsent(authId, name) {
    if (consent && !consent.popup.closed) return void consent.popup.focus();  // one flow at a time
    if (consent) clearInterval(consent.timer);  // its window is closed: this click starts over
    unanswered = null;
    // Opened now, inside the click, which pop-up blockers allow; sent to Outreach once the server answers.
    const popup = window.open("about:blank", "_blank", "popup,width=640,height=760");
    if (!popup) {
      ui.status.textContent = "The browser blocked the consent window: allow pop-ups for this page, then try again.";
      return;
    }
    popup.document.title = "Connecting Outreach";
    popup.document.body.textContent = "Opening Outreach's consent page…";
    const flow = { popup, authId, name: name || newConnectionName(), timer: null, closedSeen: false,
                   known: new Set([...ui.auth.options].map((option) => option.value).filter(Boolean)) };
    consent = flow;
    ui.status.textContent = authId ? `Reconnecting ${flow.name}: answer Outreach's consent page in the new window.`
      : "Connecting Outreach: answer its consent page in the new window.";
    const body = authId ? { name: flow.name, authentication_id: authId } : { name: flow.name };
    const reply = await api("POST", "/authentications/connect", body);
    if (consent !== flow) return;
    if (reply.status !== 201 || !reply.data || !isWebUrl(reply.data.authorize_url)) {
      consent = null;
      popup.close();
      ui.status.textContent = `Outreach cannot be connected: ${problemText(reply)}`;
      return;
    }
    popup.location.replace(reply.data.authorize_url);  // a bearer credential: it goes to this window only
    flow.timer = setInterval(() => watchPopup(flow), POPUP_CHECK_MS);
  }

  // A closed window ends the flow one check later: a message it posted as it closed arrives first.
  function watchPopup(flow) {
    if (consent !== flow) return void clearInterval(flow.timer);
    if (!flow.popup.closed) return;
    if (flow.closedSeen) finishConsent(flow, null);
    flow.closedSeen = true;
  }

  function consentMessage(event) {
    const flow = consent;
    if (!flow || event.source !== flow.popup || event.origin !== window.location.origin) return;
    const data = event.data;
    if (data && data.type === CONNECTED && typeof data.authentication_id === "string") finishConsent(flow, data);
    else if (data && data.type === NOT_CONNECTED) finishConsent(flow, { type: NOT_CONNECTED, error: String(data.error) });
  }

  async function finishConsent(flow, message) {
    if (consent !== flow) return;
    consent = null;
    clearInterval(flow.timer);
    if (message && message.type === NOT_CONNECTED) {
      const code = message.error.slice(0, 100);
      const meaning = CONSENT_ERRORS[code] ? ` (${CONSENT_ERRORS[code]})` : "";
      ui.status.textContent = `Outreach was not connected: ${code}${meaning}. Nothing was stored.`;
      return;
    }
    await reloadAfterConsent(flow, message);
  }

  // The list again, choosing what the flow connected (the message's id, the reconnected one, or the one new id).
  async function reloadAfterConsent(flow, message) {
    ui.status.textContent = "Reloading the authentications…";
    const auths = await authentications();
    if (auths.status !== 200 && !auths.elements.length) {
      ui.status.textContent = `The authentications could not be reloaded: ${problemText(auths)}`;
      return;
    }
    const added = auths.elements.filter((auth) => !flow.known.has(auth.id));
    const chosen = message ? message.authentication_id : flow.authId || (added.length === 1 ? added[0].id : "");
    const focusInActions = ui.authActions.contains(document.activeElement);
    fillAuthentications(auths.elements, auths.cut, chosen || ui.auth.value);
    if (focusInActions && !ui.authActions.contains(document.activeElement)) ui.auth.focus();  // Reconnect is gone
    const auth = auths.elements.find((listed) => listed.id === chosen);
    const done = Boolean(message) || (flow.authId ? Boolean(auth) && auth.status === "connected" : Boolean(auth));
    unanswered = done ? null : { flow, until: Date.now() + CONSENT_LIFE_MS };
    ui.status.textContent = consentOutcome(flow, auth, message);
  }

  const COME_BACK = "If you finish in it, the list reloads when you come back to this page.";

  function consentOutcome(flow, auth, message) {
    if (flow.authId) {
      return auth && auth.status === "connected" ? `${auth.name} is reconnected.`
        : `${flow.name} still needs reconnecting: the consent window closed with no answer. ${COME_BACK}`;
    }
    if (auth) return `Outreach connected: ${auth.name}, now chosen.`;
    if (message) return `Outreach connected (${message.authentication_id}), past the authentications listed here.`;
    return `The consent window closed with no answer; no authentication was added. ${COME_BACK}`;
  }

  // A page in the consent window that cuts it off from this one (a Cross-Origin-Opener-Policy, as a sign-on
  // page may send) looks closed from here, and its message never comes: look again when the person is back.
  function backFromConsent() {
    const pending = unanswered;
    if (!pending || consent) return;
    unanswered = null;
    if (Date.now() < pending.until) reloadAfterConsent(pending.flow, null);
  }

  // ---- the operation picker: grouped by resource, with a filter box ------------------------------------
  function fillOperations(elements) {
    state.operations = new Map(elements.map((op) => [op.name, op]));
    state.operationList = elements;
    state.groups = operationGroups(elements);
    ui.operationFilter.disabled = false;
    ui.operation.disabled = false;
    showOperations();
  }

  // The record type an operation answers with (its output's data.type), or null.
  function resourceType(schema) {
    const node = schema && Array.isArray(schema.oneOf) ? schema.oneOf[0] : schema;
    let data = node && node.properties && node.properties.data;
    if (data && data.items) data = data.items;
    const type = data && data.properties && data.properties.type;
    return type && Array.isArray(type.enum) && type.enum.length === 1 ? type.enum[0] : null;
  }

  // operation name -> group label. Operations whose output names no type (delete, bulk) join the type their
  // name mentions first (delete_prospect, batch_prospects_…).
  function operationGroups(elements) {
    const snakeTypes = new Map();
    for (const op of elements) {
      const type = resourceType(op.outputSchema);
      if (type) snakeTypes.set(type.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase(), type);
    }
    const groups = new Map();
    for (const op of elements) {
      let type = op.name.endsWith("_ddl") ? null : resourceType(op.outputSchema);
      if (!type && !op.name.endsWith("_ddl")) {
        let best = null;
        for (const [snake, name] of snakeTypes) {
          const at = op.name.search(new RegExp(`(^|_)${snake}(s|es)?(_|$)`));
          if (at >= 0 && (!best || at < best.at || (at === best.at && snake.length > best.snake.length))) {
            best = { at, snake, name };
          }
        }
        type = best && best.name;
      }
      groups.set(op.name, op.name.endsWith("_ddl") ? DDL_GROUP : type ? readableType(type) : OTHER_GROUP);
    }
    return groups;
  }

  function showOperations() {
    const text = ui.operationFilter.value.trim().toLowerCase();
    const chosen = ui.operation.value;
    const matches = (op) => !text || op.name.toLowerCase().includes(text) || op.title.toLowerCase().includes(text);
    const shown = state.operationList.filter(matches);
    const byGroup = new Map();
    for (const op of shown) {
      const group = state.groups.get(op.name);
      if (!byGroup.has(group)) byGroup.set(group, []);
      byGroup.get(group).push(op);
    }
    const last = (group) => (group === DDL_GROUP ? 2 : group === OTHER_GROUP ? 1 : 0);
    const order = [...byGroup.keys()].sort((a, b) => last(a) - last(b) || a.localeCompare(b));
    const option = (op) => el("option", { value: op.name }, op.title);
    ui.operation.replaceChildren(
      el("option", { value: "" }, shown.length ? "— choose an operation —" : "— no operation matches —"),
      ...order.map((group) => el("optgroup", { label: group },
        ...byGroup.get(group).sort((a, b) => a.title.localeCompare(b.title)).map(option))));
    const total = state.operationList.length;
    ui.operationCount.textContent = text ? `${shown.length} of ${total} operations match` : `${total} operations`;
    if (shown.some((op) => op.name === chosen)) ui.operation.value = chosen;
    else if (chosen) renderForm();  // the chosen operation no longer listed: its form goes with it
  }

  // ---- Run: enabled only when it can work, and saying why not -----------------------------------------
  function updateRun() {
    const op = state.operations.get(ui.operation.value);
    const why = !state.base ? "Connect to the server first."
      : !ui.auth.value ? "Choose an authentication to run an operation."
        : !op ? "Choose an operation to run." : "";
    ui.run.disabled = why !== "";
    ui.runHint.textContent = why;
  }

  // ---- the form -------------------------------------------------------------------------------------
  function renderForm() {
    const op = state.operations.get(ui.operation.value);
    state.fields = new Map();
    state.lookups = [];
    state.root = null;
    ui.form.replaceChildren();
    clearResult();
    ui.description.textContent = op ? op.description : "";
    updateRun();
    if (!op) return;
    state.root = objectControl(op.inputSchema, "", "Input");
    ui.form.append(...state.root.node.childNodes);
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
    state.fields.set(path, entry);
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

  function idOrText(text) {
    return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : text;
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
        const value = state.fields.get(childPath).get();
        if (value !== undefined) out[name] = value;
      }
      return Object.keys(out).length || !path ? out : undefined;
    };
    const set = (value) => {
      for (const [name, childPath] of children) state.fields.get(childPath).set((value || {})[name]);
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
        const entry = state.fields.get(wrap.dataset.field);
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
    for (const path of [...state.fields.keys()]) if (path.startsWith(prefix)) state.fields.delete(path);
    state.lookups = state.lookups.filter((lookup) => !lookup.path.startsWith(prefix));
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
      if (value !== undefined) state.fields.get(itemPath).set(value);
      return item;
    };
    const render = (values) => {
      forget(`${path}.`);
      entries = [];
      list.replaceChildren();
      values.forEach((value) => append(value));
    };
    const removeAt = (index) => {
      const values = entries.map((entry) => state.fields.get(entry.path).get());
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
        const value = state.fields.get(entry.path).get();
        if (value === undefined) continue;  // an empty item is not sent; errors still find their field
        state.aliases.set(`${path}.${values.length}`, entry.path);
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
      const parent = state.fields.get(match[1]);
      const value = parent ? parent.get() : undefined;
      if (value !== undefined && value !== "") input[key] = value;  // no parent yet: not narrowed
    }
    return input;
  }

  // One dropdown, the WAI-ARIA combobox pattern: a text input (role=combobox) that owns a listbox; arrow
  // keys move the active option (aria-activedescendant), Enter chooses it, Escape closes the list.
  class Lookup {
    constructor(lookup, path, text) {
      this.operation = lookup.operation;
      this.template = lookup.input || {};
      this.path = path;
      this.parents = Object.values(this.template)
        .map((t) => (typeof t === "string" && t.match(TEMPLATE) || [])[1]).filter(Boolean);
      const listId = nextId("listbox");
      this.input = el("input", { type: "text", id: nextId("field"), role: "combobox", "aria-autocomplete": "list",
                                 "aria-expanded": "false", "aria-controls": listId, autocomplete: "off",
                                 placeholder: "Type to search…" });
      this.list = el("ul", { role: "listbox", id: listId, hidden: "", "aria-label": `${text} options` });
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

    choose(option) {
      clearTimeout(this.timer);
      this.asked += 1;  // an answer still on its way must not reopen the list
      this.chosen = option;
      this.input.value = option.text;
      this.close();
      changed(this.path);
    }

    reset() {
      clearTimeout(this.timer);
      this.asked += 1;
      this.chosen = null;
      this.next = null;
      this.input.value = "";
      this.highlight(null);
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
      const reply = await callOperation(this.operation, { ...lookupInput(this.template), value });
      const found = reply.outcome === "success" && reply.output.result[0];
      if (found && this.chosen === saved) { this.chosen = found; this.input.value = found.text; }
    }
  }

  function lookupControl(schema, path, text) {
    const lookup = new Lookup(schema.lookup, path, text);
    state.lookups.push(lookup);
    return { node: lookup.node, focusable: lookup.input, id: lookup.input.id,
             get: () => lookup.get(), set: (value) => lookup.set(value) };
  }

  function changed(path) {
    const entry = state.fields.get(path);
    if (entry) clearError(entry);
    for (const lookup of state.lookups) {
      if (lookup.parents.includes(path)) lookup.reset();  // its options depended on the old parent
    }
  }

  // ---- run, outcome, output, errors by their fields -----------------------------------------------------
  async function run() {
    clearErrors();
    state.aliases = new Map();
    const input = state.root ? state.root.get() : {};
    ui.json.value = JSON.stringify(input, null, 2);
    clearResult();
    ui.outcome.textContent = "running…";
    const reply = await callOperation(ui.operation.value, input);
    showResult(reply);
    if (reply.status === 400) showFieldErrors(reply.output.errors);
  }

  function clearResult() {
    ui.outcome.textContent = "";
    ui.outcome.className = "";
    ui.summary.textContent = "";
    ui.tableBox.replaceChildren();
    ui.output.textContent = "";
    ui.outputJson.open = true;
  }

  function showResult(reply) {
    ui.outcome.textContent = reply.outcome;
    ui.outcome.className = reply.outcome;
    const problem = reply.outcome !== "success" && reply.status !== undefined;  // the server refused the call
    ui.output.textContent = problem ? reply.output.message : JSON.stringify(reply.output, null, 2);
    const table = problem ? null : outputTable(reply.output);
    if (table) {
      ui.tableBox.append(table.node);
      ui.outputJson.open = false;  // the table first, the JSON one click away
      ui.summary.textContent = table.summary;
    } else if (problem && reply.status === 400) {
      ui.summary.textContent = "The fields marked below need attention.";
    }
  }

  // A list output as a table: one body row per record (JSON:API records, or a dropdown's options).
  function outputTable(output) {
    if (output && Array.isArray(output.data)) return recordsTable(output.data);
    if (output && Array.isArray(output.result)) {
      return table(["Text", "Value"], output.result.map((o) => [o.text, o.value]), `${output.result.length} options`);
    }
    return null;
  }

  function recordsTable(records) {
    const attributes = (record) => (record && record.attributes) || {};
    const keys = KEY_ATTRIBUTES.filter((key) => records.some((r) => present(attributes(r)[key])));
    const columns = keys.filter((key) => key !== labelKey(records)).slice(0, 3);
    const rows = records.map((record) => [record.id, recordLabel(attributes(record)),
                                          ...columns.map((key) => attributes(record)[key])]);
    const type = records.length && records[0].type ? readableType(records[0].type).toLowerCase() : "record";
    return table(["ID", "Label", ...columns.map(readableType)], rows,
                 `${records.length} ${type} record${records.length === 1 ? "" : "s"}`);
  }

  function present(value) {
    return value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && !value.length);
  }

  function labelKey(records) {
    const first = records.find((r) => r && r.attributes) || {};
    return ["name", "title", "email", "subject"].find((key) => present((first.attributes || {})[key])) || null;
  }

  function recordLabel(attributes) {
    const full = [attributes.firstName, attributes.lastName].filter(present).join(" ");
    return [attributes.name, full, attributes.title, attributes.email, attributes.subject, attributes.text]
      .find(present) || "—";
  }

  function cellText(value) {
    if (!present(value)) return "";
    if (Array.isArray(value)) return value.map(cellText).join(", ");
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function table(headings, rows, summary) {
    const shown = rows.slice(0, TABLE_ROWS);
    const caption = rows.length > shown.length ? `${summary} (the first ${shown.length} shown)` : summary;
    const node = el("table", { "data-testid": "output-table" }, el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...shown.map((row) => el("tr", {}, ...row.map((cell) => el("td", {}, cellText(cell)))))));
    return { node: el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": summary }, node),
             summary: `${summary}; the JSON is under "Output as JSON".` };
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
      out = state.aliases.get(next) || next;
    }
    return out;
  }

  function nearestField(path) {
    for (let parts = path.split("."); parts.length; parts.pop()) {
      const entry = state.fields.get(parts.join("."));
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
    for (const entry of state.fields.values()) clearError(entry);
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
  ui.operationFilter.addEventListener("input", showOperations);
  ui.auth.addEventListener("change", () => { state.lookups.forEach((lookup) => lookup.reset()); authenticationChosen(); });
  ui.connectOutreach.addEventListener("click", () => startConsent(null));
  window.addEventListener("message", consentMessage);
  window.addEventListener("focus", backFromConsent);
  ui.form.addEventListener("change", (event) => {
    const wrap = event.target.closest("[data-field]");
    if (wrap) changed(wrap.dataset.field);
  });
  ui.form.addEventListener("submit", (event) => event.preventDefault());
  ui.run.addEventListener("click", run);
  ui.jsonApply.addEventListener("click", applyJson);
})();
