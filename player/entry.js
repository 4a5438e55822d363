// Entry point for the browser bundle of the Amazon IVS Player Web SDK.
// bin/build-player bundles this with esbuild into static/vendor/ivs/ivs-player.js
// as an IIFE exposing the global `IVSPlayer` (same API as the CDN build).
module.exports = require("amazon-ivs-player");
