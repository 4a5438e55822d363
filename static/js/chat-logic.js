// The chat panel's rules that need no DOM, no SDK and no network, so node can test them (tests/js/): what a
// chat-token answer means, how long to wait before the next connection, what the panel says in each state, what a
// message shows and who may act on it, how a draft is counted.
// static/js/chat.js wires them to the page and to the IVS Chat Messaging SDK.

// Messages kept in the page: older ones leave the DOM as new ones arrive (IVS Chat keeps no history anyway).
export const MESSAGE_LIMIT = 200;
// The first wait after a failure, doubled after each further one in a row, up to the cap; each wait is drawn between
// half and all of its step, so that a room's viewers do not come back in the same second after an outage.
export const RETRY_BASE_MS = 2000;
export const RETRY_MAX_MS = 60000;
// Never less: the SDK tears its connections down after it reports a disconnect, not before.
export const RETRY_MIN_MS = 500;
// A ban's reason, as the ban endpoint accepts it.
export const BAN_REASON_MAX = 200;
// A send the room never answered: the page stops waiting and says so.
export const SEND_TIMEOUT_MS = 10000;
// A session this close to its end is over: the server closing it is not a removal.
export const SESSION_END_MARGIN_MS = 5000;

// The chat-token endpoint's error codes (the contract's): the status decides, these only tell 403s apart.
export const BANNED = "banned";

// A failed POST to the chat-token endpoint. status 0: no answer at all (the fetch itself failed, or the socket did).
export class ChatTokenError extends Error {
  constructor(message, { status = 0, code = "error", retryAfter = 0, reason = "" } = {}) {
    super(message);
    this.name = "ChatTokenError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.reason = reason;
  }
}

// What the tokenProvider returns for the endpoint's answer ({token, sessionExpirationTime, tokenExpirationTime}:
// the ISO 8601 strings the SDK parses), or the ChatTokenError it throws. `body` is the parsed JSON or null.
export function tokenFromResponse(status, body, retryAfterHeader) {
  const data = body && typeof body === "object" ? body : {};
  if (status === 200 && typeof data.token === "string" && data.token) {
    // Not the token's own expiry (tokenExpirationTime): given one, the SDK opens a fresh connection 30 s before it,
    // and an IVS Chat token lives a minute, so every open panel would ask for a token (an AWS call) twice a minute.
    // A token is only needed to connect; the connection lasts the session.
    return { token: data.token, sessionExpirationTime: data.sessionExpirationTime };
  }
  const retryAfter = Number.parseInt(retryAfterHeader || "0", 10);
  throw new ChatTokenError(typeof data.message === "string" ? data.message : "", {
    // A 200 without a token is no answer the panel can use: treated as a server error, and retried.
    status: status === 200 ? 500 : status,
    code: typeof data.error === "string" ? data.error : "error",
    retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0,
    reason: typeof data.reason === "string" ? data.reason : "",
  });
}

// The panel's state for a token failure; `final` when only the viewer (or an operator) can change it, so the panel
// stops asking.
export function stateForFailure(failure) {
  const status = failure ? failure.status : 0;
  if (status === 401) return { state: "login", final: true };
  if (status === 403 && failure.code === BANNED) return { state: "banned", final: true };
  if (status === 403) return { state: "access_ended", final: true };
  if (status === 404) return { state: "no_chat", final: true };
  if (status === 429) return { state: "rate_limited", final: false };
  if (status === 503) return { state: "unavailable", final: false };
  if (status === 0) return { state: "network", final: false };
  return { state: "error", final: false };
}

// How long to wait before the next connection after `attempt` failures in a row (0 for the first), or null when
// the failure is final. A 429 waits what its Retry-After says (at least a second). random() is in [0, 1).
export function retryDelayMs(failure, attempt, random = Math.random) {
  if (stateForFailure(failure).final) return null;
  if (failure && failure.status === 429) return Math.max(failure.retryAfter || 0, 1) * 1000;
  const step = Math.min(RETRY_BASE_MS * 2 ** Math.max(attempt, 0), RETRY_MAX_MS);
  return Math.max(Math.round(step * (0.5 + random() / 2)), RETRY_MIN_MS);
}

// The connection's retry rule, which the tokenProvider consults before it asks the server. The SDK calls the
// tokenProvider again on its own after a failure; while a wait runs, or after a final failure, the gate answers
// with the failure it has instead of another request, so no loop reaches the server. Connecting resets the count.
export function createRetryPolicy({ random = Math.random } = {}) {
  let failure = null;
  let attempts = 0;
  let notBefore = 0;
  return {
    // Throws the remembered failure while the server must not be asked (a final one, or a wait not over).
    check(now) {
      if (failure && (stateForFailure(failure).final || now < notBefore)) throw failure;
    },
    // A failure: the token's, or the socket's (status 0). Returns the wait, or null when final.
    failed(error, now) {
      failure = error;
      const delay = retryDelayMs(error, attempts, random);
      attempts += 1;
      notBefore = delay === null ? Infinity : now + delay;
      return delay;
    },
    connected() {
      failure = null;
      attempts = 0;
      notBefore = 0;
    },
    // Milliseconds until the server may be asked again (0 when it may now), null after a final failure.
    waitMs(now) {
      if (failure && stateForFailure(failure).final) return null;
      return Math.max(notBefore - now, 0);
    },
    // The viewer's "Try again now": the wait ends, the count stays.
    release() {
      if (failure && !stateForFailure(failure).final) notBefore = 0;
    },
    get failure() {
      return failure;
    },
    get attempts() {
      return attempts;
    },
  };
}

// What the panel does after the SDK's `disconnect` event. `reason` is the SDK's: clientDisconnect (the page's own
// disconnect), serverDisconnect (the server closed the socket cleanly: a moderator's DisconnectUser, or the
// session's end), fetchTokenError (the tokenProvider failed; `policy.failure` says how), socketError (the socket did
// not open). Returns {state, retryMs}: retryMs null means stay disconnected.
export function afterDisconnect(reason, { policy, now, removed = null, sessionExpiresAt = null }) {
  if (reason === "clientDisconnect") return { state: "paused", retryMs: null };
  if (reason === "serverDisconnect") {
    // The server closes a session that reached its end, too: then a fresh token is all it takes.
    const ended = !removed && sessionExpiresAt !== null && now >= sessionExpiresAt - SESSION_END_MARGIN_MS;
    if (ended) return { state: "reconnecting", retryMs: RETRY_MIN_MS };
    // Removed: by a moderator (then banned), by the site because the viewer's access ended, or because the
    // channel's room changed. One more token request tells which: 403 banned or access ended is final (the
    // policy then asks no more), a token means a new room to join.
    return { state: "removed", retryMs: RETRY_MIN_MS, quiet: true };
  }
  if (reason === "fetchTokenError" && policy.failure) {
    const { state } = stateForFailure(policy.failure);
    const wait = policy.waitMs(now);
    return { state, retryMs: wait === null ? null : Math.max(wait, RETRY_MIN_MS) };
  }
  // socketError (or a token failure the policy did not see): the socket's failure, retried like no answer.
  const delay = policy.failed(new ChatTokenError("", { status: 0 }), now);
  return { state: "network", retryMs: delay };
}

// What the panel's status line says in each state. `detail`: {message, reason, seconds}.
export function statusText(state, detail = {}) {
  const seconds = detail.seconds ? ` Trying again in ${detail.seconds} s.` : "";
  switch (state) {
    case "connecting":
      return "Connecting to the chat…";
    case "reconnecting":
      return "Reconnecting to the chat…";
    case "connected":
      return "";
    case "login":
      return "The chat is for logged-in viewers.";
    case "banned":
      return withReason(detail.message || "A moderator removed you from this chat.", detail.reason);
    case "removed":
      return withReason("You were removed from the chat.", detail.reason);
    case "access_ended":
      return "The chat has closed because your access to this channel ended.";
    case "no_chat":
      return "This channel has no chat right now.";
    case "rate_limited":
      return `Too many attempts to join the chat.${seconds || " Trying again shortly."}`;
    case "unavailable":
      return `The chat is unavailable right now.${seconds || " Trying again shortly."}`;
    case "network":
      return `The chat cannot be reached right now.${seconds || " Trying again shortly."}`;
    case "paused":
      return "The chat is paused.";
    default:
      return `The chat could not be joined.${seconds || " Trying again shortly."}`;
  }
}

function withReason(text, reason) {
  const clean = typeof reason === "string" ? reason.trim() : "";
  if (!clean || text.includes(clean)) return text;
  return `${text} Reason: ${clean}`;
}

// Whether the panel still takes messages in this state (the form is shown) and whether the panel has stopped for
// good (the log stays, read-only).
export function canWrite(state) {
  return state === "connected";
}

export function isFinal(state) {
  return ["login", "banned", "removed", "access_ended", "no_chat"].includes(state);
}

// What one message shows, from the SDK's ChatMessage ({id, content, sendTime, sender: {userId, attributes}}).
// Text only: chat.js puts every field in the page with textContent.
export function messageView(message, { userId = null, moderator = false } = {}) {
  const senderId = message.sender ? message.sender.userId : "";
  const attributes = (message.sender && message.sender.attributes) || {};
  const name = typeof attributes.displayName === "string" && attributes.displayName.trim();
  const own = userId !== null && senderId === userId;
  const time = message.sendTime instanceof Date ? message.sendTime : new Date(message.sendTime);
  return {
    id: message.id,
    userId: senderId,
    name: name || "Viewer",
    text: message.content,
    own,
    // Said by the token the site asked IVS for (viewers/chat/tokens.py), not by the sender: attributes are IVS's.
    fromModerator: attributes.moderator === "true",
    time: Number.isNaN(time.getTime()) ? null : time,
    ...moderatorActions(senderId, { userId, moderator }),
  };
}

// A moderator deletes any message, and removes anyone but themselves.
export function moderatorActions(senderId, { userId = null, moderator = false } = {}) {
  return {
    canDelete: Boolean(moderator),
    canRemove: Boolean(moderator) && Boolean(senderId) && senderId !== userId,
  };
}

// "14:05" or "2:05 PM", as the viewer's locale writes it, on their own clock's time zone.
export function timeLabel(date, locale = undefined) {
  if (!date) return "";
  return date.toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
}

// IVS Chat counts a message's length in characters (Unicode code points), not UTF-16 units: an emoji is one.
export function charCount(text) {
  return [...(text || "")].length;
}

// The send box's state for its text: whether it may be sent, and what the counter says.
export function draftState(text, maxLength) {
  const length = charCount(text);
  const remaining = maxLength - length;
  const empty = !(text || "").trim();
  return { length, remaining, tooLong: remaining < 0, empty, sendable: !empty && remaining >= 0 };
}

// How many of the oldest messages leave the page so that `count` fits the limit.
export function overflow(count, limit = MESSAGE_LIMIT) {
  return Math.max(count - limit, 0);
}

// Whether the log follows new messages: only while the viewer is reading its end, not while they scroll back.
export function atBottom({ scrollTop, clientHeight, scrollHeight }, slack = 48) {
  return scrollHeight - (scrollTop + clientHeight) <= slack;
}

// Words for a send the room refused (the SDK's ChatError {errorCode, errorMessage}) or could not take.
export function sendErrorText(error) {
  const code = error && error.errorCode;
  if (code === 429) return "You are sending messages too fast. Wait a moment, then send it again.";
  if (code === 413) return "That message is too long.";
  if (code === 406) return "That message was not accepted.";
  if (code === 403) return "You cannot send messages in this chat.";
  if (code === 400) return "That message could not be sent.";
  if (error && error.name === "SendTimeout") return "The chat did not answer. Try sending it again.";
  if (error && /not connected/i.test(error.message || "")) return "The chat is not connected. Wait until it is back.";
  return "That message could not be sent. Try again.";
}

// Words for a delete ("delete") or a disconnect ("remove") the room refused. A remove's ban is saved by then: only
// the immediate disconnect failed, and the removed viewer's next token is refused.
export function moderationErrorText(error, action) {
  const what = action === "delete" ? "delete messages" : "disconnect people";
  if (error && error.errorCode === 403) return `You cannot ${what} in this chat.`;
  if (error && error.errorCode === 429) return "Too many actions at once. Wait a moment, then try again.";
  if (action === "delete") return "The message could not be deleted. Try again.";
  return "They are removed, but the chat did not disconnect them yet: their chat closes when it next reconnects.";
}

// Words for the ban endpoint's refusal: its own message when it gave one.
export function banErrorText(status, body) {
  const data = body && typeof body === "object" ? body : {};
  if (typeof data.message === "string" && data.message) return data.message;
  if (status === 0) return "The removal could not be sent. Check your connection and try again.";
  if (status === 400) return "The removal was refused. Check the reason and try again.";
  if (status === 403) return "Only a moderator can remove someone from this chat.";
  if (status === 404) return "This chat no longer exists.";
  return "The removal could not be saved. Try again.";
}
