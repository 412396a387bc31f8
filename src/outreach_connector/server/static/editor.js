// The solution editor: a form per operation, generated from the served input schema (form.js); fields with a
// `lookup` are searchable dropdowns (WAI-ARIA comboboxes) fed by the DDL operations through the server's
// own call endpoint; the Triggers view (triggers.js) subscribes the chosen authentication to Outreach events;
// "Connect Outreach" and "Reconnect" run the consent popup (consent.js); a Run's output is drawn by output.js.
// Plain browser JavaScript modules, no build step, nothing loaded from elsewhere, no innerHTML.
import { createConsentFlow } from "./consent.js";
import { el, readableType } from "./dom.js";
import { createForm } from "./form.js";
import { createOutputView } from "./output.js";
import { createTriggersView } from "./triggers.js";

const CONNECTOR = "outreach";
const AUTH_PAGE_SIZE = 100;  // the most GET /authentications gives at once
const AUTH_PAGES = 20;       // 2,000 authentications: a select longer than that is of no use to a person
const DDL_GROUP = "Dropdowns (DDL)";
const OTHER_GROUP = "Other";
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
const state = { key: "", base: "", operations: new Map(), groups: new Map() };  // operations: name -> op, listed order
const form = createForm(ui.form, callOperation, "Input");
const triggers = createTriggersView({ api, call: callOperation, problemText, authId: () => ui.auth.value });
const result = createOutputView({ outcome: ui.outcome, summary: ui.summary, tableBox: ui.tableBox,
                                  outputJson: ui.outputJson, output: ui.output });
const consent = createConsentFlow({
  api, problemText, authentications, setStatus: (text) => { ui.status.textContent = text; },
  listed: () => [...ui.auth.options].map((option) => option.value).filter(Boolean),
  choose: chooseAfterConsent,
});
const tabs = [...document.querySelectorAll("[role=tab]")];

// ---- the server ---------------------------------------------------------------------------------
// `signal`: an AbortSignal that cancels the request (a long poll no one waits for any more).
async function api(method, path, body, signal) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, signal,
                                   body: body === undefined ? undefined : JSON.stringify(body) });
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
  triggers.connected(state.base);
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
  if (ui.auth.value !== before) authenticationSwitched();
  authenticationChosen();
}

function authenticationChosen() {
  showAuthActions();
  updateRun();
  triggers.updateSubscribe();
}

// Another authentication chosen: dropdown options and subscriptions belonged to the one before.
function authenticationSwitched() {
  form.resetLookups();
  triggers.authenticationChanged();
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
  button.addEventListener("click", () => consent.start(option.value, option.dataset.name));
  ui.authActions.replaceChildren(button, why);
}

// The list a consent flow reloaded, choosing what it connected (else the current choice stays).
function chooseAfterConsent(auths, chosen) {
  const focusInActions = ui.authActions.contains(document.activeElement);
  fillAuthentications(auths.elements, auths.cut, chosen || ui.auth.value);
  if (focusInActions && !ui.authActions.contains(document.activeElement)) ui.auth.focus();  // Reconnect is gone
}

// ---- the operation picker: grouped by resource, with a filter box ------------------------------------
function fillOperations(elements) {
  state.operations = new Map(elements.map((op) => [op.name, op]));
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
  const shown = [...state.operations.values()].filter(matches);
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
  const total = state.operations.size;
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
  result.clear();
  ui.description.textContent = op ? op.description : "";
  updateRun();
  form.render(op ? op.inputSchema : null);
}

// ---- run, outcome, output, errors by their fields -----------------------------------------------------
async function run() {
  form.clearErrors();
  const input = form.value();
  ui.json.value = JSON.stringify(input, null, 2);
  result.clear();
  ui.outcome.textContent = "running…";
  const reply = await callOperation(ui.operation.value, input);
  result.show(reply);
  if (reply.status === 400) form.showErrors(reply.output.errors);
}

function applyJson() {
  let value;
  try { value = JSON.parse(ui.json.value || "{}"); } catch (error) {
    ui.outcome.textContent = "error";
    ui.output.textContent = `Input JSON: ${error.message}`;
    return;
  }
  form.fill(value);
}

// ---- the views: Operations and Triggers, as WAI-ARIA tabs (arrow keys and Home/End move between them) ------
function showView(tab) {
  for (const each of tabs) {
    const chosen = each === tab;
    each.setAttribute("aria-selected", String(chosen));
    each.tabIndex = chosen ? 0 : -1;
    document.getElementById(each.getAttribute("aria-controls")).hidden = !chosen;
  }
  triggers.setVisible(tab.dataset.view === "triggers");
}

function tabKey(event) {
  const at = tabs.indexOf(event.currentTarget);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const tab = tabs[(to + tabs.length) % tabs.length];
  tab.focus();
  showView(tab);
}

tabs.forEach((tab) => {
  tab.addEventListener("click", () => showView(tab));
  tab.addEventListener("keydown", tabKey);
});
ui.connect.addEventListener("click", connect);
ui.key.addEventListener("keydown", (event) => { if (event.key === "Enter") connect(); });
ui.operation.addEventListener("change", renderForm);
ui.operationFilter.addEventListener("input", showOperations);
ui.auth.addEventListener("change", () => { authenticationSwitched(); authenticationChosen(); });
ui.connectOutreach.addEventListener("click", () => consent.start(null));
ui.run.addEventListener("click", run);
ui.jsonApply.addEventListener("click", applyJson);
