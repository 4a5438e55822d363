"""The local IVS Chat messaging server (localivs/chat_server.py): `make run` starts it beside the web server."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from localivs.chat_server import POLL_SECONDS, ChatServer


class Command(BaseCommand):
    help = (
        "Serve the local stand-in for IVS Chat's messaging WebSocket (demo and tests only): browsers connect with "
        "tokens from the local /ivschat/ CreateChatToken. Point IVS_CHAT_MESSAGING_URL at ws://HOST:PORT."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8001, help="Port to listen on (default 8001).")
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=POLL_SECONDS,
            help=f"Seconds between reads of the control plane's commands (default {POLL_SECONDS}).",
        )

    def handle(self, *args, host, port, poll_interval, **options):
        asyncio.run(self._serve(host, port, poll_interval))

    async def _serve(self, host, port, poll_interval):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):  # one Ctrl-C, or bin/with-worker's TERM, ends it cleanly
            loop.add_signal_handler(signum, stop.set)

        def ready(bound):
            self.stdout.write(f"Local IVS Chat messaging at ws://{host}:{bound} (Ctrl-C to stop)")
            self.stdout.flush()

        await ChatServer(poll_interval).run(host, port, stop, ready=ready)
