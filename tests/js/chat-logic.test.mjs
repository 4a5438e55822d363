// node --test tests/js/: the chat panel's rules (static/js/chat-logic.js), without a browser or the SDK.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  BAN_REASON_MAX,
  ChatTokenError,
  MESSAGE_LIMIT,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  RETRY_MIN_MS,
  SESSION_END_MARGIN_MS,
  afterDisconnect,
  atBottom,
  banErrorText,
  canWrite,
  charCount,
  createRetryPolicy,
  draftState,
  isFinal,
  messageView,
  moderationErrorText,
  moderatorActions,
  overflow,
  retryDelayMs,
  sendErrorText,
  stateForFailure,
  statusText,
  timeLabel,
  tokenFromResponse,
} from "../../static/js/chat-logic.js";

const TOKEN = {
  token: "AQICAHg-chat-token",
  sessionExpirationTime: "2025-01-01T13:00:00Z",
  tokenExpirationTime: "2025-01-01T12:01:00Z",
};

function failure(status, body = {}, retryAfter = null) {
  try {
    tokenFromResponse(status, body, retryAfter);
  } catch (error) {
    return error;
  }
  throw new Error("expected a ChatTokenError");
}

describe("tokenFromResponse, the tokenProvider's answer", () => {
  test("a 200 gives the SDK the token and the session's end, not the token's own expiry", () => {
    // Given tokenExpirationTime, the SDK would reconnect (a new token, an AWS call) 30 s before that minute ends.
    const { tokenExpirationTime, ...given } = TOKEN;
    assert.equal(typeof tokenExpirationTime, "string");
    assert.deepEqual(tokenFromResponse(200, { ...TOKEN, extra: "ignored" }, null), given);
  });

  test("each error answer becomes a ChatTokenError with its status, code and message", () => {
    const error = failure(403, { error: "banned", message: "A moderator removed you from this chat." });
    assert.ok(error instanceof ChatTokenError);
    assert.equal(error.status, 403);
    assert.equal(error.code, "banned");
    assert.equal(error.message, "A moderator removed you from this chat.");
  });

  test("Retry-After is read in seconds; a bad one is no wait", () => {
    assert.equal(failure(429, { error: "rate_limited" }, "12").retryAfter, 12);
    assert.equal(failure(429, { error: "rate_limited" }, "soon").retryAfter, 0);
    assert.equal(failure(429, { error: "rate_limited" }, "-3").retryAfter, 0);
  });

  test("a body that is not JSON, or a 200 without a token, is an error answer, never a token", () => {
    assert.equal(failure(502, null).code, "error");
    assert.equal(failure(502, null).message, "");
    const noToken = failure(200, { token: "" });
    assert.equal(noToken.status, 500);
    assert.equal(stateForFailure(noToken).final, false);
  });

  test("a ban's reason, when the endpoint sends one, is kept", () => {
    assert.equal(failure(403, { error: "banned", message: "m", reason: "spam" }).reason, "spam");
  });
});

describe("stateForFailure, what a token error means", () => {
  const cases = [
    [401, "login_required", "login", true],
    [403, "banned", "banned", true],
    [403, "ended", "access_ended", true],
    [403, "revoked", "access_ended", true],
    [403, "no_entitlement", "access_ended", true],
    [404, "no_chat", "no_chat", true],
    [429, "rate_limited", "rate_limited", false],
    [503, "chat_unavailable", "unavailable", false],
    [0, "error", "network", false],
    [500, "error", "error", false],
    [400, "error", "error", false],
  ];
  for (const [status, code, state, final] of cases) {
    test(`${status} ${code} → ${state}${final ? ", final" : ", retried"}`, () => {
      assert.deepEqual(stateForFailure(new ChatTokenError("", { status, code })), { state, final });
    });
  }
});

describe("retryDelayMs, the backoff", () => {
  const unavailable = new ChatTokenError("", { status: 503, code: "chat_unavailable" });
  const top = () => 0.999999;
  const bottom = () => 0;

  test("doubles from the base up to the cap, drawn in the upper half of each step", () => {
    const tops = [0, 1, 2, 3, 4, 5, 6, 10].map((n) => retryDelayMs(unavailable, n, top));
    assert.deepEqual(tops, [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    assert.equal(retryDelayMs(unavailable, 0, bottom), RETRY_BASE_MS / 2);
    assert.equal(retryDelayMs(unavailable, 20, bottom), RETRY_MAX_MS / 2);
  });

  test("a 429 waits its Retry-After, at least a second", () => {
    const limited = (retryAfter) => new ChatTokenError("", { status: 429, retryAfter });
    assert.equal(retryDelayMs(limited(30), 5, top), 30000);
    assert.equal(retryDelayMs(limited(0), 0, top), 1000);
  });

  test("a final failure is never retried", () => {
    for (const status of [401, 403, 404]) {
      assert.equal(retryDelayMs(new ChatTokenError("", { status }), 0), null);
    }
  });
});

describe("createRetryPolicy, the gate in front of the token endpoint", () => {
  const unavailable = () => new ChatTokenError("down", { status: 503, code: "chat_unavailable" });

  test("while a wait runs, the SDK's own retries get the failure back, not a request", () => {
    const policy = createRetryPolicy({ random: () => 0.999999 });
    assert.doesNotThrow(() => policy.check(0));
    const error = unavailable();
    assert.equal(policy.failed(error, 1000), 2000);
    assert.throws(() => policy.check(1000), (thrown) => thrown === error);
    assert.throws(() => policy.check(2999));
    assert.doesNotThrow(() => policy.check(3000));
    assert.equal(policy.waitMs(1500), 1500);
    assert.equal(policy.waitMs(5000), 0);
  });

  test("failures in a row wait longer; connecting starts the count again", () => {
    const policy = createRetryPolicy({ random: () => 0.999999 });
    assert.deepEqual([0, 1, 2].map(() => policy.failed(unavailable(), 0)), [2000, 4000, 8000]);
    assert.equal(policy.attempts, 3);
    policy.connected();
    assert.equal(policy.attempts, 0);
    assert.equal(policy.failure, null);
    assert.equal(policy.failed(unavailable(), 0), 2000);
  });

  test("the viewer's 'Try again now' ends the wait but keeps the count", () => {
    const policy = createRetryPolicy({ random: () => 0.999999 });
    policy.failed(unavailable(), 0);
    policy.release();
    assert.doesNotThrow(() => policy.check(1));
    assert.equal(policy.failed(unavailable(), 1), 4000);
  });

  test("after a final failure the gate stays shut", () => {
    const policy = createRetryPolicy();
    const banned = new ChatTokenError("", { status: 403, code: "banned" });
    assert.equal(policy.failed(banned, 0), null);
    assert.throws(() => policy.check(10 ** 12), (thrown) => thrown === banned);
    policy.release();
    assert.throws(() => policy.check(10 ** 12), (thrown) => thrown === banned);
    assert.equal(policy.waitMs(10 ** 12), null);
  });
});

describe("afterDisconnect, the SDK's disconnect reasons", () => {
  const now = 1_000_000;

  test("the page's own disconnect (pagehide) does not reconnect by itself", () => {
    assert.deepEqual(afterDisconnect("clientDisconnect", { policy: createRetryPolicy(), now }), {
      state: "paused",
      retryMs: null,
    });
  });

  test("serverDisconnect is a removal, asked about once more (banned, access ended, or a new room)", () => {
    const removed = { userId: "me", reason: "spam" };
    const policy = createRetryPolicy();
    assert.deepEqual(afterDisconnect("serverDisconnect", { policy, now, removed }), {
      state: "removed",
      retryMs: RETRY_MIN_MS,
      quiet: true,
    });
    assert.deepEqual(afterDisconnect("serverDisconnect", { policy, now, sessionExpiresAt: now + 60000 }), {
      state: "removed",
      retryMs: RETRY_MIN_MS,
      quiet: true,
    });
  });

  test("…unless the session had reached its end and no removal was announced", () => {
    const policy = createRetryPolicy();
    const ended = afterDisconnect("serverDisconnect", { policy, now, sessionExpiresAt: now + SESSION_END_MARGIN_MS });
    assert.deepEqual(ended, { state: "reconnecting", retryMs: RETRY_MIN_MS });
    const removed = { userId: "me", reason: "" };
    const stillRemoved = afterDisconnect("serverDisconnect", { policy, now, removed, sessionExpiresAt: now });
    assert.equal(stillRemoved.state, "removed");
  });

  test("a token failure shows its state and waits out the policy's wait", () => {
    const policy = createRetryPolicy({ random: () => 0.999999 });
    policy.failed(new ChatTokenError("", { status: 503 }), now);
    assert.deepEqual(afterDisconnect("fetchTokenError", { policy, now: now + 500 }), {
      state: "unavailable",
      retryMs: 1500,
    });
    const limited = createRetryPolicy();
    limited.failed(new ChatTokenError("", { status: 429, retryAfter: 20 }), now);
    assert.deepEqual(afterDisconnect("fetchTokenError", { policy: limited, now }), {
      state: "rate_limited",
      retryMs: 20000,
    });
  });

  test("a final token failure stays", () => {
    for (const [status, code, state] of [
      [401, "login_required", "login"],
      [403, "banned", "banned"],
      [403, "ended", "access_ended"],
      [404, "no_chat", "no_chat"],
    ]) {
      const policy = createRetryPolicy();
      policy.failed(new ChatTokenError("", { status, code }), now);
      assert.deepEqual(afterDisconnect("fetchTokenError", { policy, now }), { state, retryMs: null });
    }
  });

  test("a socket that would not open counts as a failure and backs off", () => {
    const policy = createRetryPolicy({ random: () => 0.999999 });
    const first = afterDisconnect("socketError", { policy, now });
    const second = afterDisconnect("socketError", { policy, now });
    assert.deepEqual([first.state, first.retryMs, second.retryMs], ["network", 2000, 4000]);
  });
});

describe("statusText", () => {
  test("the states the panel must say in words", () => {
    assert.equal(statusText("login"), "The chat is for logged-in viewers.");
    assert.equal(statusText("banned"), "A moderator removed you from this chat.");
    assert.equal(statusText("removed"), "You were removed from the chat.");
    assert.match(statusText("access_ended"), /closed because your access to this channel ended/);
    assert.equal(statusText("unavailable", { seconds: 8 }), "The chat is unavailable right now. Trying again in 8 s.");
    assert.equal(statusText("rate_limited", { seconds: 20 }), "Too many attempts to join the chat. Trying again in 20 s.");
    assert.equal(statusText("connected"), "");
  });

  test("a ban shows the endpoint's words and the reason, once", () => {
    assert.equal(statusText("banned", { reason: "Spam" }), "A moderator removed you from this chat. Reason: Spam");
    assert.equal(
      statusText("banned", { message: "A moderator removed you from this chat: Spam", reason: "Spam" }),
      "A moderator removed you from this chat: Spam",
    );
    assert.equal(statusText("removed", { reason: "  " }), "You were removed from the chat.");
    assert.equal(statusText("removed", { reason: "Be kind" }), "You were removed from the chat. Reason: Be kind");
  });

  test("only a connected panel writes; the final states stop it", () => {
    assert.equal(canWrite("connected"), true);
    for (const state of ["connecting", "reconnecting", "unavailable", "banned"]) assert.equal(canWrite(state), false);
    for (const state of ["login", "banned", "removed", "access_ended", "no_chat"]) assert.equal(isFinal(state), true);
    for (const state of ["unavailable", "rate_limited", "network", "error", "paused"]) assert.equal(isFinal(state), false);
  });
});

describe("messageView, what a message shows", () => {
  const message = (userId, attributes = { displayName: "Ada" }, extra = {}) => ({
    id: "msg-1",
    content: "<b>hello</b>",
    sendTime: new Date("2025-01-01T12:05:00Z"),
    sender: { userId, attributes },
    ...extra,
  });

  test("name, text and time, the text as it was sent (chat.js sets it as text, never HTML)", () => {
    const view = messageView(message("u-ada"), { userId: "u-me" });
    assert.equal(view.name, "Ada");
    assert.equal(view.text, "<b>hello</b>");
    assert.equal(view.time.toISOString(), "2025-01-01T12:05:00.000Z");
    assert.equal(view.own, false);
    assert.equal(view.userId, "u-ada");
  });

  test("own messages are marked; an anonymous reader owns none", () => {
    assert.equal(messageView(message("u-me"), { userId: "u-me" }).own, true);
    assert.equal(messageView(message("u-me"), { userId: null }).own, false);
  });

  test("a moderator's messages say so, from the attributes the site put in their token", () => {
    assert.equal(messageView(message("u-mod", { displayName: "Mo", moderator: "true" })).fromModerator, true);
    assert.equal(messageView(message("u-x", { displayName: "X", moderator: "false" })).fromModerator, false);
    assert.equal(messageView(message("u-x")).fromModerator, false);
  });

  test("a sender without a display name is 'Viewer'", () => {
    assert.equal(messageView(message("u-x", null)).name, "Viewer");
    assert.equal(messageView(message("u-x", { displayName: "  " })).name, "Viewer");
  });

  test("a send time the SDK did not parse is no time", () => {
    assert.equal(messageView(message("u-x", {}, { sendTime: "nonsense" })).time, null);
    assert.equal(timeLabel(null), "");
  });

  test("the time is the viewer's clock's, hours and minutes", () => {
    assert.match(timeLabel(new Date(2025, 0, 1, 9, 7), "en-GB"), /^0?9:07$/);
    assert.match(timeLabel(new Date(2025, 0, 1, 14, 7), "en-US"), /^2:07\sPM$/);
  });
});

describe("moderatorActions, what a moderator may do", () => {
  test("a moderator deletes every message and removes everyone else", () => {
    assert.deepEqual(moderatorActions("u-ada", { userId: "u-mod", moderator: true }), {
      canDelete: true,
      canRemove: true,
    });
    assert.deepEqual(moderatorActions("u-mod", { userId: "u-mod", moderator: true }), {
      canDelete: true,
      canRemove: false,
    });
  });

  test("a viewer does neither, not even on their own messages", () => {
    assert.deepEqual(moderatorActions("u-me", { userId: "u-me", moderator: false }), {
      canDelete: false,
      canRemove: false,
    });
    assert.deepEqual(moderatorActions("u-ada", { userId: "u-me" }), { canDelete: false, canRemove: false });
  });

  test("the message view carries them", () => {
    const view = messageView({ id: "m", content: "x", sendTime: new Date(), sender: { userId: "u-ada" } }, {
      userId: "u-mod",
      moderator: true,
    });
    assert.equal(view.canDelete && view.canRemove, true);
  });
});

describe("the send box", () => {
  test("counts characters as IVS Chat does: code points, an emoji is one", () => {
    assert.equal(charCount("hello"), 5);
    assert.equal(charCount("👍🏽"), 2); // a thumb and its skin tone: two code points
    assert.equal(charCount("😀"), 1);
    assert.equal(charCount(""), 0);
    assert.equal(charCount(undefined), 0);
  });

  test("a draft is sendable when it has something and fits", () => {
    assert.deepEqual(draftState("hi", 5), { length: 2, remaining: 3, tooLong: false, empty: false, sendable: true });
    assert.equal(draftState("😀😀😀😀😀", 5).sendable, true);
    assert.equal(draftState("123456", 5).tooLong, true);
    assert.equal(draftState("123456", 5).sendable, false);
    assert.equal(draftState("   ", 5).sendable, false);
    assert.equal(draftState("", 5).empty, true);
  });
});

describe("the log", () => {
  test(`keeps at most ${MESSAGE_LIMIT} messages`, () => {
    assert.equal(overflow(MESSAGE_LIMIT), 0);
    assert.equal(overflow(MESSAGE_LIMIT + 1), 1);
    assert.equal(overflow(3, 2), 1);
    assert.equal(overflow(0), 0);
  });

  test("follows new messages only while the viewer reads its end", () => {
    assert.equal(atBottom({ scrollTop: 600, clientHeight: 400, scrollHeight: 1000 }), true);
    assert.equal(atBottom({ scrollTop: 560, clientHeight: 400, scrollHeight: 1000 }), true);
    assert.equal(atBottom({ scrollTop: 100, clientHeight: 400, scrollHeight: 1000 }), false);
  });
});

describe("errors in words", () => {
  test("a refused send", () => {
    assert.match(sendErrorText({ errorCode: 429, errorMessage: "x" }), /too fast/);
    assert.match(sendErrorText({ errorCode: 413 }), /too long/);
    assert.match(sendErrorText({ errorCode: 403 }), /cannot send/);
    assert.match(sendErrorText(new Error("Room is not connected")), /not connected/);
    assert.match(sendErrorText(Object.assign(new Error("t"), { name: "SendTimeout" })), /did not answer/);
    assert.match(sendErrorText(undefined), /could not be sent/);
  });

  test("a refused delete or disconnect", () => {
    assert.match(moderationErrorText({ errorCode: 403 }, "delete"), /cannot delete messages/);
    assert.match(moderationErrorText({ errorCode: 500 }, "delete"), /could not be deleted/);
    assert.match(moderationErrorText({ errorCode: 500 }, "remove"), /removed, but/);
  });

  test("a refused ban says the endpoint's words first", () => {
    assert.equal(banErrorText(400, { error: "invalid", message: "The reason is too long." }), "The reason is too long.");
    assert.match(banErrorText(403, null), /Only a moderator/);
    assert.match(banErrorText(0, null), /connection/);
    assert.equal(BAN_REASON_MAX, 200);
  });
});
