"""What the viewer waits for, in Chromium: navigation → the video's first `playing` event (first frame), and
navigation → the first multivariant playlist request.

Chromium (Playwright, /usr/bin/chromium) reaches the app server through a loopback delay proxy that
holds every chunk half a round trip in each direction and each new connection one round trip (a real
TLS connection costs more): the round trip applies to everything the page, the player's worker and the
refresh request send. A proxy rather than DevTools network emulation so that the IVS player's web
worker, which requests the playlists, is delayed exactly like the page. Its round trip can be changed
between visits (`proxy.rtt = 0.150`). Clocks: first frame is the browser's own `performance.now()` at
the first `playing` event (milliseconds from navigation start); the playlist request is from just
before `page.goto` to the moment the proxy sees the request whose path contains /ivs/api/video/v1/.
"""

import asyncio
import threading
import time

PLAYLIST_MARK = b"/ivs/api/video/v1/"


class DelayProxy:
    """127.0.0.1:listen → 127.0.0.1:upstream with half of `rtt` added per direction, and `rtt` per new connection."""

    def __init__(self, listen: int, upstream: int, rtt: float = 0.050):
        self.listen, self.upstream, self.rtt = listen, upstream, rtt
        self.playlist_seen: list[float] = []
        self.requests: list[tuple[float, bytes]] = []  # (when, request line) of every request: for diagnosis
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("delay proxy did not start")
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.listen))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _client(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.sleep(self.rtt)  # the handshake's round trip
        await asyncio.gather(
            self._pipe(reader, up_writer, watch=True),
            self._pipe(up_reader, writer, watch=False),
            return_exceptions=True,
        )

    async def _pipe(self, reader, writer, *, watch):
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver():
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if data is None:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = asyncio.ensure_future(deliver())
        first = watch
        try:
            while True:
                data = await reader.read(65536)
                now = time.monotonic()
                if watch and data:
                    line = data.split(b"\r\n", 1)[0]
                    if line.split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD"):
                        self.requests.append((now, line))
                if first and data:
                    first = False
                    if PLAYLIST_MARK in data.split(b"\r\n", 1)[0]:
                        self.playlist_seen.append(now)
                queue.put_nowait((now + self.rtt / 2, data or None))
                if not data:
                    break
        except OSError:
            queue.put_nowait((time.monotonic(), None))
        await sender


# Installed before any page script: the first `playing` event of any video (it does not bubble: capture).
FIRST_FRAME_INIT = """
window.__firstPlaying = null;
document.addEventListener("playing", () => {
  if (window.__firstPlaying === null) window.__firstPlaying = performance.now();
}, true);
"""


def first_frame(browser, base_url: str, path: str, session: str | None, proxy: DelayProxy, timeout: float = 30):
    """Two visits of `path` in a fresh context: [(seconds to the first playlist request, seconds to first frame)].

    Cold: nothing cached. Warm: the same page again in a new tab of that context, with the player bundle and its
    worker in the browser's cache (a viewer coming back, or opening a second event).
    """
    context = browser.new_context()
    try:
        context.add_init_script(FIRST_FRAME_INIT)
        if session:
            context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
        return [_one_visit(context, base_url + path, proxy, timeout) for _ in range(2)]
    finally:
        context.close()


def _one_visit(context, url: str, proxy: DelayProxy, timeout: float) -> tuple[float, float]:
    page = context.new_page()
    try:
        seen_before = len(proxy.playlist_seen)
        started = time.monotonic()
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__firstPlaying !== null", timeout=timeout * 1000, polling=20)
        if len(proxy.playlist_seen) == seen_before:
            raise RuntimeError(f"playing without a playlist request through the proxy: {url}")
        return proxy.playlist_seen[seen_before] - started, page.evaluate("window.__firstPlaying") / 1000
    finally:
        page.close()


def launch(playwright):
    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        headless=True,
        args=[
            "--no-sandbox",
            "--autoplay-policy=no-user-gesture-required",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ],
    )
