"""Requests in Hive's metastore protocol over Thrift's binary protocol: the names of the
databases (`get_all_databases`) and of a database's tables (`get_all_tables`).

An open port is not enough to call the service ready (the JVM could listen before the handler
works, or another program could hold the port), so `start` and `status` ask the service for its
databases, as Spark's client would. No generated Thrift code: the requests take strings and the
answers are a list of strings or a MetaException, read with the `thrift` package's protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class MetastoreError(Exception):
    """The service answered with an error (a MetaException or a Thrift application error)."""


@contextmanager
def _protocol(host: str, port: int, timeout: float) -> Iterator[Any]:
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.transport.TSocket import TSocket
    from thrift.transport.TTransport import TBufferedTransport

    # TSocket logs every refused connection; the callers report one line of their own instead
    logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)
    socket = TSocket(host, port)
    socket.setTimeout(int(timeout * 1000))
    transport = TBufferedTransport(socket)
    transport.open()
    try:
        yield TBinaryProtocol(transport)
    finally:
        transport.close()


def _read_meta_exception(protocol: Any) -> str:
    """The `message` (field 1) of a MetaException struct."""
    from thrift.Thrift import TType

    message = ""
    protocol.readStructBegin()
    while True:
        _, kind, number = protocol.readFieldBegin()
        if kind == TType.STOP:
            break
        if number == 1 and kind == TType.STRING:
            message = protocol.readString()
        else:
            protocol.skip(kind)
        protocol.readFieldEnd()
    protocol.readStructEnd()
    return message


def _list_call(host: str, port: int, timeout: float, method: str, *strings: str) -> list[str]:
    """Call `method`, whose arguments are strings (fields 1, 2, ...) and whose result is a list
    of strings (field 0) or a MetaException (field 1)."""
    from thrift.Thrift import TApplicationException, TMessageType, TType

    with _protocol(host, port, timeout) as protocol:
        protocol.writeMessageBegin(method, TMessageType.CALL, 1)
        protocol.writeStructBegin(f"{method}_args")
        for number, value in enumerate(strings, start=1):
            protocol.writeFieldBegin(f"arg{number}", TType.STRING, number)
            protocol.writeString(value)
            protocol.writeFieldEnd()
        protocol.writeFieldStop()
        protocol.writeStructEnd()
        protocol.writeMessageEnd()
        protocol.trans.flush()

        _, kind, _ = protocol.readMessageBegin()
        if kind == TMessageType.EXCEPTION:
            error = TApplicationException()
            error.read(protocol)
            protocol.readMessageEnd()
            raise MetastoreError(f"{method} failed: {error.message or error.type}")
        names: list[str] | None = None
        problem = None
        protocol.readStructBegin()
        while True:
            _, field_kind, number = protocol.readFieldBegin()
            if field_kind == TType.STOP:
                break
            if number == 0 and field_kind == TType.LIST:
                _, size = protocol.readListBegin()
                names = [protocol.readString() for _ in range(size)]
                protocol.readListEnd()
            elif number == 1 and field_kind == TType.STRUCT:
                problem = _read_meta_exception(protocol)
            else:
                protocol.skip(field_kind)
            protocol.readFieldEnd()
        protocol.readStructEnd()
        protocol.readMessageEnd()
    if problem is not None or names is None:
        raise MetastoreError(f"{method} failed: {problem or 'no result'}")
    return names


def databases(host: str, port: int, timeout: float) -> list[str]:
    """The names of the service's databases (`get_all_databases`); OSError-like errors when
    nothing answers, MetastoreError when the service answers with an error."""
    return _list_call(host, port, timeout, "get_all_databases")


def tables(host: str, port: int, database: str, timeout: float) -> list[str]:
    """The names of a database's tables and views (`get_all_tables`)."""
    return _list_call(host, port, timeout, "get_all_tables", database)
