"""dbt-spark-oss on a `thrift` target, without a JVM: credentials, Connect address, route guards.

Nothing here may put pyspark into Spark Connect mode (this pytest process also runs the local
Spark of the integration tests), so the guards are exercised up to the point where they refuse.
"""

from __future__ import annotations

import socket

import pytest
from dbt.adapters.sparkoss.connect import (
    check_reachable,
    connect_session,
    connect_url_for,
    endpoint_of,
    redact,
)
from dbt.adapters.sparkoss.connections import SparkossCredentials, check_thrift_auth
from dbt.adapters.sparkoss.python_submissions import (
    ConnectPythonJobHelper,
    SessionPythonJobHelper,
    default_route_for,
    local_session,
)
from dbt_common.exceptions import DbtRuntimeError

MODEL = {"alias": "py_model", "config": {"materialized": "table"}}


def thrift_credentials(**fields: object) -> SparkossCredentials:
    values: dict[str, object] = {
        "method": "thrift",
        "host": "spark.example.com",
        "port": 10000,
        "user": "analyst",
        "schema": "ecom",
    }
    return SparkossCredentials.from_dict({**values, **fields})


def test_connect_url_derived_from_the_thrift_host() -> None:
    assert connect_url_for("spark.example.com", 15002) == "sc://spark.example.com:15002"
    assert (
        connect_url_for("spark.example.com", 443, use_ssl=True, user="ana lyst")
        == "sc://spark.example.com:443/;use_ssl=true;user_id=ana%20lyst"
    )
    assert connect_url_for("https://spark.example.com/", 15002) == "sc://spark.example.com:15002"
    assert connect_url_for("::1", 15002) == "sc://[::1]:15002"


def test_explicit_connect_url_wins_and_is_checked() -> None:
    url = "sc://gateway:443/;use_ssl=true;token=abc"
    assert connect_url_for("ignored", 1, connect_url=url) == url
    with pytest.raises(DbtRuntimeError, match="sc://host:port, got 'http://x/;token=\\*\\*\\*'"):
        connect_url_for("h", 1, connect_url="http://x/;token=secret")


def test_redact_hides_tokens_only() -> None:
    assert redact("sc://h:1/;use_ssl=true;token=s3cr3t;user_id=a") == (
        "sc://h:1/;use_ssl=true;token=***;user_id=a"
    )
    assert redact("sc://h:1") == "sc://h:1"


def test_endpoint_of() -> None:
    assert endpoint_of("sc://spark:16000/;use_ssl=true") == ("spark", 16000)
    assert endpoint_of("sc://spark") == ("spark", 15002)
    with pytest.raises(DbtRuntimeError, match="names no host"):
        endpoint_of("sc://:15002")


def test_credentials_treat_empty_fields_as_unset() -> None:
    credentials = thrift_credentials(
        auth="", password="", kerberos_service_name="", connect_url="", connect_port=16000
    )
    assert credentials.auth is None
    assert credentials.password is None
    assert credentials.kerberos_service_name is None
    assert credentials.spark_connect_url == "sc://spark.example.com:16000/;user_id=analyst"


def test_ldap_credentials() -> None:
    credentials = thrift_credentials(auth="ldap", password="pw", use_ssl=True)
    assert credentials.auth == "LDAP"
    assert credentials.spark_connect_url.startswith("sc://spark.example.com:15002/;use_ssl=true")
    assert "pw" not in credentials.spark_connect_url


@pytest.mark.parametrize(
    ("auth", "password", "service", "message"),
    [
        ("LDAP", None, None, "auth LDAP needs a password"),
        ("CUSTOM", None, None, "auth CUSTOM needs a password"),
        (None, "pw", None, "a password is set but auth is NONE"),
        ("KERBEROS", None, None, "auth KERBEROS needs kerberos_service_name"),
        ("LDAP", "pw", "hive", "kerberos_service_name is set but auth is LDAP"),
        ("PAM", None, None, "auth 'PAM' is not one of NONE, NOSASL, LDAP, CUSTOM, KERBEROS"),
    ],
)
def test_thrift_auth_combinations_fail_clearly(
    auth: str | None, password: str | None, service: str | None, message: str
) -> None:
    with pytest.raises(DbtRuntimeError, match=message):
        check_thrift_auth(auth, password, service)


@pytest.mark.parametrize(
    ("auth", "password", "service"),
    [(None, None, None), ("NOSASL", None, None), ("LDAP", "pw", None), ("KERBEROS", None, "hive")],
)
def test_thrift_auth_valid_combinations(
    auth: str | None, password: str | None, service: str | None
) -> None:
    check_thrift_auth(auth, password, service)


def test_invalid_auth_fails_when_the_profile_is_read() -> None:
    with pytest.raises(DbtRuntimeError, match="auth LDAP needs a password"):
        thrift_credentials(auth="LDAP")


def test_routes_follow_the_method_and_refuse_the_other_one() -> None:
    thrift = thrift_credentials()
    assert default_route_for(thrift) == "connect"
    with pytest.raises(DbtRuntimeError, match="asks for submission_method 'session'"):
        SessionPythonJobHelper(MODEL, thrift)

    session = SparkossCredentials(method="session", host="localhost", schema="ecom")  # type: ignore[arg-type]
    assert default_route_for(session) == "session"
    with pytest.raises(DbtRuntimeError, match="'connect', but the target uses method 'session'"):
        ConnectPythonJobHelper(MODEL, session)


def test_connect_route_refuses_a_process_with_a_local_spark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pyspark import SparkContext

    monkeypatch.setattr(SparkContext, "_active_spark_context", object())
    with pytest.raises(DbtRuntimeError, match="already runs a local Spark"):
        connect_session("sc://127.0.0.1:1", {})


def test_session_route_refuses_a_process_in_connect_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPARK_CONNECT_MODE_ENABLED", "1")
    with pytest.raises(DbtRuntimeError, match="pyspark in this process is in Spark Connect mode"):
        local_session(SparkossCredentials(method="session", host="localhost", schema="ecom"))  # type: ignore[arg-type]


def test_unreachable_connect_endpoint_fails_fast_with_advice() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(DbtRuntimeError) as raised:
            check_reachable(f"sc://127.0.0.1:{port}/;token=secret", timeout=2)
    message = str(raised.value)
    assert f"Spark Connect at sc://127.0.0.1:{port}/;token=*** does not answer" in message
    assert "ecom thrift start" in message
    assert "secret" not in message


def test_dbt_debug_masks_the_connect_token() -> None:
    credentials = thrift_credentials(connect_url="sc://gw:443/;use_ssl=true;token=s3cr3t")
    info = dict(credentials.connection_info())
    assert info["connect_url"] == "sc://gw:443/;use_ssl=true;token=***"
    assert info["host"] == "spark.example.com"


def test_rpc_errors_are_told_by_code_and_details() -> None:
    from dbt.adapters.sparkoss.connect import describe_rpc_error

    class RpcError(Exception):
        def code(self):
            class Code:
                name = "UNAVAILABLE"

            return Code()

        def details(self) -> str:
            return "Ssl handshake failed"

    try:
        try:
            raise RpcError("<_InactiveRpcError of RPC that terminated with:\n...>")
        except RpcError:
            raise RuntimeError("<wrapped>\nmany lines") from None
    except RuntimeError as wrapped:
        assert describe_rpc_error(wrapped) == "UNAVAILABLE: Ssl handshake failed"
    assert describe_rpc_error(ValueError("first\nsecond")) == "first"
