"""`ecom thrift`: start/stop/status on a stand-in server, and the protocol probes.

A stand-in server (a `sleep`ing Python whose command line carries the Thrift server's class and
the folder's Hive operation logs, as the real one's does) lets start/stop/status be tested for real
without starting Spark. The shared machinery (PID files, process trees, sockets) is tested in
test_services.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecom_analytics.cli import main
from ecom_analytics.services.processes import is_alive, write_pid
from ecom_analytics.services.service import NOT_RUNNING, ServiceError
from ecom_analytics.thrift_server import server
from ecom_analytics.thrift_server.probes import probe
from ecom_analytics.thrift_server.settings import (
    THRIFT_SERVER_CLASS,
    ServerSettings,
    server_marker,
)
from tests.stand_in import stand_in


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[tuple[ServerSettings, subprocess.Popen[bytes]]]:
    """A process whose command line looks like the folder's Thrift server, PID file written."""
    settings = ServerSettings(state_dir=tmp_path / "thrift")
    settings.state_dir.mkdir()
    with stand_in(THRIFT_SERVER_CLASS, server_marker(settings)) as process:
        write_pid(settings.pid_file, process.pid)
        yield settings, process


def test_start_refuses_while_the_server_runs(fake_server, capsys) -> None:
    settings, process = fake_server
    assert server.running_pid(settings) == process.pid
    with pytest.raises(ServiceError, match=f"already runs \\(pid {process.pid}\\)"):
        server.start(settings, timeout=5)
    assert server.status(settings) == 0
    out = capsys.readouterr().out
    assert f"running (pid {process.pid})" in out
    assert "does not answer" in out  # the stand-in speaks neither protocol


def test_stop_stops_the_server_and_removes_its_files(fake_server, capsys) -> None:
    settings, process = fake_server
    settings.state_file.write_text("{}")
    assert server.stop(settings) == 0
    assert process.wait(timeout=10) == -signal.SIGTERM
    assert not settings.pid_file.exists()
    assert not settings.state_file.exists()
    assert "stopped" in capsys.readouterr().out
    assert server.status(settings) == NOT_RUNNING


def test_stop_leaves_a_reused_pid_alone(tmp_path: Path, capsys) -> None:
    settings = ServerSettings(state_dir=tmp_path)
    write_pid(settings.pid_file, os.getpid())  # this test process is not a Thrift server
    assert server.running_pid(settings) is None
    assert server.stop(settings) == 0
    assert is_alive(os.getpid())
    assert not settings.pid_file.exists()
    assert "left alone" in capsys.readouterr().out


def test_cli_reports_bad_settings_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["thrift", "start", "--dir", str(tmp_path), "--thrift-port", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ecom thrift: error: --thrift-port must be a port number from 1 to 65535, got 'x'"
    )
    assert main(["thrift", "status", "--dir", str(tmp_path)]) == NOT_RUNNING
    assert main(["thrift", "stop", "--dir", str(tmp_path)]) == 0


def test_start_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        settings = ServerSettings(state_dir=tmp_path, thrift_port=port)
        with pytest.raises(ServiceError, match=f"Thrift port 127.0.0.1:{port} is already"):
            server.start(settings, timeout=5)
    assert not settings.pid_file.exists()


class _FakeConnect:
    """A Spark Connect endpoint that names an application, or refuses without a token."""

    def __init__(self, app_name: str, token: str | None = None) -> None:
        from concurrent import futures

        import grpc
        from pyspark.sql.connect.proto import base_pb2

        def config(request, context):
            if token and ("authorization", f"Bearer {token}") not in context.invocation_metadata():
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "token required")
            return base_pb2.ConfigResponse(
                session_id=request.session_id,
                pairs=[base_pb2.KeyValue(key="spark.app.name", value=app_name)],
            )

        def release(request, context):
            return base_pb2.ReleaseSessionResponse(session_id=request.session_id)

        methods = {
            "Config": (config, base_pb2.ConfigRequest),
            "ReleaseSession": (release, base_pb2.ReleaseSessionRequest),
        }
        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                function,
                request_deserializer=request.FromString,
                response_serializer=lambda response: response.SerializeToString(),
            )
            for name, (function, request) in methods.items()
        }
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("spark.connect.SparkConnectService", handlers),)
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


@pytest.mark.parametrize(
    ("app_name", "server_token", "client_token", "state"),
    [
        ("ecom_analytics-thrift", None, None, "ours"),
        ("someone-else", None, None, "foreign"),
        ("ecom_analytics-thrift", "t0k", None, "locked"),
        ("ecom_analytics-thrift", "t0k", "t0k", "ours"),
    ],
)
def test_connect_probe_tells_ours_foreign_and_locked(
    tmp_path: Path, app_name: str, server_token: str | None, client_token: str | None, state: str
) -> None:
    fake = _FakeConnect(app_name, server_token)
    try:
        extra = {"spark.connect.authenticate.token": client_token} if client_token else {}
        settings = ServerSettings(state_dir=tmp_path, connect_port=fake.port, extra_conf=extra)
        answer = probe("connect", settings, timeout=5)
    finally:
        fake.server.stop(None)
    assert answer.state == state
    assert answer.up is (state in ("ours", "locked"))


def test_probes_of_a_closed_port_say_why() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound, not listening
        port = placeholder.getsockname()[1]
        settings = ServerSettings(state_dir=Path("/unused"), thrift_port=port, connect_port=port)
        for protocol in ("thrift", "connect"):
            answer = probe(protocol, settings, timeout=2)
            assert answer.state == "down"
            assert answer.describe().startswith("does not answer (")
