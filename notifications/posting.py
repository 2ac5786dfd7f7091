"""How a webhook post is made: one asyncio event loop per worker process (a thread of its own) makes every post of
the process with aiohttp, at most WEBHOOK_RECEIVER_POSTS at a time to one receiver, whichever send tasks they
come from; the others wait their turn here.

The posts used to go on a pool of WEBHOOK_POST_THREADS (256) threads. In P6 (docs/PERFORMANCE.md) that pool was
the cap: about a thousand deliveries claimed by the send tasks waited for a thread, while the threads waited on
the few busiest receivers and the others sat idle; and each post beyond a receiver's eight kept connections
opened a connection that urllib3 then threw away. On the event loop a post waiting for its receiver costs a
socket and nothing else, a busy receiver holds up only its own posts, and every connection is kept for the next.

A post waits its turn no longer than its batch's lease allows (notifications.delivery): one that cannot start in
time is not made (NotPosted), so that no post is under way when the sweep takes its delivery back.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import ipaddress
import logging
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from notifications import egress

if TYPE_CHECKING:
    import aiohttp

logger = logging.getLogger(__name__)

# At most this much of an answer is read (and dropped).
ANSWER_READ_LIMIT = 65536
CLOSE_SECONDS = 5


class NotPosted(Exception):
    """The receiver's posts under way left this one no turn before the time it had to start by."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """What a receiver's certificate is checked against: the system's authorities (a test gives its own), read once
    a process, when it first posts."""
    return ssl.create_default_context()


class _Turns:
    """One receiver's turns: `limit` posts under way at most, the others waiting in the order they came."""

    def __init__(self, limit: int):
        self.limit = limit
        self.semaphore = asyncio.Semaphore(limit)
        self.users = 0


class Poster:
    """The process's event loop, its thread, and its aiohttp session (one connection pool for every receiver)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._turns: dict[tuple[str, str, int], _Turns] = {}
        self._thread = threading.Thread(target=self.loop.run_forever, name="webhook-posts", daemon=True)
        self._thread.start()
        self.session: aiohttp.ClientSession = self.run(self._session())

    @staticmethod
    async def _session() -> aiohttp.ClientSession:
        import aiohttp  # here, not at the top: every process of the platform imports this module, few post

        # No limit of the pool's own: the turns limit posts per receiver, and a receiver's connections are kept
        # however many there are. No cookies, no compressed answers (nothing of an answer is used but its status).
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, use_dns_cache=False)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
                                     skip_auto_headers=("Accept-Encoding",))

    def run(self, coroutine: Coroutine):
        """Run `coroutine` on the loop and wait for its result (from any thread but the loop's own)."""
        return self.submit(coroutine).result()

    def submit(self, coroutine: Coroutine) -> Future:
        """Run `coroutine` on the loop; its future."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        if self.loop.is_closed() or not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.session.close(), self.loop).result(CLOSE_SECONDS)
        except Exception as error:  # noqa: BLE001 - at exit: the connections go with the process anyway
            logger.debug("Webhook session not closed cleanly: %s", error)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CLOSE_SECONDS)

    async def target(self, url: str) -> egress.Target:
        """The egress guard's checked address for `url`; a host name is resolved on a thread, not on the loop."""
        try:
            ipaddress.ip_address(urlsplit(url).hostname or "")
        except ValueError:
            return await self.loop.run_in_executor(None, egress.target, url)
        return egress.target(url)

    @asynccontextmanager
    async def turn(self, where: egress.Target, wait_seconds: float) -> AsyncIterator[None]:
        """Hold one of the receiver's WEBHOOK_RECEIVER_POSTS turns; NotPosted when none came within
        `wait_seconds`."""
        key = (where.scheme, where.address, where.port)
        limit = max(settings.WEBHOOK_RECEIVER_POSTS, 1)
        turns = self._turns.get(key)
        if turns is None or turns.limit != limit:
            turns = self._turns[key] = _Turns(limit)
        turns.users += 1
        try:
            if turns.semaphore.locked():
                try:
                    async with asyncio.timeout(max(wait_seconds, 0)):
                        await turns.semaphore.acquire()
                except TimeoutError:
                    raise NotPosted from None
            else:
                await turns.semaphore.acquire()
            try:
                yield
            finally:
                turns.semaphore.release()
        finally:
            turns.users -= 1
            if not turns.users and self._turns.get(key) is turns:
                del self._turns[key]

    async def post(self, where: egress.Target, body: bytes, headers: dict[str, str]) -> tuple[int | None, int, str]:
        """POST `body` to the checked address (Host header and TLS server name the URL's own; no redirect
        followed): (HTTP status or None, latency in ms, error)."""
        import aiohttp
        from yarl import URL

        address = f"[{where.address}]" if ":" in where.address else where.address
        url = URL(f"{where.scheme}://{address}:{where.port}{where.path}", encoded=True)
        secure = where.scheme == "https"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.WEBHOOK_CONNECT_TIMEOUT,
                                        sock_read=settings.WEBHOOK_READ_TIMEOUT)
        clock = time.monotonic()
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                                         ssl=tls_context() if secure else True,
                                         server_hostname=where.host if secure else None) as response:
                await response.content.read(ANSWER_READ_LIMIT)
                code, error = response.status, ""
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as problem:
            code, error = None, failure_text(problem)
        return code, int((time.monotonic() - clock) * 1000), error


def failure_text(problem: Exception) -> str:
    """What failed, in words that tell nothing of the platform's network: no errno, one text for every way a
    connection can fail."""
    import aiohttp

    if isinstance(problem, aiohttp.ClientSSLError | ssl.SSLError):
        return gettext_noop("The TLS handshake with the receiver failed (its certificate or protocol).")
    if isinstance(problem, TimeoutError) and not isinstance(problem, aiohttp.ConnectionTimeoutError):
        return gettext_noop("The receiver did not answer in time.")
    if isinstance(problem, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError | ConnectionError):
        return gettext_noop("The receiver could not be reached, or closed the connection before answering.")
    return gettext_noop("The request to the receiver failed.")


class PerProcess:
    """One object per process, made by `make` on first use: a forked process (a worker of the prefork pool) makes
    its own rather than use its parent's threads and sockets."""

    def __init__(self, make):
        self._make = make
        self._lock = threading.Lock()
        self._made = None
        self._pid: int | None = None

    def __call__(self):
        with self._lock:
            if self._made is None or self._pid != os.getpid():
                self._made, self._pid = self._make(), os.getpid()
            return self._made

    def current(self):
        """This process's object if it made one, else None."""
        return self._made if self._pid == os.getpid() else None

    def forget(self) -> None:
        with self._lock:
            self._made = self._pid = None


def _poster_new() -> Poster:
    made = Poster()
    atexit.register(made.close)
    return made


poster = PerProcess(_poster_new)  # the process's poster
