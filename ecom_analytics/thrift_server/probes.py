"""Does each protocol of the server answer? Each probe asks the server for its application name.

An open port is not enough (the JVM opens the Thrift port before the session manager is
ready), so each probe makes a real request: `SET spark.app.name` over HiveServer2, and the
Config RPC of Spark Connect (its session released right after). Comparing the name with ours
also tells our server from another program on the same port.
"""

from __future__ import annotations

import getpass
import logging
import uuid

PROBE_USER = "ecom-thrift-probe"
# thrift's socket logs every refused connection as an error; refusals are expected while waiting
logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)


def thrift_app_name(host: str, port: int, timeout: float) -> str:
    """The application name a HiveServer2 endpoint reports; raises when it does not answer."""
    import thrift_sasl
    from pyhive import hive
    from pyhive.sasl_compat import PureSASLClient
    from thrift.transport.TSocket import TSocket

    socket = TSocket(host, port)
    socket.setTimeout(int(timeout * 1000))
    user = getpass.getuser()
    transport = thrift_sasl.TSaslClientTransport(
        # the server's default authentication (NONE) takes any non-empty password
        lambda: PureSASLClient(host, mechanism="PLAIN", username=user, password="x"),
        "PLAIN",
        socket,
    )
    connection = hive.connect(thrift_transport=transport, username=user)
    try:
        cursor = connection.cursor()
        cursor.execute("set spark.app.name")
        rows = cursor.fetchall()
    finally:
        connection.close()
    return str(rows[0][1]) if rows else ""


def connect_app_name(host: str, port: int, timeout: float) -> str:
    """The application name a Spark Connect endpoint reports; raises when it does not answer."""
    import grpc
    from pyspark.sql.connect.proto import base_pb2, base_pb2_grpc

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with grpc.insecure_channel(target) as channel:
        stub = base_pb2_grpc.SparkConnectServiceStub(channel)
        session = {
            "session_id": str(uuid.uuid4()),
            "user_context": base_pb2.UserContext(user_id=PROBE_USER),
        }
        response = stub.Config(
            base_pb2.ConfigRequest(
                **session,
                operation=base_pb2.ConfigRequest.Operation(
                    get=base_pb2.ConfigRequest.Get(keys=["spark.app.name"])
                ),
            ),
            timeout=timeout,
        )
        stub.ReleaseSession(base_pb2.ReleaseSessionRequest(**session), timeout=timeout)
    return next((pair.value for pair in response.pairs if pair.key == "spark.app.name"), "")


def answers(probe_name: str, host: str, port: int, timeout: float) -> tuple[bool, str]:
    """(answered, application name or the error) of `thrift` or `connect` at `host:port`."""
    probe = thrift_app_name if probe_name == "thrift" else connect_app_name
    try:
        return True, probe(host, port, timeout)
    except Exception as error:  # any failure means "not answering (yet)"; the text says why
        return False, f"{error.__class__.__name__}: {str(error).strip()[:200]}"
