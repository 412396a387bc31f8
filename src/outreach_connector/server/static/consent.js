// Connecting Outreach from the editor: Outreach's consent page in a popup (POST /authentications/connect gives
// its address), the server's callback page posting how it went (`outreach-connector:connected` / `:error`),
// then the authentications reloaded with what was connected chosen. A new authentication, or a reconnect of
// one that keeps its id. A window closed with no message is looked at again when the person comes back.
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
const COME_BACK = "If you finish in it, the list reloads when you come back to this page.";

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

// deps: {api(method, path, body), problemText(reply), setStatus(text), listed() (the ids the select lists),
// authentications() (every page: {status, elements, cut, …}), choose(auths, chosen) (refill the select with
// `auths`, choosing `chosen` when set, else keeping the current choice)}
export function createConsentFlow(deps) {
  let consent = null;  // the flow in progress: {popup, authId, name, known (ids listed before), timer, closedSeen}
  let unanswered = null;  // {flow, until}: its window closed with no message and nothing new was listed

  // A new authentication (authId null) or a reconnect of `authId`, which keeps its id.
  async function startConsent(authId, name) {
    if (consent && !consent.popup.closed) return void consent.popup.focus();  // one flow at a time
    if (consent) clearInterval(consent.timer);  // its window is closed: this click starts over
    unanswered = null;
    // Opened now, inside the click, which pop-up blockers allow; sent to Outreach once the server answers.
    const popup = window.open("about:blank", "_blank", "popup,width=640,height=760");
    if (!popup) {
      deps.setStatus("The browser blocked the consent window: allow pop-ups for this page, then try again.");
      return;
    }
    popup.document.title = "Connecting Outreach";
    popup.document.body.textContent = "Opening Outreach's consent page…";
    const flow = { popup, authId, name: name || newConnectionName(), timer: null, closedSeen: false,
                   known: new Set(deps.listed()) };
    consent = flow;
    deps.setStatus(authId ? `Reconnecting ${flow.name}: answer Outreach's consent page in the new window.`
      : "Connecting Outreach: answer its consent page in the new window.");
    const body = authId ? { name: flow.name, authentication_id: authId } : { name: flow.name };
    const reply = await deps.api("POST", "/authentications/connect", body);
    if (consent !== flow) return;
    if (reply.status !== 201 || !reply.data || !isWebUrl(reply.data.authorize_url)) {
      consent = null;
      popup.close();
      deps.setStatus(`Outreach cannot be connected: ${deps.problemText(reply)}`);
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
      deps.setStatus(`Outreach was not connected: ${code}${meaning}. Nothing was stored.`);
      return;
    }
    await reloadAfterConsent(flow, message);
  }

  // The list again, choosing what the flow connected (the message's id, the reconnected one, or the one new id).
  async function reloadAfterConsent(flow, message) {
    deps.setStatus("Reloading the authentications…");
    const auths = await deps.authentications();
    if (auths.status !== 200 && !auths.elements.length) {
      deps.setStatus(`The authentications could not be reloaded: ${deps.problemText(auths)}`);
      return;
    }
    const added = auths.elements.filter((auth) => !flow.known.has(auth.id));
    const chosen = message ? message.authentication_id : flow.authId || (added.length === 1 ? added[0].id : "");
    deps.choose(auths, chosen);
    const auth = auths.elements.find((listed) => listed.id === chosen);
    const done = Boolean(message) || (flow.authId ? Boolean(auth) && auth.status === "connected" : Boolean(auth));
    unanswered = done ? null : { flow, until: Date.now() + CONSENT_LIFE_MS };
    deps.setStatus(consentOutcome(flow, auth, message));
  }

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

  window.addEventListener("message", consentMessage);
  window.addEventListener("focus", backFromConsent);
  return { start: startConsent };
}
