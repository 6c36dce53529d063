"""`ecom thrift`: PID files, process trees, stopping only our own processes, sockets, probes.

A stand-in server (a `sleep`ing Python whose command line carries the Thrift server's class and
the folder's warehouse, as the real one's does) lets start/stop/status be tested for real
without starting Spark.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecom_analytics.cli import main
from ecom_analytics.thrift_server import server
from ecom_analytics.thrift_server.probes import probe
from ecom_analytics.thrift_server.processes import (
    command_line,
    descendants,
    is_alive,
    parse_parents,
    process_parents,
    process_state,
    read_pid,
    stop_tree,
    write_pid,
)
from ecom_analytics.thrift_server.settings import THRIFT_SERVER_CLASS, ServerSettings
from ecom_analytics.thrift_server.sockets import (
    ListeningSocket,
    decode_address,
    listening_sockets,
    parse_listening,
    port_is_free,
)

LINUX = Path("/proc/net/tcp").exists()


def test_read_pid(tmp_path: Path) -> None:
    path = tmp_path / "x.pid"
    assert read_pid(path) is None
    path.write_text("garbage\n")
    assert read_pid(path) is None
    path.write_text("0\n")
    assert read_pid(path) is None
    write_pid(path, 4242)
    assert read_pid(path) == 4242


def test_descendants_walk_the_whole_tree() -> None:
    parents = parse_parents(
        "  10     1\n  11    10\n  12    11\n  13    10\n  20     1\nbad line\n"
    )
    assert parents == {10: 1, 11: 10, 12: 11, 13: 10, 20: 1}
    assert descendants(10, parents) == [11, 13, 12]
    assert descendants(12, parents) == []


def test_a_zombie_counts_as_gone() -> None:
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while process_state(child.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(child.pid)  # exited, not yet reaped
    child.wait()
    assert not is_alive(child.pid)
    assert command_line(child.pid) == []
    assert is_alive(os.getpid())
    assert any("python" in arg or "pytest" in arg for arg in command_line(os.getpid()))


def test_stop_tree_reaches_children_and_kills_what_ignores_sigterm() -> None:
    # the shell and its background child ignore SIGTERM (the ignore is inherited)
    parent = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    time.sleep(0.5)
    children = descendants(parent.pid, process_parents())
    assert children, "the shell's sleep should be its child"
    outcome = stop_tree(parent.pid, grace_seconds=0.5)
    parent.wait()
    assert outcome.killed
    assert outcome.survivors == ()
    assert not any(is_alive(pid) for pid in children)


def test_decode_proc_net_addresses() -> None:
    assert decode_address("0100007F") == "127.0.0.1"
    assert decode_address("00000000") == "0.0.0.0"
    assert decode_address("00000000000000000000000001000000") == "::1"
    assert decode_address("0000000000000000FFFF00000100007F") == "127.0.0.1"
    assert decode_address("00000000000000000000000000000000") == "::"


def test_parse_listening_keeps_listen_state_only() -> None:
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
        "  timeout inode\n"
        "   0: 0100007F:2710 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
        "        0 1111 1 0000000000000000 100 0 0 10 0\n"
        "   1: 00000000:3A9A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
        "        0 2222 1 0000000000000000 100 0 0 10 0\n"
        "   2: 0100007F:2710 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0"
        "        0 3333 1 0000000000000000 100 0 0 10 0\n"
    )
    assert parse_listening(table) == {
        1111: ListeningSocket("127.0.0.1", 10000),
        2222: ListeningSocket("0.0.0.0", 15002),
    }
    assert ListeningSocket("127.0.0.1", 1).loopback
    assert not ListeningSocket("0.0.0.0", 1).loopback


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_listening_sockets_of_this_process() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        listener.listen()
        sockets = listening_sockets(os.getpid())
        assert sockets is not None
        assert ListeningSocket("127.0.0.1", port) in sockets
    assert port_is_free("127.0.0.1", port)


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[tuple[ServerSettings, subprocess.Popen[bytes]]]:
    """A process whose command line looks like the folder's Thrift server, PID file written."""
    settings = ServerSettings(state_dir=tmp_path / "thrift")
    settings.state_dir.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", THRIFT_SERVER_CLASS,
         f"spark.sql.warehouse.dir={settings.warehouse_dir}"],
        start_new_session=True,
    )  # fmt: skip
    # Popen returns when the exec closes its pipe, a moment before the kernel sets the new
    # program's arguments: until then /proc shows none
    deadline = time.monotonic() + 10
    while THRIFT_SERVER_CLASS not in command_line(process.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    write_pid(settings.pid_file, process.pid)
    try:
        yield settings, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_start_refuses_while_the_server_runs(fake_server, capsys) -> None:
    settings, process = fake_server
    assert server.running_pid(settings) == process.pid
    with pytest.raises(server.ServerError, match=f"already runs \\(pid {process.pid}\\)"):
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
    assert server.status(settings) == server.NOT_RUNNING


def test_stop_leaves_a_reused_pid_alone(tmp_path: Path, capsys) -> None:
    settings = ServerSettings(state_dir=tmp_path)
    write_pid(settings.pid_file, os.getpid())  # this test process is not a Thrift server
    assert server.running_pid(settings) is None
    assert server.stop(settings) == 0
    assert is_alive(os.getpid())
    assert not settings.pid_file.exists()
    assert "left alone" in capsys.readouterr().out


def test_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert server.log_tail(log) == []
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert server.log_tail(log, 3) == ["line 97", "line 98", "line 99"]


def test_cli_reports_bad_settings_in_one_line(tmp_path: Path, capsys) -> None:
    assert main(["thrift", "start", "--dir", str(tmp_path), "--thrift-port", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ecom thrift: error: --thrift-port must be a port number from 1 to 65535, got 'x'"
    )
    assert main(["thrift", "status", "--dir", str(tmp_path)]) == server.NOT_RUNNING
    assert main(["thrift", "stop", "--dir", str(tmp_path)]) == 0


def test_start_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        settings = ServerSettings(state_dir=tmp_path, thrift_port=port)
        with pytest.raises(server.ServerError, match=f"Thrift port 127.0.0.1:{port} is already"):
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
