// Plays the channel with the IVS Player Web SDK and tells the viewer what is happening. An ES module with no
// build step: the page loads it with <script type="module">, after the SDK's classic script has defined IVSPlayer.
// The rules (which state an error means, when a token is spent, the retry timer) are in ./player-logic.js.
//
// The first playback URL (with its signed token) is embedded in the page: the normal first load
// makes no token request. A fresh token is fetched only when this one cannot serve:
//   - it expired before playback started (page left open, slow load, restored from the bfcache);
//   - it was already used (tokens are single-use) and the player must load again;
//   - the player reported an authorisation error: one retry with a fresh token, then the reason.

import { RefreshError, createRetryTimer, retryDelay, stateForError, tokenUsable } from "./player-logic.js";

const config = JSON.parse(document.getElementById("player-config").textContent);
const video = document.getElementById("video");
const statusBox = document.getElementById("player-status");
const actionButton = document.getElementById("player-action");
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

const MESSAGES = {
  loading: "Loading the stream…",
  playing: "",
  buffering: "Buffering…",
  ended: "The stream has ended.",
  offline: "This channel is offline right now. The page keeps checking and starts playing when it goes live.",
  unauthorized: "You are not authorised to watch this stream.",
  superseded: "This channel is now playing on another of your devices.",
  viewer_limit: "This channel has reached its viewer limit. The page will try again shortly.",
  unsupported: "Your browser cannot play this stream. Try a current version of Chrome, Firefox, Safari or Edge.",
  sdk_missing: "The video player could not be loaded. Check your connection or ad blocker and reload.",
  rate_limited: "Too many attempts. Please wait a moment.",
  network: "The connection to the stream was lost. Retrying…",
  error: "The stream could not be played. Reload the page to try again.",
};

// The token's expiry on the server's clock, and where the server's clock is now for us.
let clockOffset = config.serverNow ? config.serverNow * 1000 - Date.now() : 0;
let current = { url: config.playbackUrl, expiresAt: config.expiresAt, session: config.session, used: false };
let authRetried = false;
let player = null;
let starting = null; // the start() under way: a second caller waits for it rather than loading again
// Every later start goes through this one timer: whatever asks for a retry replaces the pending one.
const retry = createRetryTimer(
  (run, ms) => setTimeout(run, ms),
  (handle) => clearTimeout(handle),
);

function show(state, detail, action) {
  statusBox.dataset.state = state;
  statusBox.textContent = detail || MESSAGES[state] || MESSAGES.error;
  statusBox.hidden = state === "playing";
  if (actionButton) {
    actionButton.hidden = !action;
    if (action) {
      actionButton.textContent = action.label;
      actionButton.onclick = action.run;
    }
  }
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
  current = { url: data.playbackUrl, expiresAt: data.expiresAt, session: data.session, used: false };
  return current;
}

function reload() {
  location.reload();
}

function showRefreshFailure(failure) {
  const state = stateForError(failure, config.reasons);
  let action = null;
  if (state === "superseded") action = { label: "Watch here instead", run: reload };
  else if (state === "unauthorized" && failure.status === 401) action = { label: "Log in", run: reload };
  show(state, failure.message, action);
  const delay = retryDelay(state, failure);
  if (delay !== null) retry.schedule(start, delay);
}

function start() {
  retry.cancel(); // this start is the retry: a pending one would load a second time
  if (!starting) starting = load().finally(() => (starting = null));
  return starting;
}

async function load() {
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
  const state = stateForError(err, config.reasons);
  if (state === "unauthorized" && !authRetried) {
    // Perhaps only this token is stale; perhaps access was withdrawn. One fresh token tells which.
    authRetried = true;
    start();
    return;
  }
  show(state);
  const delay = retryDelay(state, err);
  if (delay !== null) retry.schedule(start, delay);
}

function onPageShow(event) {
  // Back from the back/forward cache: the old session may be gone and the token spent or expired.
  if (event.persisted) {
    authRetried = false;
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
    authRetried = false;
    retry.cancel(); // playing again by itself: a retry now would only reload the stream
    show("playing");
  });
  created.addEventListener(States.BUFFERING, () => show("buffering"));
  created.addEventListener(States.ENDED, () => show("ended"));
  created.addEventListener(Events.ERROR, onError);
  created.attachHTMLVideoElement(video);
  created.setMuted(true); // browsers only autoplay muted video; the viewer can unmute
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
  window.ivsPlayer = player;
}

main();
