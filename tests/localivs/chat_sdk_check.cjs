// The real IVS Chat JS SDK (amazon-ivs-chat-messaging, from the project's node_modules) against the local messaging
// server: run by tests/localivs/test_chat_sdk.py as `node chat_sdk_check.cjs <ws url> <token url>`. The token URL
// answers a POST of CreateChatToken's members (and `sessionSeconds`, to cut the session short) with its answer.
// Prints one line per check; exits 0 when all hold.
const { ChatRoom, SendMessageRequest, DeleteMessageRequest, DisconnectUserRequest } = require('amazon-ivs-chat-messaging');

const [url, mint] = process.argv.slice(2);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (condition) => {
  for (let tries = 0; tries < 100 && !condition(); tries += 1) await sleep(100);
};
const once = (room, name) => new Promise((resolve) => {
  const off = room.addListener(name, (...args) => { off(); resolve(args); });
});

function makeRoom(body, counter = { n: 0 }, override = () => ({})) {
  const room = new ChatRoom({
    regionOrUrl: url,
    tokenProvider: async () => {
      counter.n += 1;
      const members = typeof body === 'function' ? body(counter.n) : body;
      const answer = await (await fetch(mint, { method: 'POST', body: JSON.stringify(members) })).json();
      const token = { ...answer, ...override(answer) };
      return {
        token: token.token,
        sessionExpirationTime: new Date(token.sessionExpirationTime),
        tokenExpirationTime: new Date(token.tokenExpirationTime),
      };
    },
  });
  room.logger = quiet;
  return room;
}

async function connected(room) {
  const opened = once(room, 'connect');
  room.connect();
  await opened;
  return room;
}

async function rejection(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error;
  }
}

(async () => {
  const moderator = { userId: 'alice', capabilities: ['SEND_MESSAGE', 'DELETE_MESSAGE', 'DISCONNECT_USER'] };
  const alice = await connected(makeRoom({ ...moderator, attributes: { displayName: 'Alice' } }));
  const bob = await connected(makeRoom({ userId: 'bob', capabilities: ['SEND_MESSAGE'] }));

  const bobGets = once(bob, 'message');
  const sent = await alice.sendMessage(new SendMessageRequest('hello', { mood: 'glad' }));
  const [got] = await bobGets;
  check(
    sent.id === got.id && got.sender.userId === 'alice' && got.sender.attributes.displayName === 'Alice'
      && got.attributes.mood === 'glad' && got.sendTime instanceof Date && !Number.isNaN(got.sendTime.getTime()),
    'sendMessage resolves with the message, which the others get with the sender and its attributes',
  );

  const bobSeesDelete = once(bob, 'messageDelete');
  const deleted = await alice.deleteMessage(new DeleteMessageRequest(sent.id, 'off topic'));
  const [seen] = await bobSeesDelete;
  check(deleted.messageId === sent.id && seen.messageId === sent.id && seen.reason === 'off topic',
    'deleteMessage resolves; the others get messageDelete with the reason');

  const tooLong = await rejection(bob.sendMessage(new SendMessageRequest('x'.repeat(21))));
  check(tooLong && tooLong.errorCode === 400, 'a message over the room\'s length rejects with a ChatError 400');
  const forbidden = await rejection(bob.deleteMessage(new DeleteMessageRequest(sent.id)));
  check(forbidden && forbidden.errorCode === 403, 'an action without its capability rejects with a ChatError 403');

  const bobSeesRemoval = once(bob, 'userDisconnect');
  const bobDisconnects = once(bob, 'disconnect');
  const removal = await alice.disconnectUser(new DisconnectUserRequest('bob', 'rude'));
  const [event] = await bobSeesRemoval;
  const [reason] = await bobDisconnects;
  check(removal.userId === 'bob' && event.reason === 'rude', 'disconnectUser resolves; the user gets userDisconnect');
  check(reason === 'serverDisconnect', `the removed user's room disconnects with serverDisconnect (${reason})`);
  check(alice.state === 'connected', 'the moderator stays connected');
  alice.disconnect();

  const forgedTokens = { n: 0 };
  const forged = makeRoom({ userId: 'eve' }, forgedTokens, () => ({ token: 'Zm9yZ2VkLXRva2Vu' }));
  const forgedEnds = once(forged, 'disconnect');
  forged.connect();
  const [forgedReason] = await forgedEnds;
  check(forgedReason === 'socketError' && forgedTokens.n === 4,
    `a refused token: the SDK asks 3 more times, then disconnects with socketError (${forgedReason}, ${forgedTokens.n})`);

  // A token said to expire in 32 s: the SDK opens its next connection, with a new token, 30 s before (2 s from now).
  const carolTokens = { n: 0 };
  const soon = () => ({ tokenExpirationTime: new Date(Date.now() + 32000).toISOString() });
  const carol = await connected(makeRoom({ userId: 'carol', capabilities: ['SEND_MESSAGE'] }, carolTokens, soon));
  await until(() => carolTokens.n === 2);
  await sleep(1000); // a request sent while the SDK swaps connections may be answered on the old one, unheard
  const afterRefresh = await carol.sendMessage(new SendMessageRequest('after the refresh'));
  check(carolTokens.n === 2 && carol.state === 'connected' && afterRefresh.content === 'after the refresh',
    `the SDK's token refresh opens a second connection and carries on (${carolTokens.n} tokens)`);
  carol.disconnect();

  // The session ends: the server's ERROR 401 makes the SDK reconnect with a new token.
  const danTokens = { n: 0 }; // the first session lasts a second, the next an hour
  const danBody = (n) => ({ userId: 'dan', capabilities: ['SEND_MESSAGE'], ...(n === 1 ? { sessionSeconds: 1 } : {}) });
  const dan = await connected(makeRoom(danBody, danTokens));
  await until(() => danTokens.n === 2 && dan.state === 'connected');
  await sleep(500);
  const afterExpiry = await dan.sendMessage(new SendMessageRequest('after the session'));
  check(danTokens.n >= 2 && dan.state === 'connected' && afterExpiry.content === 'after the session',
    `at the session's end the SDK reconnects with a new token (${danTokens.n} tokens)`);
  dan.disconnect();
  process.exit(failures ? 1 : 0);
})().catch((error) => {
  console.log(`FAIL ${error && error.stack ? error.stack : error}`);
  process.exit(2);
});
