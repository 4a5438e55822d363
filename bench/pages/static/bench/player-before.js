// bench/ only: static/js/player.js as it was before issue 13, frozen, so the first-frame benchmark can
// measure the page before and after side by side in one run (/bench/before/<slug>/). Never served to viewers.
// Plays the channel with the IVS Player Web SDK and tells the viewer what is happening.
//
// The first playback URL (with its signed token) is embedded in the page: the normal first load
// makes no token request. A fresh token is fetched only when this one cannot serve:
//   - it expired before playback started (page left open, slow load, restored from the bfcache);
//   - it was already used (tokens are single-use) and the player must load again;
//   - the player reported an authorisation error: one retry with a fresh token, then the reason.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("player-config").textContent);
  var video = document.getElementById("video");
  var statusBox = document.getElementById("player-status");
  var actionButton = document.getElementById("player-action");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  var MESSAGES = {
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
    error: "The stream could not be played. Reload the page to try again."
  };
  var OFFLINE_RETRY_MS = 15000;

  // The token's expiry on the server's clock, and where the server's clock is now for us.
  var clockOffset = config.serverNow ? config.serverNow * 1000 - Date.now() : 0;
  var current = { url: config.playbackUrl, expiresAt: config.expiresAt, session: config.session, used: !config.playbackUrl };
  var authRetried = false;
  var player = null;

  function show(state, detail, action) {
    statusBox.dataset.state = state;
    statusBox.textContent = detail || MESSAGES[state] || MESSAGES.error;
    statusBox.hidden = state === "playing";
    if (actionButton) {
      actionButton.hidden = !action;
      if (action) { actionButton.textContent = action.label; actionButton.onclick = action.run; }
    }
  }

  function serverNow() { return (Date.now() + clockOffset) / 1000; }

  function tokenUsable() {
    // A few seconds of margin: the playlist request must reach IVS before exp.
    return !current.used && (!current.expiresAt || current.expiresAt - serverNow() > 5);
  }

  function refresh() {
    if (!config.refreshUrl) return Promise.resolve(current);  // public channel: no token at all
    var body = new URLSearchParams();
    if (current.session) body.set("session", current.session);
    return fetch(config.refreshUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var failure = new Error(data.message || MESSAGES.error);
          failure.reason = data.error || "error";
          failure.status = response.status;
          failure.retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10);
          throw failure;
        }
        clockOffset = data.serverNow * 1000 - Date.now();
        current = { url: data.playbackUrl, expiresAt: data.expiresAt, session: data.session, used: false };
        return current;
      });
    });
  }

  function showRefreshFailure(failure) {
    if (failure.reason === "superseded") {
      show("superseded", failure.message, { label: "Watch here instead", run: function () { location.reload(); } });
    } else if (failure.status === 401) {
      show("unauthorized", failure.message, { label: "Log in", run: function () { location.reload(); } });
    } else if (failure.status === 429) {
      show("rate_limited", failure.message);
      setTimeout(start, Math.max(failure.retryAfter, 1) * 1000);
    } else if (failure.status === 403) {
      show("unauthorized", failure.message);
    } else {
      show("error", failure.message);
    }
  }

  function start() {
    var ready = tokenUsable() ? Promise.resolve(current) : refresh();
    ready.then(function (playback) {
      playback.used = true;
      show("loading");
      player.load(playback.url);
      player.play();
    }, showRefreshFailure);
  }

  function stateForError(err) {
    var code = err && (err.code || err.statusCode);
    var type = err && err.type;
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
    var state = stateForError(err);
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

  if (typeof window.IVSPlayer === "undefined") { show("sdk_missing"); return; }
  if (!IVSPlayer.isPlayerSupported) { show("unsupported"); return; }

  var options = {};
  if (config.wasmWorker) options.wasmWorker = config.wasmWorker;
  if (config.wasmBinary) options.wasmBinary = config.wasmBinary;
  player = IVSPlayer.create(options);
  var Events = IVSPlayer.PlayerEventType;
  var States = IVSPlayer.PlayerState;

  player.addEventListener(States.PLAYING, function () { authRetried = false; show("playing"); });
  player.addEventListener(States.BUFFERING, function () { show("buffering"); });
  player.addEventListener(States.ENDED, function () { show("ended"); });
  player.addEventListener(Events.ERROR, onError);

  player.attachHTMLVideoElement(video);
  player.setMuted(true);  // browsers only autoplay muted video; the viewer can unmute
  start();

  // Back from the back/forward cache: the old session may be gone and the token spent or expired.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { authRetried = false; start(); }
  });
  window.ivsPlayer = player;
})();
