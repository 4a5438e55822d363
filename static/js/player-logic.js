// The player page's rules that need no DOM, no SDK and no network, so node can test them (tests/js/):
// which state an error means, whether a playback URL can still be loaded, when to stop retrying, and the one retry
// timer.
// static/js/player.js wires them to the page.

// How long an offline channel, a full channel or a lost connection waits before the next try.
export const OFFLINE_RETRY_MS = 15000;
// After this many attempts in a row that reached nothing, the page stops retrying and says the stream cannot be
// reached: a host that is down or blocked would otherwise show "Retrying…" forever.
export const UNREACHABLE_AFTER = 3;
// The playlist request must reach IVS before the token's exp, so a token this close to it is already spent.
export const EXPIRY_MARGIN_SECONDS = 5;

// A failed POST to the refresh endpoint. status 0: no answer at all (the fetch itself failed).
// reason is the endpoint's code (config.reasons); retryAfter is in seconds.
export class RefreshError extends Error {
  constructor(message, { status = 0, reason = "error", retryAfter = 0 } = {}) {
    super(message);
    this.name = "RefreshError";
    this.status = status;
    this.reason = reason;
    this.retryAfter = retryAfter;
  }

  // The endpoint's JSON error ({error, message}, or nothing when the body was not JSON) and Retry-After header.
  static fromResponse(status, body, retryAfterHeader, fallbackMessage) {
    const data = body && typeof body === "object" ? body : {};
    const retryAfter = Number.parseInt(retryAfterHeader || "0", 10);
    return new RefreshError(data.message || fallbackMessage, {
      status,
      reason: data.error || "error",
      retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0,
    });
  }
}

// Can this playback URL be loaded as it is, without fetching a fresh one? `now` is in seconds on the server's
// clock (the browser's may be wrong); expiresAt is the token's exp, null when the URL carries no token.
export function tokenUsable(playback, now, margin = EXPIRY_MARGIN_SECONDS) {
  if (!playback || !playback.url || playback.used) return false; // tokens are single-use
  if (playback.expiresAt === null || playback.expiresAt === undefined) return true;
  // A malformed exp cannot be trusted to be in the future: fetch a fresh token.
  return Number.isFinite(playback.expiresAt) && playback.expiresAt - now > margin;
}

// The state the page shows for a refresh failure (RefreshError) or a player error (the SDK's {type, code}).
// `reasons` are the endpoint's codes from the page's config (viewers/reasons.py), not typed here.
export function stateForError(err, reasons = {}) {
  if (err instanceof RefreshError) {
    if (reasons.SUPERSEDED && err.reason === reasons.SUPERSEDED) return "superseded";
    if (reasons.STOPPED && err.reason === reasons.STOPPED) return "stopped";
    if (err.status === 0) return "network";
    if (err.status === 401 || err.status === 403) return "unauthorized";
    if (err.status === 429) return "rate_limited";
    return "error";
  }
  const code = err && (err.code || err.statusCode);
  const type = err && err.type;
  // The HTTP status decides first: the player reports a 429 as ErrorNotAvailable, like a 404.
  if (code === 403) return "unauthorized";
  if (code === 429) return "viewer_limit";
  if (code === 404) return "offline";
  if (type === "ErrorAuthorization") return "unauthorized";
  if (type === "ErrorNotAvailable") return "offline";
  if (type === "ErrorNetwork" || type === "ErrorNetworkIO" || type === "ErrorTimeout") return "network";
  return "error";
}

// How long to wait before trying again in this state, or null when only the viewer can fix it.
export function retryDelay(state, err) {
  if (state === "unreachable") return null; // given up: the viewer's "Try again" starts the next attempt
  if (state === "rate_limited") return Math.max((err && err.retryAfter) || 0, 1) * 1000;
  if (state === "offline" || state === "viewer_limit" || state === "network") return OFFLINE_RETRY_MS;
  return null;
}

// Counts the attempts in a row that could not reach the stream ("network"), and turns the one that reaches the
// limit into "unreachable". Any answer (offline, refused…) shows the way is open and starts the count again, and
// so do playing and the viewer's "Try again" (reset). An attempt counts once however many errors it reports.
export function createReachability(limit = UNREACHABLE_AFTER) {
  let misses = 0;
  let counted = false;
  return {
    attempt() {
      counted = false;
    },
    // The state to show for a failed attempt's state.
    failed(state) {
      if (state !== "network") {
        misses = 0;
        return state;
      }
      if (!counted) misses += 1;
      counted = true;
      return misses >= limit ? "unreachable" : state;
    },
    reset() {
      misses = 0;
    },
    get misses() {
      return misses;
    },
  };
}

// The seconds played since the last heartbeat: the clock runs only while the player is playing, and what a
// heartbeat did not report (the fraction of a second) is carried to the next one. `now` is in milliseconds.
export function createWatchClock(now = () => performance.now()) {
  let since = null; // when playing started, while playing
  let banked = 0; // milliseconds played and not reported yet
  const stop = () => {
    if (since !== null) banked += now() - since;
    since = null;
  };
  return {
    playing() {
      if (since === null) since = now();
    },
    stopped: stop,
    // Whole seconds to report now; the rest stays banked.
    take() {
      const running = since !== null;
      stop();
      if (running) since = now();
      const seconds = Math.floor(banked / 1000);
      banked -= seconds * 1000;
      return seconds;
    },
    get playingNow() {
      return since !== null;
    },
  };
}

// At most one retry pending: scheduling replaces the pending one, so two errors (or an error and a pageshow)
// cannot each start playback. Takes the timer functions so tests can pass fakes.
export function createRetryTimer(setTimer, clearTimer) {
  let handle;
  let pending = false;
  const cancel = () => {
    if (pending) clearTimer(handle);
    pending = false;
  };
  return {
    schedule(run, delayMs) {
      cancel();
      pending = true;
      handle = setTimer(() => {
        pending = false;
        run();
      }, delayMs);
    },
    cancel,
    get pending() {
      return pending;
    },
  };
}
