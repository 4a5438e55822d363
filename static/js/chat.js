// The chat panel beside the player: the IVS Chat Messaging SDK's ChatRoom, bundled by bin/build-player into
// static/vendor/ivs/ivs-chat.js. An ES module with no build step; the page loads it with <script type="module">
// only when the channel has a chat, and passes its configuration in a json_script block ("chat-config"):
// {tokenUrl, banUrl, messagingUrl, userId, displayName, moderator, maxLength, loginUrl}; the token's answer says
// whether the viewer moderates (`moderator`).
// The rules (what a token error means, when to try again, what a message shows, who may act on it) are in
// ./chat-logic.js.
//
// Every text a viewer wrote reaches the page through textContent, never as HTML.
//
// The SDK asks the tokenProvider for a token whenever it (re)connects: at the start and after a broken connection
// (it is given no token expiry, so it does not replace a live connection: chat-logic.js, tokenFromResponse).
// Failures are retried here, with a growing wait, not by the SDK (maxReconnectAttempts 0): its own are immediate.

import { ChatRoom, DeleteMessageRequest, DisconnectUserRequest, SendMessageRequest } from "../vendor/ivs/ivs-chat.js";
import {
  ChatTokenError,
  MESSAGE_LIMIT,
  SEND_TIMEOUT_MS,
  afterDisconnect,
  atBottom,
  banErrorText,
  canWrite,
  createRetryPolicy,
  draftState,
  isFinal,
  messageView,
  moderationErrorText,
  overflow,
  sendErrorText,
  statusText,
  timeLabel,
  tokenFromResponse,
} from "./chat-logic.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
const $ = (id) => document.getElementById(id);
const panel = $("chat");
const statusLine = $("chat-status");
const statusMessage = $("chat-status-text");
const loginLink = $("chat-login");
const retryButton = $("chat-retry");
const log = $("chat-log");
const list = $("chat-messages");
const form = $("chat-form");
const input = $("chat-input");
const sendButton = $("chat-send");
const counter = $("chat-count");
const note = $("chat-note");
const removeForm = $("chat-remove");
const removeName = $("chat-remove-name");
const removeReason = $("chat-remove-reason");
const removeCancel = $("chat-remove-cancel");
const asLabel = $("chat-as");

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const csrfToken = csrfMeta ? csrfMeta.content : (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1] || "";

const viewer = { userId: config.userId ?? null, moderator: Boolean(config.moderator) };
const maxLength = Number.isInteger(config.maxLength) && config.maxLength > 0 ? config.maxLength : 500; // IVS's default
const messages = new Map(); // message id → its <li>
const policy = createRetryPolicy();
let state = "connecting";
let everConnected = false;
let removed = null; // our own aws:DISCONNECT_USER event: {reason}
let sessionExpiresAt = null; // the latest token's session end (ms)
let retryTimer = null;
let pausedByPage = false;
let sending = false;
let removing = null; // the Remove form's target: {userId, name, button}
let room = null;
let pinned = true; // the log shows its newest message: it keeps doing so as messages arrive and the panel resizes

// The panel's state: the status line, the login link, the retry button, the send box.
function show(next, detail = {}) {
  state = next;
  panel.dataset.state = next;
  const text = statusText(next, detail);
  statusMessage.textContent = text;
  loginLink.hidden = next !== "login";
  retryButton.hidden = !(detail.seconds > 0);
  statusLine.hidden = !text && loginLink.hidden;
  form.hidden = isFinal(next);
  if (isFinal(next)) closeRemoveForm(false);
  updateSendBox();
}

function say(text, kind = "error") {
  note.textContent = text;
  note.dataset.kind = kind;
  note.hidden = !text;
}

function updateSendBox() {
  const draft = draftState(input.value.trim(), maxLength);
  sendButton.disabled = sending || !canWrite(state);
  input.readOnly = sending;
  // Shown from the last fifth of the allowance on, and when over it.
  const near = draft.remaining <= Math.max(10, Math.floor(maxLength / 5));
  counter.hidden = !near;
  counter.textContent = draft.tooLong ? `${-draft.remaining} too many` : `${draft.remaining} left`;
  counter.dataset.over = draft.tooLong ? "true" : "false";
}

// --- the token ---------------------------------------------------------------------------------------------------

async function fetchToken() {
  let response;
  try {
    response = await fetch(config.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    });
  } catch {
    throw new ChatTokenError("", { status: 0 }); // no answer
  }
  const body = await response.json().catch(() => null);
  const token = tokenFromResponse(response.status, body, response.headers.get("Retry-After"));
  // Whether this viewer moderates comes with their token (whose capabilities say so), not with the page: the
  // player page asks nothing more of the database for its chat.
  viewer.moderator = body.moderator === true;
  asLabel.textContent = `Chatting as ${config.displayName}${viewer.moderator ? " · moderator" : ""}`;
  return token;
}

async function tokenProvider() {
  policy.check(Date.now()); // a wait not over, or a final answer: no request
  try {
    const token = await fetchToken();
    const ends = Date.parse(token.sessionExpirationTime);
    sessionExpiresAt = Number.isFinite(ends) ? ends : null;
    return token;
  } catch (error) {
    const failure = error instanceof ChatTokenError ? error : new ChatTokenError("", { status: 0 });
    policy.failed(failure, Date.now());
    throw failure;
  }
}

// --- the connection ----------------------------------------------------------------------------------------------

function connectNow() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (room.state !== "disconnected") return;
  removed = null;
  room.connect();
}

function scheduleConnect(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connectNow, ms);
}

function onDisconnect(reason) {
  clearTimeout(retryTimer);
  const decision = afterDisconnect(reason, { policy, now: Date.now(), removed, sessionExpiresAt });
  const failure = decision.state === "removed" ? null : policy.failure;
  show(decision.state, {
    message: failure ? failure.message : "",
    reason: removed ? removed.reason : failure ? failure.reason : "",
    seconds: decision.quiet || decision.state === "reconnecting" ? 0 : Math.ceil((decision.retryMs || 0) / 1000),
  });
  if (decision.retryMs !== null) scheduleConnect(decision.retryMs);
}

function createRoom() {
  const created = new ChatRoom({ regionOrUrl: config.messagingUrl, tokenProvider, maxReconnectAttempts: 0 });
  created.logLevel = "error"; // the SDK's debug log prints every token it receives
  created.addListener("connecting", () => show(everConnected ? "reconnecting" : "connecting"));
  created.addListener("connect", () => {
    everConnected = true;
    policy.connected();
    show("connected");
  });
  created.addListener("disconnect", onDisconnect);
  created.addListener("message", addMessage);
  created.addListener("messageDelete", (event) => dropMessage(event.messageId));
  created.addListener("userDisconnect", (event) => {
    if (viewer.userId !== null && event.userId === viewer.userId) removed = { reason: event.reason || "" };
  });
  return created;
}

// --- the log -----------------------------------------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addMessage(message) {
  if (messages.has(message.id)) return;
  const view = messageView(message, viewer);
  const follow = view.own || pinned;
  const item = element("li", view.own ? "chat-message own" : "chat-message");
  const meta = element("p", "chat-meta");
  meta.append(element("span", "chat-name", view.name));
  if (view.fromModerator) meta.append(" ", element("span", "chat-badge", "moderator"));
  if (view.own) meta.append(" ", element("span", "chat-you", "you"));
  if (view.time) {
    const time = element("time", "chat-time", timeLabel(view.time));
    time.dateTime = view.time.toISOString();
    meta.append(" ", time);
  }
  item.append(meta, element("p", "chat-text", view.text));
  if (view.canDelete || view.canRemove) {
    const actions = element("p", "chat-actions");
    if (view.canDelete) {
      const button = element("button", "chat-action", "Delete");
      button.type = "button";
      button.setAttribute("aria-label", `Delete message from ${view.name}`);
      button.addEventListener("click", () => deleteMessage(view.id, button));
      actions.append(button);
    }
    if (view.canRemove) {
      const button = element("button", "chat-action danger", "Remove");
      button.type = "button";
      button.setAttribute("aria-label", `Remove ${view.name} from the chat`);
      button.addEventListener("click", () => openRemoveForm(view, button));
      actions.append(button);
    }
    item.append(actions);
  }
  list.append(item);
  messages.set(view.id, item);
  for (let extra = overflow(messages.size, MESSAGE_LIMIT); extra > 0; extra -= 1) {
    const [oldest, node] = messages.entries().next().value;
    messages.delete(oldest);
    node.remove();
  }
  if (follow) toBottom();
}

function toBottom() {
  log.scrollTop = log.scrollHeight;
  pinned = true;
}

function dropMessage(id) {
  const item = messages.get(id);
  if (!item) return;
  if (item.contains(document.activeElement)) input.focus(); // the focus must not vanish with it
  messages.delete(id);
  item.remove();
}

// --- sending -----------------------------------------------------------------------------------------------------

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("no answer"), { name: "SendTimeout" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function send(event) {
  event.preventDefault();
  const text = input.value.trim();
  const draft = draftState(text, maxLength);
  if (draft.empty || sending) return;
  if (draft.tooLong) {
    say(`That message is ${-draft.remaining} characters too long (at most ${maxLength}).`);
    return;
  }
  sending = true;
  updateSendBox();
  try {
    await withTimeout(room.sendMessage(new SendMessageRequest(text)), SEND_TIMEOUT_MS);
    input.value = "";
    say("");
  } catch (error) {
    say(sendErrorText(error));
  } finally {
    sending = false;
    updateSendBox();
  }
}

// --- moderation --------------------------------------------------------------------------------------------------

async function deleteMessage(id, button) {
  button.disabled = true;
  try {
    await withTimeout(room.deleteMessage(new DeleteMessageRequest(id)), SEND_TIMEOUT_MS);
    say(""); // the messageDelete event took it out of the page, everyone's
  } catch (error) {
    button.disabled = false;
    say(moderationErrorText(error, "delete"));
  }
}

function openRemoveForm(view, button) {
  removing = { userId: view.userId, name: view.name, button };
  removeName.textContent = view.name;
  removeReason.value = "";
  removeForm.hidden = false;
  say("");
  removeReason.focus();
}

function closeRemoveForm(refocus = true) {
  if (removeForm.hidden) return;
  const target = removing;
  removeForm.hidden = true;
  removing = null;
  if (!refocus) return;
  if (target && target.button.isConnected) target.button.focus();
  else input.focus();
}

async function ban(userId, reason) {
  const body = new URLSearchParams({ user_id: userId, reason });
  try {
    const response = await fetch(config.banUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      body,
    });
    if (response.ok) return null;
    return banErrorText(response.status, await response.json().catch(() => null));
  } catch {
    return banErrorText(0, null);
  }
}

async function remove(event) {
  event.preventDefault();
  if (!removing) return;
  const { userId, name } = removing;
  const reason = removeReason.value.trim();
  const submit = removeForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  const refused = await ban(userId, reason);
  submit.disabled = false;
  if (refused) {
    say(refused);
    return;
  }
  closeRemoveForm();
  say(`${name} was removed from the chat.`, "ok");
  // The ban keeps them out (their next token is refused); this closes the chat they have open now.
  try {
    await withTimeout(room.disconnectUser(new DisconnectUserRequest(userId, reason || undefined)), SEND_TIMEOUT_MS);
  } catch (error) {
    say(moderationErrorText(error, "remove"));
  }
}

// --- start -------------------------------------------------------------------------------------------------------

function main() {
  if (viewer.userId === null) {
    show("login"); // the template says so already for an anonymous viewer; nothing to connect
    return;
  }
  room = createRoom();
  log.addEventListener("scroll", () => (pinned = atBottom(log)), { passive: true });
  // A narrower window (the panel moves under the video) or the Remove form opening shrinks the log.
  new ResizeObserver(() => pinned && toBottom()).observe(log);
  form.addEventListener("submit", send);
  input.addEventListener("input", updateSendBox);
  removeForm.addEventListener("submit", remove);
  removeCancel.addEventListener("click", () => closeRemoveForm());
  removeForm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeRemoveForm();
    }
  });
  retryButton.addEventListener("click", () => {
    policy.release();
    connectNow();
  });
  // The page leaving (or entering the back/forward cache) closes the socket; coming back opens a fresh one.
  window.addEventListener("pagehide", () => {
    if (room.state === "disconnected") return;
    pausedByPage = true;
    room.disconnect();
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted || !pausedByPage) return;
    pausedByPage = false;
    connectNow();
  });
  show("connecting");
  room.connect();
  window.ivsChat = room;
}

main();
