// Plays the channel with the IVS Player Web SDK and tells the viewer what is happening.
// The playback URL (with its signed token) is embedded in the page: no request for a token here.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("player-config").textContent);
  var video = document.getElementById("video");
  var statusBox = document.getElementById("player-status");

  var MESSAGES = {
    loading: "Loading the stream…",
    playing: "",
    buffering: "Buffering…",
    ended: "The stream has ended.",
    offline: "This channel is offline right now. The page will keep trying.",
    unauthorized: "You are not authorised to watch this stream. Reload the page; if it keeps happening, your access may have been withdrawn.",
    viewer_limit: "This channel has reached its viewer limit. Please try again in a few minutes.",
    unsupported: "Your browser cannot play this stream. Try a current version of Chrome, Firefox, Safari or Edge.",
    sdk_missing: "The video player could not be loaded. Check your connection or ad blocker and reload.",
    error: "The stream could not be played. Reload the page to try again."
  };

  function show(state, detail) {
    statusBox.dataset.state = state;
    statusBox.textContent = detail || MESSAGES[state] || MESSAGES.error;
    statusBox.hidden = state === "playing";
  }

  function stateForError(err) {
    var code = err && (err.code || err.statusCode);
    var type = err && err.type;
    if (code === 403 || type === "ErrorAuthorization") return "unauthorized";
    if (code === 404 || type === "ErrorNotAvailable") return "offline";
    if (code === 429) return "viewer_limit";
    return "error";
  }

  if (typeof window.IVSPlayer === "undefined") { show("sdk_missing"); return; }
  if (!IVSPlayer.isPlayerSupported) { show("unsupported"); return; }

  var options = {};
  if (config.wasmWorker) options.wasmWorker = config.wasmWorker;
  if (config.wasmBinary) options.wasmBinary = config.wasmBinary;
  var player = IVSPlayer.create(options);
  var Events = IVSPlayer.PlayerEventType;
  var States = IVSPlayer.PlayerState;

  player.addEventListener(States.PLAYING, function () { show("playing"); });
  player.addEventListener(States.BUFFERING, function () { show("buffering"); });
  player.addEventListener(States.ENDED, function () { show("ended"); });
  player.addEventListener(Events.ERROR, function (err) {
    var state = stateForError(err);
    show(state);
    if (state === "offline") { setTimeout(function () { player.load(config.playbackUrl); player.play(); }, 15000); }
  });

  player.attachHTMLVideoElement(video);
  player.setMuted(true);  // browsers only autoplay muted video; the viewer can unmute
  show("loading");
  player.load(config.playbackUrl);
  player.play();
  window.ivsPlayer = player;
})();
