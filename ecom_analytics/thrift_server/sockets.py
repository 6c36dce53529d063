"""Where a process listens (Linux `/proc`), and whether a port is free.

`ecom thrift status` and the tests use it to show that nothing of the server listens beyond
loopback unless asked: the server's own listening TCP sockets, not just the two known ports.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from ecom_analytics.thrift_server.settings import is_loopback

_LISTEN = "0A"


@dataclass(frozen=True, order=True)
class ListeningSocket:
    address: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def decode_address(hex_address: str) -> str:
    """An address of /proc/net/tcp[6] (hex, 32-bit words in host byte order) as text."""
    raw = bytes.fromhex(hex_address)
    words = [raw[index : index + 4] for index in range(0, len(raw), 4)]
    ordered = b"".join(word[::-1] for word in words) if sys.byteorder == "little" else raw
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    text = socket.inet_ntop(family, ordered)
    return text.removeprefix("::ffff:") if family == socket.AF_INET6 and "." in text else text


def parse_listening(proc_net_tcp: str) -> dict[int, ListeningSocket]:
    """LISTEN sockets of a /proc/net/tcp or tcp6 table, by socket inode."""
    found: dict[int, ListeningSocket] = {}
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        hex_address, hex_port = fields[1].split(":")
        found[int(fields[9])] = ListeningSocket(decode_address(hex_address), int(hex_port, 16))
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets `pid` holds open (empty when unreadable)."""
    inodes: set[int] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def listening_sockets(pid: int) -> list[ListeningSocket] | None:
    """The TCP sockets `pid` listens on; None where /proc is not available (e.g. macOS)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    listening: dict[int, ListeningSocket] = {}
    for table in tables:
        with contextlib.suppress(OSError):
            listening.update(parse_listening(table.read_text()))
    inodes = socket_inodes(pid)
    return sorted({listening[inode] for inode in inodes if inode in listening})


def port_is_free(address: str, port: int) -> bool:
    """True when a server could bind `address:port` now.

    Like the Thrift and gRPC servers, the test binds with SO_REUSEADDR: connections of a
    previous server that linger in TIME_WAIT do not block the port, a listener does.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True
