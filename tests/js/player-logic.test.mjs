// node --test tests/js/: the player page's rules (static/js/player-logic.js), without a browser.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  EXPIRY_MARGIN_SECONDS,
  OFFLINE_RETRY_MS,
  RefreshError,
  UNREACHABLE_AFTER,
  createReachability,
  createRetryTimer,
  createWatchClock,
  retryDelay,
  stateForError,
  tokenUsable,
} from "../../static/js/player-logic.js";

// The page's config.reasons (viewers/player/views.py REASONS); tests/test_player_js.py keeps this copy equal.
const reasons = JSON.parse(readFileSync(new URL("./reasons.json", import.meta.url)));

describe("stateForError, a refresh failure", () => {
  // Every code the refresh endpoint answers with, with its status (viewers/player/views.py channel_playback).
  const answers = [
    ["LOGIN_REQUIRED", 401, "unauthorized"],
    ["INACTIVE", 403, "unauthorized"],
    ["NOT_STARTED", 403, "unauthorized"],
    ["ENDED", 403, "unauthorized"],
    ["REVOKED", 403, "unauthorized"],
    ["NO_ENTITLEMENT", 403, "unauthorized"],
    ["COUNTRY", 403, "unauthorized"],
    ["RATE_LIMITED", 429, "rate_limited"],
    ["NOT_FOUND", 404, "error"],
    ["SUPERSEDED", 409, "superseded"],
    ["STOPPED", 409, "stopped"],
  ];
  for (const [name, status, state] of answers) {
    test(`${name} (${status}) shows ${state}`, () => {
      const failure = new RefreshError("why", { status, reason: reasons[name] });
      assert.equal(stateForError(failure, reasons), state);
    });
  }

  test("covers every code that refuses (public and entitled only ever allow)", () => {
    const covered = new Set(answers.map(([name]) => name));
    const refusing = Object.keys(reasons).filter((name) => !["PUBLIC", "ENTITLED"].includes(name));
    assert.deepEqual(refusing.filter((name) => !covered.has(name)), []);
  });

  test("superseded is told by its code, whatever the status", () => {
    const failure = new RefreshError("elsewhere", { status: 403, reason: reasons.SUPERSEDED });
    assert.equal(stateForError(failure, reasons), "superseded");
  });

  test("the codes come from the config: a renamed code is not superseded by accident", () => {
    const failure = new RefreshError("elsewhere", { status: 409, reason: "superseded" });
    assert.equal(stateForError(failure, { ...reasons, SUPERSEDED: "moved_to_another_screen" }), "error");
    assert.equal(stateForError(failure, {}), "error");
  });

  test("no answer at all (the fetch failed) is a network state", () => {
    assert.equal(stateForError(new RefreshError("offline"), reasons), "network");
  });

  test("a server error is an error", () => {
    assert.equal(stateForError(new RefreshError("boom", { status: 500 }), reasons), "error");
    assert.equal(stateForError(new RefreshError("bad gateway", { status: 502 }), reasons), "error");
  });
});

describe("stateForError, a player error", () => {
  const cases = [
    [{ type: "ErrorAuthorization", code: 403 }, "unauthorized"],
    [{ type: "ErrorAuthorization" }, "unauthorized"],
    [{ type: "ErrorNotAvailable", code: 404 }, "offline"],
    [{ type: "ErrorNotAvailable" }, "offline"],
    // IVS at its viewer limit: a 429 the player calls ErrorNotAvailable, like an offline channel.
    [{ type: "ErrorNotAvailable", code: 429 }, "viewer_limit"],
    [{ statusCode: 429 }, "viewer_limit"],
    [{ statusCode: 403 }, "unauthorized"],
    [{ type: "ErrorNetwork" }, "network"],
    [{ type: "ErrorNetworkIO" }, "network"],
    [{ type: "ErrorTimeout" }, "network"],
    [{ type: "ErrorGeneric", code: 500 }, "error"],
    [{}, "error"],
    [null, "error"],
    [undefined, "error"],
  ];
  for (const [err, state] of cases) {
    test(`${JSON.stringify(err)} shows ${state}`, () => assert.equal(stateForError(err, reasons), state));
  }

  test("a player error with a status is not mistaken for a refresh failure", () => {
    assert.equal(stateForError({ status: 409, reason: reasons.SUPERSEDED }, reasons), "error");
  });
});

describe("RefreshError.fromResponse", () => {
  test("takes the endpoint's code, message and Retry-After", () => {
    const failure = RefreshError.fromResponse(429, { error: "rate_limited", message: "Slow down." }, "7", "fallback");
    assert.ok(failure instanceof RefreshError && failure instanceof Error);
    assert.deepEqual([failure.status, failure.reason, failure.message, failure.retryAfter], [
      429,
      "rate_limited",
      "Slow down.",
      7,
    ]);
  });

  test("a body that was not JSON gets the fallback message and the generic code", () => {
    const failure = RefreshError.fromResponse(502, {}, null, "fallback");
    assert.deepEqual([failure.reason, failure.message, failure.retryAfter], ["error", "fallback", 0]);
  });

  test("a malformed or negative Retry-After counts as none", () => {
    assert.equal(RefreshError.fromResponse(429, {}, "soon", "x").retryAfter, 0);
    assert.equal(RefreshError.fromResponse(429, {}, "-3", "x").retryAfter, 0);
  });
});

describe("tokenUsable", () => {
  const now = 1_700_000_000;
  const playback = (extra) => ({ url: "https://ivs.example/p.m3u8?token=t", used: false, ...extra });

  test("a token well before its exp is usable", () => {
    assert.equal(tokenUsable(playback({ expiresAt: now + 60 }), now), true);
  });

  test("an expired token is not", () => {
    assert.equal(tokenUsable(playback({ expiresAt: now - 1 }), now), false);
  });

  test("a token within the margin of its exp is not: the playlist request would reach IVS too late", () => {
    assert.equal(tokenUsable(playback({ expiresAt: now + EXPIRY_MARGIN_SECONDS }), now), false);
    assert.equal(tokenUsable(playback({ expiresAt: now + EXPIRY_MARGIN_SECONDS - 0.5 }), now), false);
    assert.equal(tokenUsable(playback({ expiresAt: now + EXPIRY_MARGIN_SECONDS + 0.5 }), now), true);
    assert.equal(tokenUsable(playback({ expiresAt: now + 20 }), now, 30), false);
  });

  test("a used token is not, however fresh: tokens are single-use", () => {
    assert.equal(tokenUsable(playback({ expiresAt: now + 60, used: true }), now), false);
  });

  test("a URL without a token (public channel, no exp) is usable until used", () => {
    assert.equal(tokenUsable(playback({ expiresAt: null }), now), true);
    assert.equal(tokenUsable(playback({}), now), true);
    assert.equal(tokenUsable(playback({ expiresAt: null, used: true }), now), false);
  });

  test("no URL at all (the page embeds none) is not", () => {
    assert.equal(tokenUsable({ url: null, expiresAt: null, used: false }, now), false);
    assert.equal(tokenUsable(null, now), false);
  });

  test("a malformed exp is not trusted", () => {
    for (const expiresAt of ["soon", String(now + 60), Number.NaN, Number.POSITIVE_INFINITY, {}]) {
      assert.equal(tokenUsable(playback({ expiresAt }), now), false, String(expiresAt));
    }
  });
});

describe("retryDelay", () => {
  test("offline, a full channel and a lost connection try again after a while", () => {
    for (const state of ["offline", "viewer_limit", "network"]) assert.equal(retryDelay(state, {}), OFFLINE_RETRY_MS);
  });

  test("rate limited waits for Retry-After, at least a second", () => {
    assert.equal(retryDelay("rate_limited", new RefreshError("x", { status: 429, retryAfter: 7 })), 7000);
    assert.equal(retryDelay("rate_limited", new RefreshError("x", { status: 429 })), 1000);
  });

  test("what only the viewer can fix is not retried", () => {
    for (const state of ["unauthorized", "superseded", "error", "ended"]) assert.equal(retryDelay(state, {}), null);
  });

  test("a stream given up as unreachable is not retried: the viewer's Try again is", () => {
    assert.equal(retryDelay("unreachable", {}), null);
  });
});

describe("createReachability", () => {
  // One attempt that fails in `state`, as player.js reports it: attempt() at the start, failed() per error.
  const fail = (reach, state, errors = 1) => {
    reach.attempt();
    let shown;
    for (let i = 0; i < errors; i++) shown = reach.failed(state);
    return shown;
  };

  test("gives up after a few attempts in a row that reached nothing", () => {
    const reach = createReachability();
    const shown = Array.from({ length: UNREACHABLE_AFTER + 1 }, () => fail(reach, "network"));
    assert.deepEqual(shown, [...Array(UNREACHABLE_AFTER - 1).fill("network"), "unreachable", "unreachable"]);
    assert.ok(UNREACHABLE_AFTER > 1 && UNREACHABLE_AFTER <= 5);
  });

  test("an attempt counts once, however many errors it reports", () => {
    const reach = createReachability(3);
    assert.equal(fail(reach, "network", 4), "network");
    assert.equal(fail(reach, "network", 2), "network");
    assert.equal(reach.misses, 2);
    assert.equal(fail(reach, "network"), "unreachable");
  });

  test("an answer of any kind starts the count again", () => {
    const reach = createReachability(3);
    for (const answer of ["offline", "unauthorized", "viewer_limit", "rate_limited", "error"]) {
      fail(reach, "network");
      fail(reach, "network");
      assert.equal(fail(reach, answer), answer);
      assert.equal(reach.misses, 0, answer);
    }
    assert.equal(fail(reach, "network"), "network");
  });

  test("playing, or the viewer's Try again, starts it again too", () => {
    const reach = createReachability(2);
    fail(reach, "network");
    assert.equal(fail(reach, "network"), "unreachable");
    reach.reset();
    assert.equal(fail(reach, "network"), "network");
    assert.equal(fail(reach, "network"), "unreachable");
  });
});

// Timer functions that run nothing until told, so a test can see what is pending.
function fakeTimers() {
  const timers = new Map();
  let next = 1;
  return {
    timers,
    setTimer: (run, ms) => {
      timers.set(next, { run, ms });
      return next++;
    },
    clearTimer: (handle) => timers.delete(handle),
    fire(handle) {
      const { run } = timers.get(handle);
      timers.delete(handle);
      run();
    },
  };
}

describe("createRetryTimer", () => {
  test("runs what it was given after the delay", () => {
    const fake = fakeTimers();
    const retry = createRetryTimer(fake.setTimer, fake.clearTimer);
    let runs = 0;
    retry.schedule(() => runs++, 15000);
    assert.equal(retry.pending, true);
    assert.deepEqual([...fake.timers.values()].map((t) => t.ms), [15000]);
    fake.fire([...fake.timers.keys()][0]);
    assert.equal(runs, 1);
    assert.equal(retry.pending, false);
  });

  test("a second schedule replaces the first: one retry, not two", () => {
    const fake = fakeTimers();
    const retry = createRetryTimer(fake.setTimer, fake.clearTimer);
    const ran = [];
    retry.schedule(() => ran.push("first"), 15000);
    retry.schedule(() => ran.push("second"), 1000);
    assert.equal(fake.timers.size, 1);
    for (const handle of [...fake.timers.keys()]) fake.fire(handle);
    assert.deepEqual(ran, ["second"]);
  });

  test("cancel leaves nothing pending, and cancelling twice is harmless", () => {
    const fake = fakeTimers();
    const cleared = [];
    const retry = createRetryTimer(fake.setTimer, (handle) => (cleared.push(handle), fake.clearTimer(handle)));
    retry.schedule(() => assert.fail("cancelled"), 15000);
    retry.cancel();
    retry.cancel();
    assert.equal(retry.pending, false);
    assert.equal(fake.timers.size, 0);
    assert.equal(cleared.length, 1);
  });

  test("a handle of 0 is still cleared", () => {
    const cleared = [];
    const retry = createRetryTimer(
      () => 0,
      (handle) => cleared.push(handle),
    );
    retry.schedule(() => {}, 10);
    retry.cancel();
    assert.deepEqual(cleared, [0]);
  });

  test("the retry may schedule the next one", () => {
    const fake = fakeTimers();
    const retry = createRetryTimer(fake.setTimer, fake.clearTimer);
    let runs = 0;
    const again = () => {
      runs++;
      retry.schedule(again, 15000);
    };
    retry.schedule(again, 15000);
    fake.fire([...fake.timers.keys()][0]);
    fake.fire([...fake.timers.keys()][0]);
    assert.equal(runs, 2);
    assert.equal(fake.timers.size, 1);
    assert.equal(retry.pending, true);
  });

  test("with the real timers", async () => {
    const retry = createRetryTimer(
      (run, ms) => setTimeout(run, ms),
      (handle) => clearTimeout(handle),
    );
    let runs = 0;
    retry.schedule(() => runs++, 5);
    retry.schedule(() => runs++, 5);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(runs, 1);
  });
});

describe("createWatchClock, the seconds a heartbeat reports", () => {
  const fakeNow = () => {
    const clock = { ms: 0 };
    return [clock, () => clock.ms];
  };

  test("counts only while playing", () => {
    const [time, now] = fakeNow();
    const watch = createWatchClock(now);
    time.ms = 5000; // loading: not watching
    watch.playing();
    time.ms = 35000;
    watch.stopped(); // buffering
    time.ms = 50000;
    watch.playing();
    time.ms = 60000;
    assert.equal(watch.take(), 40);
    assert.equal(watch.playingNow, true);
  });

  test("a take starts the next period, and carries the fraction of a second", () => {
    const [time, now] = fakeNow();
    const watch = createWatchClock(now);
    watch.playing();
    time.ms = 1500;
    assert.equal(watch.take(), 1);
    time.ms = 3000;
    assert.equal(watch.take(), 2); // 0.5 carried + 1.5
    assert.equal(watch.take(), 0);
  });

  test("nothing played reports nothing, and stopping twice counts once", () => {
    const [time, now] = fakeNow();
    const watch = createWatchClock(now);
    time.ms = 10000;
    watch.stopped();
    assert.equal(watch.take(), 0);
    watch.playing();
    watch.playing(); // a second PLAYING event does not restart the clock
    time.ms = 14000;
    watch.stopped();
    watch.stopped();
    time.ms = 20000;
    assert.equal(watch.take(), 4);
    assert.equal(watch.playingNow, false);
  });
});
