// Entry point for the browser bundle of the Amazon IVS Chat Messaging SDK.
// bin/build-player bundles this with esbuild into static/vendor/ivs/ivs-chat.js as an ES module, which
// static/js/chat.js imports (`from "../vendor/ivs/ivs-chat.js"`): only the four names the chat panel uses.
export {
  ChatRoom,
  DeleteMessageRequest,
  DisconnectUserRequest,
  SendMessageRequest,
} from "amazon-ivs-chat-messaging";
