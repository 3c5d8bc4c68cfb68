"""A TCP proxy between Gatehouse and PostgreSQL that can take the database away without touching
the shared PostgreSQL server (other suites use it):

- `close()`: every open connection is reset and new ones are refused (the listening socket is
  closed, so a connect gets ECONNREFUSED), as when the database host is down;
- `freeze()`: connections stay open and new ones are accepted, but no byte goes through in either
  direction, nor a close, as when the network to the database hangs (packets dropped, no reset);
- `freeze(only=b"...")`: the same for the connections whose first packet (PostgreSQL's startup
  message, readable with sslmode=disable) contains those bytes, e.g. an application_name; the
  others keep working, as when one network path hangs;
- `freeze_on(b"COMMIT")`: the next connection to send a packet containing those bytes is frozen
  just before that packet goes through (readable with sslmode=disable), e.g. a transaction left
  open, its locks held, by a process whose network hangs at the worst moment;
- `resume()`: back to forwarding. After a freeze the bytes held meanwhile are delivered, as TCP
  would after a partition heals; after a close, only new connections exist.

Threads: one accepting, two per connection (one per direction). Use as a context manager or call
`stop()`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

OPEN, CLOSED, FROZEN = "open", "closed", "frozen"


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), not a polite FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Link:
    """One client connection and, once forwarding starts, its upstream connection."""

    def __init__(self, proxy: "PgProxy", client: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        self.startup: bytes | None = None  # the first bytes the client sent
        self.frozen = False  # frozen on its own (freeze(only=...))
        self.chunks_up = 0  # chunks forwarded client -> PostgreSQL
        self.chunks_down = 0  # and back
        self.closed = False
        self.lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._connect_then_pump, daemon=True).start()

    def _connect_then_pump(self) -> None:
        # A connection accepted while frozen is not connected upstream before the resume.
        if not self.proxy._wait_forwarding(self):
            return
        try:
            upstream = socket.create_connection(self.proxy.target, timeout=5)
            upstream.settimeout(None)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self.kill()
            return
        with self.lock:
            if self.closed:
                _reset(upstream)
                return
            self.upstream = upstream
        threading.Thread(target=self._pump, args=(self.client, upstream), daemon=True).start()
        self._pump(upstream, self.client)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if src is self.client and self.startup is None:
                    self.startup = data
                    self.proxy._startup_seen(self)
                elif src is self.client:
                    self.proxy._client_sends(self, data)
                # Frozen: hold the bytes read until the resume (or the link is killed).
                if not self.proxy._wait_forwarding(self):
                    return
                dst.sendall(data)
                if src is self.client:
                    self.chunks_up += 1
                else:
                    self.chunks_down += 1
                self.proxy._count(len(data))
        except OSError:
            pass
        # A close (or reset) seen while frozen reaches the other side only at the resume, as a
        # FIN would once a partition heals: PostgreSQL keeps the session, and any transaction it
        # had open, meanwhile.
        self.proxy._wait_forwarding(self)
        self.kill()

    def kill(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            socks = [self.client] + ([self.upstream] if self.upstream else [])
        for s in socks:
            _reset(s)
        self.proxy._forget(self)


class PgProxy:
    """Listens on 127.0.0.1:<port> and forwards to `target` (PostgreSQL)."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432), port: int = 0):
        self.target = target
        self.mode = OPEN
        self._cond = threading.Condition()
        self._links: set[_Link] = set()
        self._stopped = False
        self._freeze_only: bytes | None = None
        self._freeze_on: tuple[bytes, threading.Event] | None = None
        self.bytes_forwarded = 0
        self.accepted = 0
        self._listener = self._listen(port)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, database_url: str) -> str:
        """`database_url` (postgres://user@host:port/db?…) with host:port replaced by the proxy's."""
        scheme, rest = database_url.split("://", 1)
        authority, _, tail = rest.partition("/")
        user, at, _hostport = authority.rpartition("@")
        return f"{scheme}://{user}{at}{self.address}/{tail}"

    # --- modes -------------------------------------------------------------------------------

    def close(self) -> None:
        """Reset every connection and refuse new ones until resume()."""
        with self._cond:
            self.mode = CLOSED
            links = list(self._links)
            self._cond.notify_all()
        for link in links:
            link.kill()

    def freeze(self, only: bytes | None = None) -> int:
        """Keep connections (and accept new ones) but forward nothing until resume(). With
        `only`, just the connections whose startup packet contains it, present and future.
        Returns how many open connections were frozen."""
        with self._cond:
            if only is None:
                self.mode = FROZEN
                frozen = len(self._links)
            else:
                self._freeze_only = only
                frozen = 0
                for link in self._links:
                    if link.startup is not None and only in link.startup:
                        link.frozen = True
                        frozen += 1
            self._cond.notify_all()
        return frozen

    def freeze_on(self, pattern: bytes) -> threading.Event:
        """Arm a one-shot freeze: the first connection that sends a packet containing `pattern`
        is frozen before the packet is forwarded. The event is set when that happens."""
        with self._cond:
            self._freeze_on = (pattern, threading.Event())
            return self._freeze_on[1]

    def resume(self) -> None:
        with self._cond:
            self.mode = OPEN
            self._freeze_only = None
            self._freeze_on = None
            for link in self._links:
                link.frozen = False
            self._cond.notify_all()

    def links(self, only: bytes) -> list[_Link]:
        """The open connections whose startup packet contains `only`."""
        with self._cond:
            return [link for link in self._links if link.startup is not None and only in link.startup]

    @property
    def connections(self) -> int:
        with self._cond:
            return len(self._links)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            links = list(self._links)
            self._cond.notify_all()
        for link in links:
            link.kill()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PgProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------------

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.settimeout(0.05)
        return sock

    def _accept_loop(self) -> None:
        listener: socket.socket | None = self._listener
        while True:
            with self._cond:
                if self._stopped:
                    break
                mode = self.mode
            if mode == CLOSED:
                if listener is not None:  # refuse: nothing listens on the port
                    listener.close()
                    listener = None
                time.sleep(0.02)
                continue
            if listener is None:
                try:
                    listener = self._listen(self.port)
                except OSError:
                    time.sleep(0.05)
                    continue
            try:
                client, _ = listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                continue
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, client)
            with self._cond:
                if self.mode == CLOSED or self._stopped:
                    _reset(client)
                    continue
                self._links.add(link)
                self.accepted += 1
            link.start()
        if listener is not None:
            listener.close()

    def _wait_forwarding(self, link: _Link) -> bool:
        """Blocks while frozen; False when the link is (or must be) dropped."""
        with self._cond:
            while (self.mode == FROZEN or link.frozen) and not self._stopped and not link.closed:
                self._cond.wait(0.5)
            ok = self.mode == OPEN and not self._stopped and not link.closed
        if not ok:
            link.kill()
        return ok

    def _startup_seen(self, link: _Link) -> None:
        with self._cond:
            if self._freeze_only is not None and self._freeze_only in link.startup:
                link.frozen = True

    def _client_sends(self, link: _Link, data: bytes) -> None:
        with self._cond:
            if self._freeze_on is not None and self._freeze_on[0] in data:
                link.frozen = True
                self._freeze_on[1].set()
                self._freeze_on = None

    def _count(self, n: int) -> None:
        with self._cond:
            self.bytes_forwarded += n

    def _forget(self, link: _Link) -> None:
        with self._cond:
            self._links.discard(link)
