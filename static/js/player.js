// Plays the channel with the IVS Player Web SDK and tells the viewer what is happening. An ES module with no
// build step: the page loads it with <script type="module">, after the SDK's classic script has defined IVSPlayer.
// The rules (which state an error means, when a token is spent, when to give up, the retry timer) are in
// ./player-logic.js.
//
// The first playback URL (with its signed token) is embedded in the page: the normal first load
// makes no token request. A fresh token is fetched only when this one cannot serve:
//   - it expired before playback started (page left open, slow load, restored from the bfcache);
//   - it was already used (tokens are single-use) and the player must load again;
//   - the player reported an authorisation error: one retry with a fresh token, then the reason;
//   - the viewer clicked "Try again" after the page gave up on a stream it could not reach.
//
// It asks for sound: when the browser allows only muted autoplay, the SDK plays muted and says so (AUDIO_BLOCKED),
// and an "Unmute" button offers the sound until the viewer takes it.

import {
  RefreshError,
  createReachability,
  createWatchClock,
  createRetryTimer,
  retryDelay,
  stateForError,
  tokenUsable,
} from "./player-logic.js";

const config = JSON.parse(document.getElementById("player-config").textContent);
const video = document.getElementById("video");
const statusBox = document.getElementById("player-status");
const statusMessage = document.getElementById("player-message");
const actionButton = document.getElementById("player-action");
const unmuteButton = document.getElementById("player-unmute");
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

const MESSAGES = {
  loading: "Loading the stream…",
  playing: "",
  buffering: "Buffering…",
  ended: "The stream has ended.",
  offline: "This channel is offline right now. The page keeps checking and starts playing when it goes live.",
  unauthorized: "You are not authorised to watch this stream.",
  superseded: "This channel is now playing on another of your devices.",
  stopped: "An organiser stopped your playback.",
  viewer_limit: "This channel has reached its viewer limit. The page will try again shortly.",
  unsupported: "Your browser cannot play this stream. Try a current version of Chrome, Firefox, Safari or Edge.",
  sdk_missing: "The video player could not be loaded. Check your connection or ad blocker and reload.",
  rate_limited: "Too many attempts. Please wait a moment.",
  network: "The connection to the stream was lost. Retrying…",
  unreachable: "The stream cannot be reached right now.",
  blocked: "Your browser did not start the video by itself.",
  error: "The stream could not be played. Reload the page to try again.",
};

// The token's expiry on the server's clock, and where the server's clock is now for us.
let clockOffset = config.serverNow ? config.serverNow * 1000 - Date.now() : 0;
let current = {
  url: config.playbackUrl,
  expiresAt: config.expiresAt,
  session: config.session,
  ticket: config.heartbeatTicket,
  used: false,
};
let authRetried = false;
let player = null;
let starting = null; // the start() under way: a second caller waits for it rather than loading again
let audioBlocked = false; // the browser muted the autoplay and the viewer has not unmuted yet
const reachability = createReachability();
const watchClock = createWatchClock();
// Every later start goes through this one timer: whatever asks for a retry replaces the pending one.
const retry = createRetryTimer(
  (run, ms) => setTimeout(run, ms),
  (handle) => clearTimeout(handle),
);

function show(state, detail, action) {
  statusBox.dataset.state = state;
  statusMessage.textContent = detail || MESSAGES[state] || MESSAGES.error;
  statusBox.hidden = state === "playing";
  showUnmute();
  if (actionButton) {
    actionButton.hidden = !action;
    if (action) {
      actionButton.textContent = action.label;
      actionButton.onclick = action.run;
    }
  }
}

// Over a moving picture only: not over a message that covers the video.
function showUnmute() {
  const state = statusBox.dataset.state;
  if (unmuteButton) unmuteButton.hidden = !(audioBlocked && (state === "playing" || state === "buffering"));
}

function offerSound(offer) {
  audioBlocked = offer;
  showUnmute();
}

function unmute() {
  player.setMuted(false); // the click is the gesture the browser waited for
  offerSound(false);
}

function serverNow() {
  return (Date.now() + clockOffset) / 1000;
}

async function refresh() {
  if (!config.refreshUrl) return current; // public channel: no token at all
  const body = new URLSearchParams();
  if (current.session) body.set("session", current.session);
  let response;
  try {
    response = await fetch(config.refreshUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      body,
    });
  } catch {
    throw new RefreshError(MESSAGES.network); // no answer: status 0
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw RefreshError.fromResponse(response.status, data, response.headers.get("Retry-After"), MESSAGES.error);
  }
  clockOffset = data.serverNow * 1000 - Date.now();
  current = {
    url: data.playbackUrl,
    expiresAt: data.expiresAt,
    session: data.session,
    ticket: data.heartbeatTicket,
    used: false,
  };
  return current;
}

function reload() {
  location.reload();
}

function tryAgain() {
  reachability.reset();
  authRetried = false;
  start(); // the token was used by the attempts before: load() fetches a fresh one
}

function actionFor(state, failure) {
  if (state === "superseded") return { label: "Watch here instead", run: reload };
  if (state === "stopped") return { label: "Watch again", run: reload };
  if (state === "unauthorized" && failure && failure.status === 401) return { label: "Log in", run: reload };
  if (state === "unreachable") return { label: "Try again", run: tryAgain };
  return null;
}

function showFailure(state, failure, detail) {
  show(state, detail, actionFor(state, failure));
  const delay = retryDelay(state, failure);
  if (delay !== null) retry.schedule(start, delay);
}

function showRefreshFailure(failure) {
  const state = reachability.failed(stateForError(failure, config.reasons));
  showFailure(state, failure, state === "unreachable" ? null : failure.message);
}

function start() {
  retry.cancel(); // this start is the retry: a pending one would load a second time
  if (!starting) starting = load().finally(() => (starting = null));
  return starting;
}

async function load() {
  reachability.attempt();
  let playback;
  try {
    playback = tokenUsable(current, serverNow()) ? current : await refresh();
  } catch (failure) {
    if (!(failure instanceof RefreshError)) throw failure;
    showRefreshFailure(failure);
    return;
  }
  playback.used = true;
  retry.cancel(); // one asked for while the fresh token was on its way would load this stream again
  show("loading");
  player.load(playback.url);
  player.play();
}

function onError(err) {
  const state = reachability.failed(stateForError(err, config.reasons));
  if (state === "unauthorized" && !authRetried) {
    // Perhaps only this token is stale; perhaps access was withdrawn. One fresh token tells which.
    authRetried = true;
    start();
    return;
  }
  showFailure(state, err);
}

// "Still playing": the seconds played since the last heartbeat, for the session of the current token, with the
// ticket the server gave for it (the session cookie goes with it). A beacon, so that the one sent while the page
// is closing is still delivered; nothing waits for the answer.
function sendHeartbeat(final) {
  if (!config.heartbeatUrl || !current.session || !current.ticket) return;
  const seconds = watchClock.take();
  if (!final && seconds === 0 && !watchClock.playingNow) return; // nothing played: nothing to report
  const body = new URLSearchParams({ user: config.viewer, session: current.session, seconds, ticket: current.ticket });
  if (final) body.set("final", "1");
  if (navigator.sendBeacon && navigator.sendBeacon(config.heartbeatUrl, body)) return;
  fetch(config.heartbeatUrl, { method: "POST", body, keepalive: true, credentials: "same-origin" }).catch(() => {});
}

function onPageShow(event) {
  // Back from the back/forward cache: the old session may be gone and the token spent or expired.
  if (event.persisted) {
    authRetried = false;
    reachability.reset();
    start();
  }
}

function createPlayer(IVSPlayer) {
  const options = {};
  if (config.wasmWorker) options.wasmWorker = config.wasmWorker;
  if (config.wasmBinary) options.wasmBinary = config.wasmBinary;
  const created = IVSPlayer.create(options);
  const { PlayerEventType: Events, PlayerState: States } = IVSPlayer;
  created.addEventListener(States.PLAYING, () => {
    watchClock.playing();
    authRetried = false;
    reachability.reset();
    retry.cancel(); // playing again by itself: a retry now would only reload the stream
    show("playing");
  });
  // Only playing counts as watching: the clock stops in every other state.
  for (const state of [States.BUFFERING, States.ENDED, States.IDLE, States.READY]) {
    created.addEventListener(state, () => watchClock.stopped());
  }
  created.addEventListener(States.BUFFERING, () => show("buffering"));
  created.addEventListener(States.ENDED, () => show("ended"));
  created.addEventListener(Events.ERROR, (err) => {
    watchClock.stopped();
    onError(err);
  });
  created.addEventListener(Events.AUDIO_BLOCKED, () => offerSound(true));
  // The browser refused even muted autoplay (a strict autoplay policy, a data saver): the viewer's click is the
  // gesture it waits for.
  created.addEventListener(Events.PLAYBACK_BLOCKED, () =>
    show("blocked", null, { label: "Play", run: () => created.play() }),
  );
  // Unmuted with the video's own controls: the button has no more to offer.
  created.addEventListener(Events.MUTED_CHANGED, () => created.isMuted() || offerSound(false));
  created.attachHTMLVideoElement(video);
  // Start on half a second of video: by default the player waits for a second segment, one more playlist
  // refresh and segment (about 200 ms at 50 ms RTT, bench/) before the first frame.
  created.setInitialBufferDuration(0.5);
  return created;
}

function main() {
  const IVSPlayer = window.IVSPlayer;
  if (typeof IVSPlayer === "undefined") {
    show("sdk_missing");
    return;
  }
  if (!IVSPlayer.isPlayerSupported) {
    show("unsupported");
    return;
  }
  player = createPlayer(IVSPlayer);
  start(); // the playlist at once: the player queues it until its worker is ready
  window.addEventListener("pageshow", onPageShow);
  if (config.heartbeatUrl) {
    setInterval(() => sendHeartbeat(false), config.heartbeatSeconds * 1000);
    window.addEventListener("pagehide", () => sendHeartbeat(true));
  }
  if (unmuteButton) unmuteButton.addEventListener("click", unmute);
  window.ivsPlayer = player;
}

main();
