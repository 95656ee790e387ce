"""Faults injected for real: a TCP proxy on loopback in front of PostgreSQL or Redis.

The proxy forwards bytes both ways until told otherwise:
- `reset()`: every open connection is closed with a TCP RST and new ones are refused likewise
  (a crashed neighbour, a firewall rejecting);
- `partition()`: every packet to and from the proxy's port is dropped by the kernel (nftables),
  so nothing is even acknowledged: a network partition, the caller hears nothing, ever;
- `heal()`: back to forwarding.
"""

from __future__ import annotations

import selectors
import shutil
import socket
import struct
import subprocess
import threading
from contextlib import suppress

#: nftables, for a real partition (the kernel drops the packets; as root, as CI runs).
NFT = shutil.which("nft")


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- the faults -----------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.mode = "reset"
            for sock in list(self._pairs):
                self._rst(sock)
            self._pairs.clear()

    def partition(self) -> None:
        table = f"vendorrisk_fault_{self.port}"
        rules = (
            f"add table inet {table}\n"
            f"add chain inet {table} input {{ type filter hook input priority -10 ; }}\n"
            f"add rule inet {table} input tcp dport {self.port} drop\n"
            f"add rule inet {table} input tcp sport {self.port} drop\n"
        )
        subprocess.run([NFT, "-f", "-"], input=rules, text=True, check=True)  # noqa: S603
        self._partitioned = table

    def heal(self) -> None:
        if getattr(self, "_partitioned", None):
            subprocess.run([NFT, "delete", "table", "inet", self._partitioned], check=True)  # noqa: S603
            self._partitioned = None
        with self._lock:
            self.mode = "pass"

    def close(self) -> None:
        self.heal()
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for sock in [*self._pairs, self._listener]:
                with suppress(OSError):
                    sock.close()

    # -- the forwarding loop --------------------------------------------------------------------

    @staticmethod
    def _rst(sock: socket.socket) -> None:
        """Close with RST rather than FIN: the peer gets 'connection reset by peer'."""
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self.mode == "reset":
            self._rst(client)
        else:
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._rst(client)
                return
            self._pairs[client] = upstream
            self._pairs[upstream] = client

    def _forward(self, sock: socket.socket) -> None:
        peer = self._pairs.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        for end in (sock, peer):  # one side closed: close the other too
            self._pairs.pop(end, None)
            with suppress(OSError):
                end.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                readable = [self._listener, *(s for s in self._pairs if s.fileno() >= 0)]
            selector = selectors.DefaultSelector()
            for sock in readable:
                selector.register(sock, selectors.EVENT_READ)
            events = selector.select(timeout=0.05)
            selector.close()
            with self._lock:
                for key, _ in events:
                    if key.fileobj is self._listener:
                        self._accept()
                    elif self.mode == "pass":
                        self._forward(key.fileobj)
