"""Spark Connect sessions for the `connect` submission route.

The Python models of a `thrift` target run on the Spark application behind the Thrift server,
through its Spark Connect endpoint (Spark's `SparkConnectPlugin`). Its address is the
profile's `connect_url`, or `sc://<host>:<connect_port>` derived from the Thrift host.

One process talks to one kind of Spark: pyspark's `builder.remote()` does not connect when
the process already holds a local SparkContext (it refuses or, in some versions, returns the
local session), and once in Connect mode pyspark builds every Column for Connect. So the
route refuses to start next to a local Spark, and the `session` route refuses to start in a
process that uses Spark Connect.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from dbt_common.exceptions import DbtRuntimeError

CONNECT_SCHEME = "sc://"
REACH_TIMEOUT_SECONDS = 10.0
HANDSHAKE_RETRIES = 3
INSTALL_HINT = "install the adapter's `connect` extra: pip install 'dbt-spark-oss[connect]'"

_SECRET_PARAMETER = re.compile(r"(;\s*token\s*=)[^;]*", re.IGNORECASE)
_sessions: dict[str, Any] = {}
_lock = threading.Lock()


def redact(url: str) -> str:
    """A Connect URL fit for messages and logs: the token parameter's value hidden."""
    return _SECRET_PARAMETER.sub(r"\1***", url)


def connect_url_for(
    host: str,
    connect_port: int,
    connect_url: str | None = None,
    use_ssl: bool = False,
    user: str | None = None,
) -> str:
    """The Spark Connect URL of a target: `connect_url` as given, else derived from the host.

    A derived URL asks for TLS when the Thrift connection uses it and names the user, so the
    server's Connect session runs for the same user as its Thrift session.
    """
    if connect_url:
        if not connect_url.startswith(CONNECT_SCHEME):
            raise DbtRuntimeError(
                f"connect_url must look like sc://host:port, got '{redact(connect_url)}'"
            )
        return connect_url
    bare_host = re.sub(r"^[a-z]+://", "", host).rstrip("/")
    if ":" in bare_host and not bare_host.startswith("["):
        bare_host = f"[{bare_host}]"
    parameters = []
    if use_ssl:
        parameters.append("use_ssl=true")
    if user:
        parameters.append(f"user_id={urllib.parse.quote(user, safe='')}")
    suffix = "/;" + ";".join(parameters) if parameters else ""
    return f"{CONNECT_SCHEME}{bare_host}:{connect_port}{suffix}"


def endpoint_of(url: str) -> tuple[str, int]:
    """(host, port) of a Connect URL (port 15002 when absent), as pyspark reads it."""
    parsed = urllib.parse.urlparse("http" + url[len("sc") :])
    if not parsed.hostname:
        raise DbtRuntimeError(f"Spark Connect URL '{redact(url)}' names no host")
    return parsed.hostname, parsed.port or 15002


def local_spark_context_active() -> bool:
    """True when this process runs a local (classic) Spark."""
    try:
        from pyspark import SparkContext
    except ImportError:
        return False
    return SparkContext._active_spark_context is not None


def connect_mode_active() -> bool:
    """True when pyspark in this process is in Spark Connect mode."""
    return bool(os.environ.get("SPARK_CONNECT_MODE_ENABLED") or os.environ.get("SPARK_REMOTE"))


def check_reachable(url: str, timeout: float = REACH_TIMEOUT_SECONDS) -> None:
    """Fail fast when nothing answers at the URL's address (pyspark would retry for minutes)."""
    host, port = endpoint_of(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        raise DbtRuntimeError(
            f"Spark Connect at {redact(url)} does not answer ({error}). Python models of a "
            "`thrift` target run there: start the Thrift server with the Spark Connect plugin "
            "(`ecom thrift start` for the local one), or set the profile's `connect_url` / "
            "`connect_port` to where its Spark Connect endpoint listens."
        ) from None


def describe_rpc_error(error: BaseException) -> str:
    """A gRPC failure as `CODE: details` (pyspark wraps it in a multi-line dump), found along
    the exception's causes; otherwise the error's first line."""
    cause: BaseException | None = error
    while cause is not None:
        code, details = getattr(cause, "code", None), getattr(cause, "details", None)
        if callable(code) and callable(details):
            return f"{code().name}: {details()}"
        cause = cause.__cause__ or cause.__context__
    return (str(error).strip().splitlines() or [error.__class__.__name__])[0]


def check_handshake(session: Any, url: str) -> None:
    """One quick request, so that a wrong address, TLS setting or token fails in seconds.

    pyspark retries an unavailable endpoint for about ten minutes, which is right for a busy
    server during a run but not for a first contact that cannot work (e.g. TLS asked of an
    endpoint without it); the session keeps pyspark's retries for everything after this.
    """
    from pyspark.sql.connect.client.retries import DefaultPolicy

    client = session.client
    policies = client.get_retry_policies()
    client.set_retry_policies([DefaultPolicy(max_retries=HANDSHAKE_RETRIES)])
    try:
        session.version  # noqa: B018 - the first request to the server
    except Exception as error:
        with contextlib.suppress(Exception):
            session.stop()
        raise DbtRuntimeError(
            f"Spark Connect at {redact(url)} did not complete a first request "
            f"({describe_rpc_error(error)}). "
            "Check the Spark Connect address (the profile's `connect_url` / `connect_port`), "
            "whether the endpoint speaks TLS (`use_ssl=true` in the address) and, if it "
            "requires one, the token (`;token=` or SPARK_CONNECT_AUTHENTICATE_TOKEN)."
        ) from None
    finally:
        client.set_retry_policies(policies)


def connect_session(url: str, session_conf: Mapping[str, str]) -> Any:
    """The Spark Connect session of this process for `url`, with `session_conf` applied."""
    with _lock:
        if url in _sessions:
            return _sessions[url]
        if local_spark_context_active():
            raise DbtRuntimeError(
                "Cannot run a Python model through Spark Connect: this process already runs a "
                "local Spark (a `session` target or another program's SparkContext), and pyspark "
                "would quietly use it instead, writing to another metastore. Run the `thrift` "
                "target in a dbt process of its own."
            )
        try:
            from pyspark.sql import SparkSession
            from pyspark.sql.connect.session import SparkSession as ConnectSession
        except ImportError as error:
            raise DbtRuntimeError(
                f"Spark Connect client missing ({error}); {INSTALL_HINT}"
            ) from None
        check_reachable(url)
        session = SparkSession.builder.remote(url).getOrCreate()
        if not isinstance(session, ConnectSession):
            raise DbtRuntimeError(
                f"pyspark returned a {type(session).__module__} session for {redact(url)}, not a "
                "Spark Connect one; run the `thrift` target in a dbt process of its own."
            )
        check_handshake(session, url)
        for key, value in session_conf.items():
            try:
                session.conf.set(key, value)
            except Exception as error:
                raise DbtRuntimeError(
                    f"server_side_parameters: cannot set {key}={value} on the Spark Connect "
                    f"session ({error.__class__.__name__}: {error}); set it on the server instead."
                ) from None
        _sessions[url] = session
        return session
