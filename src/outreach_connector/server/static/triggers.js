// The Triggers view: subscribe the chosen authentication to an Outreach event (POST …/subscriptions), list its
// subscriptions (status, last event, last error, Delete), and watch one subscription's events arrive by long
// poll (GET /subscriptions/{sid}/events?after=&wait=). The subscription's body is a form generated like the
// operation forms (form.js): `input.<filter>`, `mode`, `callback_url`, so a 400's `errors` land on their fields.
import { cellText, el, present, readableType } from "./dom.js";
import { createForm } from "./form.js";

const WAIT_SECONDS = 25;  // one long poll (the server holds it up to 30 s)
const READ_LIMIT = 100;   // events one read asks for
const EVENTS_KEPT = 200;  // rows the events table keeps, the newest
const RETRY_MS = 3000;    // pause after a failed read before the next
const ATTRIBUTES_SHOWN = 4;  // attributes summed up in an event's row; the JSON has them all
// the attributes that say which record it is or what happened to it come first (a poll's event carries them all)
const FIRST_ATTRIBUTES = ["name", "firstName", "lastName", "title", "subject", "email", "emails", "state", "action"];
const MODE = {
  enum: ["webhook", "poll"], title: "Mode",
  description: "Webhook: Outreach sends each event as it happens. Poll: the server asks Outreach for changes "
    + "every poll interval (deletions cannot be polled).",
};
const CALLBACK = {
  type: "string", title: "Callback URL",
  description: "Optional: the server also POSTs each event there, signed (it must be on the server's "
    + "--allow-callback-url list). Events stay readable here either way.",
};

// deps: {api(method, path, body, signal), call(operation, input), problemText(reply), authId()}
export function createTriggersView(deps) {
  const $ = (selector) => document.querySelector(selector);
  const ui = {
    trigger: $("[data-testid=trigger]"), description: $("#trigger-description"), form: $("#trigger-form"),
    subscribe: $("[data-testid=subscribe]"), hint: $("#subscribe-hint"), outcome: $("[data-testid=trigger-outcome]"),
    secret: $("#delivery-secret"), subscriptions: $("[data-testid=subscriptions]"),
    subscriptionsHeading: $("#subscriptions-heading"), events: $("[data-testid=events]"),
    refresh: $("[data-testid=refresh-subscriptions]"),
    eventsStatus: $("#events-status"),
  };
  const form = createForm(ui.form, deps.call, "the subscription");
  const state = { base: "", triggers: new Map(), subscriptions: [], visible: false };
  // the subscription whose events are shown: {sid, title, after (the cursor), events (newest first),
  // reader (the AbortController of its reading loop, null while paused), jsonOf}
  let watched = null;

  // ---- the trigger picker: grouped by the Outreach resource its event belongs to -------------------------
  async function connected(base) {
    state.base = base;
    const reply = await deps.api("GET", `${base}/triggers`);
    if (reply.status !== 200) return void (ui.outcome.textContent = `Triggers: ${deps.problemText(reply)}`);
    state.triggers = new Map(reply.data.elements.map((trigger) => [trigger.name, trigger]));
    fillTriggers(reply.data.elements);
    authenticationChanged();
  }

  // `prospect.created` (the output's one event name) -> `Prospect`; else the name without its action.
  function resourceOf(trigger) {
    const event = trigger.outputSchema && trigger.outputSchema.properties && trigger.outputSchema.properties.event;
    const name = event && Array.isArray(event.enum) && event.enum.length === 1 ? String(event.enum[0]) : "";
    return readableType(name.includes(".") ? name.split(".")[0] : trigger.name.replace(/_[a-z]+$/, ""));
  }

  function fillTriggers(elements) {
    const groups = new Map();
    for (const trigger of elements) {
      const group = resourceOf(trigger);
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(trigger);
    }
    const option = (trigger) => el("option", { value: trigger.name }, trigger.title);
    ui.trigger.replaceChildren(el("option", { value: "" }, "— choose a trigger —"),
      ...[...groups.keys()].sort().map((group) => el("optgroup", { label: group }, ...groups.get(group).map(option))));
    ui.trigger.disabled = false;
    renderForm();
  }

  // The body of POST …/subscriptions as a form: the trigger's filters under `input`, then mode and callback URL
  // (kept from the previous trigger's form).
  function renderForm() {
    const trigger = state.triggers.get(ui.trigger.value);
    const kept = trigger ? form.value() : {};
    ui.description.textContent = trigger ? trigger.description : "";
    const filters = trigger && trigger.inputSchema;
    const properties = {};
    if (filters && Object.keys(filters.properties || {}).length) properties.input = { ...filters, title: "Filters" };
    Object.assign(properties, { mode: MODE, callback_url: CALLBACK });
    form.render(trigger ? { type: "object", properties } : null);
    form.fill({ mode: kept.mode || "webhook", callback_url: kept.callback_url });
    updateSubscribe();
  }

  function updateSubscribe() {
    const why = !state.base ? "Connect to the server first."
      : !deps.authId() ? "Choose an authentication to subscribe it."
        : !ui.trigger.value ? "Choose a trigger to subscribe to." : "";
    ui.subscribe.disabled = why !== "";
    ui.hint.textContent = why;
  }

  // ---- subscribe -------------------------------------------------------------------------------------------
  async function subscribe() {
    const trigger = state.triggers.get(ui.trigger.value);
    form.clearErrors();
    ui.secret.replaceChildren();
    ui.outcome.textContent = `Subscribing to ${trigger.title}…`;
    const body = { trigger: trigger.name, ...form.value() };
    ui.subscribe.disabled = true;  // one subscription per press
    const reply = await deps.api("POST", `/authentications/${encodeURIComponent(deps.authId())}/subscriptions`, body);
    updateSubscribe();
    if (reply.status !== 201) {
      ui.outcome.textContent = `Not subscribed: ${deps.problemText(reply)}`;
      if (reply.status === 400 && reply.data && Array.isArray(reply.data.errors)) form.showErrors(reply.data.errors);
      return;
    }
    ui.outcome.textContent = `Subscribed to ${trigger.title} (${body.mode || "webhook"}): its events show below.`;
    if (reply.data.delivery_secret) showDeliverySecret(reply.data.delivery_secret);
    await loadSubscriptions();
    const made = state.subscriptions.find((sub) => sub.id === reply.data.id);
    if (made) watch(made);
  }

  // The key that signs the pushes to the callback URL: the server shows it this once.
  function showDeliverySecret(secret) {
    const code = el("code", { "data-testid": "delivery-secret" }, secret);
    ui.secret.replaceChildren("Delivery secret (shown once: keep it to check the pushes' signatures): ", code);
  }

  // ---- the authentication's subscriptions --------------------------------------------------------------------
  async function loadSubscriptions() {
    const auth = deps.authId();
    if (!state.base || !auth) return void showSubscriptions([]);
    const reply = await deps.api("GET", `/authentications/${encodeURIComponent(auth)}/subscriptions`);
    if (auth !== deps.authId()) return;  // another authentication was chosen meanwhile
    if (reply.status !== 200) {
      ui.outcome.textContent = `The subscriptions could not be listed: ${deps.problemText(reply)}`;
      return;
    }
    showSubscriptions(reply.data.elements);
  }

  function titleOf(sub) {
    const trigger = state.triggers.get(sub.trigger);
    return trigger ? trigger.title : sub.trigger;
  }

  // `(webhook, account_id 12)`: the mode and filters that tell two subscriptions to one trigger apart.
  function detailsOf(sub) {
    const filters = Object.entries(sub.input || {}).map(([name, value]) => `${name} ${cellText(value)}`);
    return `(${[sub.mode, ...filters].join(", ")})`;
  }

  // `Prospect changed (webhook, account_id 12)`: for names and captions.
  function labelOf(sub) {
    return `${titleOf(sub)} ${detailsOf(sub)}`;
  }

  function showSubscriptions(subscriptions) {
    state.subscriptions = subscriptions;
    if (!subscriptions.length) {
      return void redraw(ui.subscriptions, el("p", { class: "hint" },
        deps.authId() ? "This authentication has no subscription yet." : "Choose an authentication."));
    }
    const headings = ["Trigger", "Mode", "Status", "Last event", "Last error", "Actions"];
    redraw(ui.subscriptions, el("div", { class: "table-scroll" }, el("table", {},
      el("caption", {}, `${subscriptions.length} subscription${subscriptions.length === 1 ? "" : "s"}`),
      el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...subscriptions.map(subscriptionRow)))));
  }

  function subscriptionRow(sub) {
    const label = labelOf(sub);
    const watching = watched !== null && watched.sid === sub.id;
    const show = el("button", { type: "button", class: "small", "data-testid": "watch", "aria-pressed": String(watching),
                                "aria-label": `Show the events of ${label}` }, "Events");
    show.addEventListener("click", () => watch(sub));
    const remove = el("button", { type: "button", class: "small", "data-testid": "unsubscribe",
                                  "aria-label": `Delete the subscription to ${label}` }, "Delete");
    remove.addEventListener("click", () => unsubscribe(sub));
    const actions = el("td", { class: "actions" }, show, remove);
    if (sub.status === "webhook_disabled") actions.prepend(enableButton(sub, titleOf(sub)));
    const status = el("td", { "data-testid": "subscription-status" }, sub.status.replace(/_/g, " "));
    const filters = Object.keys(sub.input || {}).length ? detailsOf(sub) : "";  // the mode has its own column
    const trigger = el("th", { scope: "row" }, titleOf(sub), filters ? el("span", { class: "hint" }, ` ${filters}`) : "");
    return el("tr", { "data-testid": "subscription-row", "data-id": sub.id },
      trigger, el("td", {}, sub.mode), status, el("td", {}, when(sub.last_event_at)),
      el("td", { class: "error-text" }, cellText(sub.last_error)), actions);
  }

  // A webhook Outreach disabled: turn it back on (POST /subscriptions/{sid}/enable).
  function enableButton(sub, title) {
    const button = el("button", { type: "button", class: "small", "data-testid": "enable",
                                  "aria-label": `Enable the webhook of ${title} again` }, "Enable");
    button.addEventListener("click", async () => {
      ui.outcome.textContent = `Enabling the webhook of ${title}…`;
      const reply = await deps.api("POST", `/subscriptions/${encodeURIComponent(sub.id)}/enable`);
      ui.outcome.textContent = reply.status === 200 ? `The webhook of ${title} is enabled again.`
        : `Not enabled: ${deps.problemText(reply)}`;
      await loadSubscriptions();
      ui.subscriptionsHeading.focus();  // its Enable button is gone
    });
    return button;
  }

  async function unsubscribe(sub) {
    const title = labelOf(sub);
    ui.outcome.textContent = `Deleting the subscription to ${title}…`;
    const reply = await deps.api("DELETE", `/subscriptions/${encodeURIComponent(sub.id)}`);
    if (reply.status !== 204 && reply.status !== 404) {
      return void (ui.outcome.textContent = `Not deleted: ${deps.problemText(reply)}`);
    }
    if (watched && watched.sid === sub.id) stopWatching(true);
    await loadSubscriptions();
    ui.outcome.textContent = `Deleted the subscription to ${title}; Outreach's webhook went with it.`;
    ui.subscriptionsHeading.focus();  // its Delete button is gone
  }

  // ---- events: one subscription watched at a time, by long poll, newest first --------------------------------
  function watch(sub) {
    if (watched && watched.sid === sub.id) return;
    stopWatching(true);
    watched = { sid: sub.id, title: labelOf(sub), after: "", events: [], reader: null,
                jsonOf: null };  // jsonOf: the id of the event whose JSON is shown
    showSubscriptions(state.subscriptions);  // the pressed "Events" button
    showEvents();
    if (state.visible) read(watched);
  }

  // Stop reading; `forget`: the events shown go too.
  function stopWatching(forget) {
    if (watched && watched.reader) watched.reader.abort();
    if (watched) watched.reader = null;
    if (forget) {
      watched = null;
      showEvents();
    }
  }

  async function read(watching) {
    const reader = new AbortController();
    watching.reader = reader;
    while (watched === watching && watching.reader === reader) {
      const query = new URLSearchParams({ wait: String(WAIT_SECONDS), limit: String(READ_LIMIT) });
      if (watching.after) query.set("after", watching.after);
      const path = `/subscriptions/${encodeURIComponent(watching.sid)}/events?${query}`;
      const reply = await deps.api("GET", path, undefined, reader.signal);
      if (watched !== watching || watching.reader !== reader) return;
      if (!(await handleRead(watching, reply))) return;
    }
  }

  // One read's answer; false ends the loop.
  async function handleRead(watching, reply) {
    if (reply.status === 200) {
      watching.after = reply.data.next_after;
      if (reply.data.events.length) arrived(watching, reply.data.events);
      else loadSubscriptions();  // a quiet long poll: a status may have changed meanwhile (webhook disabled…)
      return true;
    }
    if (reply.status === 410) {  // the cursor is older than the retention: from the oldest kept
      watching.after = "";
      return true;
    }
    if (reply.status === 404) {
      ui.eventsStatus.textContent = `The subscription to ${watching.title} no longer exists.`;
      return false;
    }
    ui.eventsStatus.textContent = `Events could not be read (${deps.problemText(reply)}); trying again.`;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    return true;
  }

  function arrived(watching, events) {
    watching.events = [...events.slice().reverse(), ...watching.events].slice(0, EVENTS_KEPT);
    showEvents();
    ui.eventsStatus.textContent = `${events.length} new event${events.length === 1 ? "" : "s"} for ${watching.title}.`;
    loadSubscriptions();  // its last event changed
  }

  function showEvents() {
    if (!watched) {
      ui.eventsStatus.textContent = "";
      return void redraw(ui.events, el("p", { class: "hint" },
        "Subscribe, or press Events on a subscription, to see its events arrive here."));
    }
    const count = watched.events.length;
    const caption = count ? `Events of ${watched.title}, newest first (${count}${count === EVENTS_KEPT ? ", the newest kept" : ""})`
      : `Events of ${watched.title}: none yet, waiting for Outreach…`;
    const headings = ["Received", "Event", "Record", "Attributes", "JSON"];
    const table = el("div", { class: "table-scroll" }, el("table", { "data-testid": "events-table" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...watched.events.map(eventRow))));
    const chosen = watched.events.find((event) => event.id === watched.jsonOf);
    const json = chosen ? el("pre", { "data-testid": "event-json", id: "event-json", tabindex: "0", role: "region",
                                      "aria-label": `JSON of the event ${describeEvent(chosen)}` },
                             JSON.stringify(chosen, null, 2)) : "";
    redraw(ui.events, table, json);
  }

  // `prospect.created, Prospect 41`
  function describeEvent(event) {
    return [event.event, recordOf(event)].filter(Boolean).join(", ");
  }

  // `Prospect 41`: the record an event is about.
  function recordOf(event) {
    return event.resource ? `${readableType(String(event.resource.type))} ${event.resource.id}` : "";
  }

  // 2026-12-06T22:44:37.720Z -> 2026-12-06 22:44:37 UTC (the JSON keeps the exact time)
  function when(iso) {
    return typeof iso === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso)
      ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : cellText(iso);
  }

  // The attributes that say which record it is or what happened first, timestamps (`…At`) last.
  function attributeSummary(event) {
    const rank = ([name]) => (FIRST_ATTRIBUTES.includes(name) ? FIRST_ATTRIBUTES.indexOf(name)
      : FIRST_ATTRIBUTES.length + (name.endsWith("At") ? 1 : 0));
    const attributes = Object.entries(event.attributes || {}).filter(([, value]) => present(value))
      .sort((a, b) => rank(a) - rank(b));  // stable: the rest keep Outreach's order
    const shown = attributes.slice(0, ATTRIBUTES_SHOWN).map(([name, value]) => `${name}: ${cellText(value)}`);
    if (attributes.length > ATTRIBUTES_SHOWN) shown.push(`and ${attributes.length - ATTRIBUTES_SHOWN} more`);
    return shown.join("; ");
  }

  function eventRow(event) {
    const open = watched.jsonOf === event.id;
    const button = el("button", { type: "button", class: "small", "data-testid": "event-json-button",
                                  "aria-pressed": String(open), "aria-label": `JSON of ${describeEvent(event)}` },
                      "JSON");  // pressed while shown
    if (open) button.setAttribute("aria-controls", "event-json");
    button.addEventListener("click", () => toggleJson(event.id));
    return el("tr", { "data-testid": "event-row", "data-event-id": String(event.id) },
      el("th", { scope: "row", class: "nowrap" }, when(event.received_at)),
      el("td", { class: "nowrap" }, cellText(event.event)), el("td", { class: "nowrap" }, recordOf(event)),
      el("td", {}, attributeSummary(event)), el("td", { class: "nowrap" }, button));
  }

  // One event's JSON under the table (pressing again hides it).
  function toggleJson(id) {
    watched.jsonOf = watched.jsonOf === id ? null : id;
    showEvents();
  }

  // The row a control is in, by its data-id (subscriptions) or data-event-id (events).
  const rowKey = (node) => {
    const row = node.closest("tr");
    return row ? row.dataset.id || row.dataset.eventId || null : null;
  };

  // Draw `box` anew with `nodes`; a button that had the focus in it (Delete, Events, JSON of one row) has it
  // again in its row's new drawing, so a list that reloads as events arrive never drops a keyboard user's place.
  function redraw(box, ...nodes) {
    const active = box.contains(document.activeElement) ? document.activeElement : null;
    const key = active && active.dataset.testid ? [rowKey(active), active.dataset.testid] : null;
    box.replaceChildren(...nodes);
    if (!key || key[0] === null) return;
    const again = [...box.querySelectorAll("[data-testid]")]
      .find((node) => node.dataset.testid === key[1] && rowKey(node) === key[0]);
    if (again) again.focus();
  }

  // ---- what the page tells the view -------------------------------------------------------------------------
  // Another authentication chosen (or the first): its own subscriptions, nothing of the last one's.
  function authenticationChanged() {
    form.resetLookups();
    ui.secret.replaceChildren();  // it belonged to the other authentication's subscription
    stopWatching(true);
    updateSubscribe();
    loadSubscriptions();
  }

  // The view shown or hidden: a hidden view reads nothing (the watched subscription resumes where it was).
  function setVisible(visible) {
    state.visible = visible;
    if (!visible) return void stopWatching(false);
    if (watched && !watched.reader) read(watched);
    if (state.base) loadSubscriptions();
  }

  ui.trigger.addEventListener("change", renderForm);
  ui.refresh.addEventListener("click", loadSubscriptions);
  ui.subscribe.addEventListener("click", subscribe);
  showSubscriptions([]);
  showEvents();
  return { connected, authenticationChanged, setVisible, updateSubscribe };
}
