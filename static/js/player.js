// Plays the channel with the IVS Player Web SDK and tells the viewer what is happening. An ES module with no
// build step: the page loads it with <script type="module">, after the SDK's classic script has defined IVSPlayer.
//
// The first playback URL (with its signed token) is embedded in the page: the normal first load
// makes no token request. A fresh token is fetched only when this one cannot serve:
//   - it expired before playback started (page left open, slow load, restored from the bfcache);
//   - it was already used (tokens are single-use) and the player must load again;
//   - the player reported an authorisation error: one retry with a fresh token, then the reason.

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
const OFFLINE_RETRY_MS = 15000;

// The token's expiry on the server's clock, and where the server's clock is now for us.
let clockOffset = config.serverNow ? config.serverNow * 1000 - Date.now() : 0;
let current = { url: config.playbackUrl, expiresAt: config.expiresAt, session: config.session, used: !config.playbackUrl };
let authRetried = false;
let player = null;

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

function tokenUsable() {
  // A few seconds of margin: the playlist request must reach IVS before exp.
  return !current.used && (!current.expiresAt || current.expiresAt - serverNow() > 5);
}

async function refresh() {
  if (!config.refreshUrl) return current; // public channel: no token at all
  const body = new URLSearchParams();
  if (current.session) body.set("session", current.session);
  const response = await fetch(config.refreshUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    body,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const failure = new Error(data.message || MESSAGES.error);
    failure.reason = data.error || "error";
    failure.status = response.status;
    failure.retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10);
    throw failure;
  }
  clockOffset = data.serverNow * 1000 - Date.now();
  current = { url: data.playbackUrl, expiresAt: data.expiresAt, session: data.session, used: false };
  return current;
}

function reload() {
  location.reload();
}

function showRefreshFailure(failure) {
  if (failure.reason === "superseded") {
    show("superseded", failure.message, { label: "Watch here instead", run: reload });
  } else if (failure.status === 401) {
    show("unauthorized", failure.message, { label: "Log in", run: reload });
  } else if (failure.status === 429) {
    show("rate_limited", failure.message);
    setTimeout(start, Math.max(failure.retryAfter, 1) * 1000);
  } else if (failure.status === 403) {
    show("unauthorized", failure.message);
  } else {
    show("error", failure.message);
  }
}

async function start() {
  let playback;
  try {
    playback = tokenUsable() ? current : await refresh();
  } catch (failure) {
    showRefreshFailure(failure);
    return;
  }
  playback.used = true;
  show("loading");
  player.load(playback.url);
  player.play();
}

function stateForError(err) {
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

function onError(err) {
  const state = stateForError(err);
  if (state === "unauthorized" && !authRetried) {
    // Perhaps only this token is stale; perhaps access was withdrawn. One fresh token tells which.
    authRetried = true;
    start();
    return;
  }
  show(state);
  if (state === "offline" || state === "viewer_limit" || state === "network") {
    setTimeout(start, OFFLINE_RETRY_MS);
  }
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
