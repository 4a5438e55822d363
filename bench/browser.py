"""Time to the first multivariant playlist request in Chromium, embedded token against fetched token.

Chromium (Playwright, /usr/bin/chromium) reaches the app server through a loopback delay proxy that
holds every chunk 25 ms in each direction and each new connection 50 ms (a TCP handshake): 50 ms of
round trip for everything the page, the player's worker and the refresh request send. A proxy rather
than DevTools network emulation so that the IVS player's web worker, which requests the playlists, is
delayed exactly like the page, whatever DevTools applies to workers. The clock: from just before
`page.goto` to the moment the proxy sees the request whose path contains /ivs/api/video/v1/ (the
browser's send time, before the delay).
"""

import asyncio
import threading
import time

PLAYLIST_MARK = b"/ivs/api/video/v1/"


class DelayProxy:
    """127.0.0.1:listen → 127.0.0.1:upstream with `one_way` seconds added per direction."""

    def __init__(self, listen: int, upstream: int, rtt: float = 0.050):
        self.listen, self.upstream, self.one_way, self.rtt = listen, upstream, rtt / 2, rtt
        self.playlist_seen: list[float] = []
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
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
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
                if first and data:
                    first = False
                    if PLAYLIST_MARK in data.split(b"\r\n", 1)[0]:
                        self.playlist_seen.append(now)
                queue.put_nowait((now + self.one_way, data or None))
                if not data:
                    break
        except OSError:
            queue.put_nowait((time.monotonic(), None))
        await sender


# When did the page hold its playback URL? Embedded: when the page's HTML had arrived. Fetched: when the refresh
# endpoint's response had. Both in the browser's own clock, milliseconds from navigation start.
URL_READY_JS = """() => {
  const refresh = performance.getEntriesByType("resource").find((e) => e.name.includes("/playback"));
  return refresh ? refresh.responseEnd : performance.getEntriesByType("navigation")[0].responseEnd;
}"""


def time_to_playlist(browser, base_url: str, path: str, session: str, proxy: DelayProxy, timeout: float = 20):
    """Two visits of `path` in a fresh context: [(seconds to the first playlist request, seconds to the token)].

    Cold: nothing cached. Warm: the same page again in a new tab of that context, with the player bundle and its
    worker in the browser's cache (a viewer coming back, or opening a second event).
    """
    context = browser.new_context()
    try:
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
        deadline = started + timeout
        while len(proxy.playlist_seen) == seen_before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no playlist request within {timeout:.0f} s from {url}")
            page.wait_for_timeout(10)
        return proxy.playlist_seen[seen_before] - started, page.evaluate(URL_READY_JS) / 1000
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
