"""Addresses and ports: loopback or not, where a process listens, whether a port is free.

`status` and the tests use `listening_sockets` to show that nothing of a server listens beyond
loopback unless asked: every listening TCP socket of the process, not just its known ports.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import psutil

LOOPBACK = "127.0.0.1"


def is_wildcard(address: str) -> bool:
    return address in ("0.0.0.0", "::", "")


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1, IPv4-mapped loopback (::ffff:127.0.0.1) and `localhost`."""
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def client_host(bind_address: str) -> str:
    """The address a client on this machine uses (loopback when bound to all interfaces)."""
    return LOOPBACK if is_wildcard(bind_address) else bind_address


def host_port(host: str, port: int) -> str:
    """`host:port`, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, order=True)
class ListeningSocket:
    address: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)

    def __str__(self) -> str:
        return host_port(self.address, self.port)


def plain_address(address: str) -> str:
    """An IPv4-mapped IPv6 address (a JVM's dual-stack socket) as the IPv4 address it is."""
    return address.removeprefix("::ffff:") if "." in address else address


def listening_sockets(pid: int) -> list[ListeningSocket] | None:
    """The TCP sockets `pid` listens on; None when the system does not tell (no such process,
    or not allowed to look)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return sorted(
        {
            ListeningSocket(plain_address(conn.laddr.ip), conn.laddr.port)
            for conn in connections
            if conn.status == psutil.CONN_LISTEN
        }
    )


def describe_listening(pid: int) -> str | None:
    """`127.0.0.1:9092, 127.0.0.1:9093 (loopback only)`, or None when unknown."""
    sockets = listening_sockets(pid)
    if sockets is None:
        return None
    scope = (
        "loopback only"
        if all(s.loopback for s in sockets)
        else "NOT loopback only: reachable from other machines"
    )
    return f"{', '.join(map(str, sockets)) or 'nothing'} ({scope})"


def port_is_free(address: str, port: int) -> bool:
    """True when a server could bind `address:port` now.

    Like the servers themselves, the test binds with SO_REUSEADDR: connections of a previous
    server that linger in TIME_WAIT do not block the port, a listener does.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def free_ports(count: int, address: str = LOOPBACK) -> list[int]:
    """`count` distinct ports free on `address` now (the system's choice), e.g. for tests."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((address, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
