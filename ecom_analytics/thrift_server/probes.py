"""Does each protocol of the server answer? Each probe asks the server for its application name.

An open port is not enough (the JVM opens the Thrift port before the session manager is
ready), so each probe makes a real request: `SET spark.app.name` over HiveServer2, and the
Config RPC of Spark Connect (its session released right after). Comparing the name with ours
also tells our server from another program on the same port. A server started with
authentication (`--hiveconf hive.server2.authentication=...`) turns the probe's anonymous
login away: that refusal is an answer too, if one that cannot name the application.
"""

from __future__ import annotations

import getpass
import logging
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ecom_analytics.thrift_server.settings import APP_NAME, ServerSettings

PROBE_USER = "ecom-thrift-probe"
# thrift's socket logs every refused connection as an error; refusals are expected while waiting
logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)


class AuthenticationRequired(Exception):
    """The endpoint answered, and refused the probe's anonymous login."""


@dataclass(frozen=True)
class Answer:
    """What one protocol said: `ours`, `locked` (authentication required), `foreign`, `down`."""

    state: str
    detail: str = ""

    @property
    def up(self) -> bool:
        """Ours, or a server that asks for credentials (it can only be ours: the port was free)."""
        return self.state in ("ours", "locked")

    def describe(self) -> str:
        return {
            "ours": "answers",
            "locked": "answers (authentication required)",
            "foreign": f"answers as another application ({self.detail})",
        }.get(self.state, f"does not answer ({self.detail})")


def thrift_app_name(host: str, port: int, timeout: float, use_ssl: bool = False) -> str:
    """The application name a HiveServer2 endpoint reports; raises when it does not answer."""
    import thrift_sasl
    from pyhive import hive
    from pyhive.sasl_compat import PureSASLClient
    from thrift.transport.TSocket import TSocket
    from thrift.transport.TSSLSocket import TSSLSocket
    from thrift.transport.TTransport import TTransportException

    if use_ssl:
        # a liveness probe of our own server on this machine: encryption without verification
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        socket = TSSLSocket(host, port, ssl_context=context)
    else:
        socket = TSocket(host, port)
    socket.setTimeout(int(timeout * 1000))
    user = getpass.getuser()
    transport = thrift_sasl.TSaslClientTransport(
        # the server's default authentication (NONE) takes any non-empty password
        lambda: PureSASLClient(host, mechanism="PLAIN", username=user, password="x"),
        "PLAIN",
        socket,
    )
    try:
        connection = hive.connect(thrift_transport=transport, username=user)
    except TTransportException as error:
        if "Bad status" in str(error):  # the SASL handshake was answered, with a refusal
            raise AuthenticationRequired(str(error)) from error
        raise
    try:
        cursor = connection.cursor()
        cursor.execute("set spark.app.name")
        rows = cursor.fetchall()
    finally:
        connection.close()
    return str(rows[0][1]) if rows else ""


def connect_app_name(host: str, port: int, timeout: float, token: str | None = None) -> str:
    """The application name a Spark Connect endpoint reports; raises when it does not answer."""
    import grpc
    from pyspark.sql.connect.proto import base_pb2, base_pb2_grpc

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    metadata = [("authorization", f"Bearer {token}")] if token else None
    with grpc.insecure_channel(target) as channel:
        stub = base_pb2_grpc.SparkConnectServiceStub(channel)
        session = {
            "session_id": str(uuid.uuid4()),
            "user_context": base_pb2.UserContext(user_id=PROBE_USER),
        }
        try:
            response = stub.Config(
                base_pb2.ConfigRequest(
                    **session,
                    operation=base_pb2.ConfigRequest.Operation(
                        get=base_pb2.ConfigRequest.Get(keys=["spark.app.name"])
                    ),
                ),
                timeout=timeout,
                metadata=metadata,
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise AuthenticationRequired(error.details() or "unauthenticated") from error
            raise
        stub.ReleaseSession(
            base_pb2.ReleaseSessionRequest(**session), timeout=timeout, metadata=metadata
        )
    return next((pair.value for pair in response.pairs if pair.key == "spark.app.name"), "")


def thrift_uses_ssl(settings: ServerSettings) -> bool:
    return settings.hiveconf.get("hive.server2.use.SSL", "").lower() == "true"


def probe(protocol: str, settings: ServerSettings, timeout: float) -> Answer:
    """Ask the server of `settings` over `thrift` or `connect` which application it is."""
    host = settings.client_host
    ask: Callable[[], str]
    if protocol == "thrift":
        ask = partial(
            thrift_app_name, host, settings.thrift_port, timeout, thrift_uses_ssl(settings)
        )
    else:
        token = settings.extra_conf.get("spark.connect.authenticate.token")
        ask = partial(connect_app_name, host, settings.connect_port, timeout, token)
    try:
        name = ask()
    except AuthenticationRequired as refusal:
        return Answer("locked", str(refusal))
    except Exception as error:  # any other failure means "not answering (yet)"; the text says why
        return Answer("down", f"{error.__class__.__name__}: {str(error).strip()[:200]}")
    return Answer("ours", name) if name == APP_NAME else Answer("foreign", name)
