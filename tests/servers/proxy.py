"""A TCP proxy on loopback that a test can cut and restore, to take a backend "down".

    with CuttableProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        proxy.cut()      # open connections drop, new ones are closed at once
        proxy.restore()  # forwarding again
        proxy.freeze()   # connections stay open but nothing passes: a peer gone silent
        proxy.slow(0.5)  # everything passes, each chunk half a second late

It runs its own event loop in a thread, so it works the same whatever the test's loop does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType


class CuttableProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._down = False
        self._frozen = False
        self._delay = 0.0
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port: int = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            writer.close()
            return
        if self._frozen:  # accept, then never answer
            self._writers.add(writer)
            await reader.read()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                while self._frozen:
                    await asyncio.sleep(0.05)
                if self._delay:
                    await asyncio.sleep(self._delay)
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()

    def cut(self) -> None:
        def drop() -> None:
            self._down = True
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(drop)
        self._sync()

    def freeze(self) -> None:
        def silent() -> None:
            self._frozen = True

        self._loop.call_soon_threadsafe(silent)
        self._sync()

    def slow(self, delay: float) -> None:
        def late() -> None:
            self._delay = delay

        self._loop.call_soon_threadsafe(late)
        self._sync()

    def restore(self) -> None:
        def up() -> None:
            self._down = False
            self._frozen = False
            self._delay = 0.0

        self._loop.call_soon_threadsafe(up)
        self._sync()

    def _sync(self) -> None:
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(5)

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> CuttableProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
