"""The machinery every local server shares (`ecom_analytics.services`): settings, PID files,
process trees, listening sockets, and a server's start / stop / status steps on a stand-in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecom_analytics.services.network import (
    ListeningSocket,
    client_host,
    describe_listening,
    free_ports,
    host_port,
    is_loopback,
    listening_sockets,
    port_is_free,
)
from ecom_analytics.services.processes import (
    command_line,
    descendants,
    is_alive,
    read_pid,
    stop_tree,
    write_pid,
)
from ecom_analytics.services.service import (
    NOT_RUNNING,
    Port,
    Service,
    ServiceError,
    StateFiles,
    check_ports,
    log_tail,
)
from ecom_analytics.services.settings import (
    SettingsError,
    parse_assignments,
    parse_port,
    port_setting,
    resolve_state_dir,
)
from tests.stand_in import stand_in

ROOT = Path("/project")
MARKER = "ecom-test-service"


def test_ports_come_from_the_option_then_the_environment() -> None:
    assert parse_port("9092", "--port") == 9092
    env = {"ECOM_X_PORT": "7000"}
    assert port_setting(None, env, "ECOM_X_PORT", 9092, "--port") == 7000
    assert port_setting("8000", env, "ECOM_X_PORT", 9092, "--port") == 8000
    assert port_setting(None, {}, "ECOM_X_PORT", 9092, "--port") == 9092
    with pytest.raises(SettingsError, match=r"ECOM_X_PORT must be a port number.*'0'"):
        port_setting(None, {"ECOM_X_PORT": "0"}, "ECOM_X_PORT", 9092, "--port")
    with pytest.raises(SettingsError, match=r"--port must be a port number.*'65536'"):
        port_setting("65536", env, "ECOM_X_PORT", 9092, "--port")


def test_assignments_and_state_folders() -> None:
    assert parse_assignments(["a=1", " b =x=y"], "--conf") == {"a": "1", "b": "x=y"}
    with pytest.raises(SettingsError, match="--conf takes KEY=VALUE, got 'a'"):
        parse_assignments(["a"], "--conf")
    assert resolve_state_dir(None, {}, "ECOM_X_DIR", "x", ROOT) == ROOT / ".warehouse" / "x"
    env = {"ECOM_WAREHOUSE_DIR": "/wh"}
    assert resolve_state_dir(None, env, "ECOM_X_DIR", "x", ROOT) == Path("/wh/x")
    env["ECOM_X_DIR"] = "state/x"
    assert resolve_state_dir(None, env, "ECOM_X_DIR", "x", ROOT) == ROOT / "state" / "x"
    assert resolve_state_dir("/y", env, "ECOM_X_DIR", "x", ROOT) == Path("/y")


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True),
     ("::ffff:127.0.0.1", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
     ("::ffff:10.0.0.1", False), ("spark.example.com", False)],
)  # fmt: skip
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_addresses_for_clients() -> None:
    assert client_host("0.0.0.0") == "127.0.0.1"
    assert client_host("10.1.2.3") == "10.1.2.3"
    assert host_port("::1", 9092) == "[::1]:9092"
    assert str(ListeningSocket("127.0.0.1", 9092)) == "127.0.0.1:9092"


def test_read_pid(tmp_path: Path) -> None:
    path = tmp_path / "x.pid"
    assert read_pid(path) is None
    path.write_text("garbage\n")
    assert read_pid(path) is None
    path.write_text("0\n")
    assert read_pid(path) is None
    write_pid(path, 4242)
    assert read_pid(path) == 4242


def test_a_zombie_counts_as_gone() -> None:
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while is_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.returncode is None  # exited, not yet reaped: a zombie
    assert not is_alive(child.pid)
    assert command_line(child.pid) == []
    child.wait()
    assert not is_alive(child.pid)
    assert is_alive(os.getpid())
    assert any("python" in arg or "pytest" in arg for arg in command_line(os.getpid()))


def test_stop_tree_reaches_children_and_kills_what_ignores_sigterm() -> None:
    # the shell and its background child ignore SIGTERM (the ignore is inherited)
    parent = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 60 & wait"], start_new_session=True)
    deadline = time.monotonic() + 10
    while not descendants(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = descendants(parent.pid)
    assert children, "the shell's sleep should be its child"
    outcome = stop_tree(parent.pid, grace_seconds=0.5)
    parent.wait()
    assert outcome.killed
    assert outcome.survivors == ()
    assert not any(is_alive(pid) for pid in children)


def test_listening_sockets_of_this_process() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        listener.listen()
        sockets = listening_sockets(os.getpid())
        assert sockets is not None
        assert ListeningSocket("127.0.0.1", port) in sockets
        assert f"127.0.0.1:{port}" in (describe_listening(os.getpid()) or "")
    assert port_is_free("127.0.0.1", port)


@pytest.mark.skipif(not socket.has_ipv6, reason="needs IPv6")
def test_a_dual_stack_listener_on_mapped_loopback_shows_as_ipv4() -> None:
    """A JVM listens on IPv6 sockets bound to ::ffff:127.0.0.1; that is loopback too."""
    with socket.socket(socket.AF_INET6) as listener:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            listener.bind(("::ffff:127.0.0.1", 0))
        except OSError:
            pytest.skip("IPv6 is disabled here")
        listener.listen()
        port = listener.getsockname()[1]
        sockets = listening_sockets(os.getpid()) or []
        assert ListeningSocket("127.0.0.1", port) in sockets
        assert all(s.loopback for s in sockets if s.port == port)


def test_free_ports_are_distinct_and_free() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3
    assert all(port_is_free("127.0.0.1", port) for port in ports)


def test_a_taken_port_is_named_with_the_option_that_changes_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(ServiceError) as error:
            check_ports([Port("Widget", "127.0.0.1", port, "--widget-port or ECOM_WIDGET_PORT")])
    assert str(error.value) == (
        f"Widget port 127.0.0.1:{port} is already in use; stop the program using it or choose "
        "another port (--widget-port or ECOM_WIDGET_PORT)"
    )


def test_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert log_tail(log) == []
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert log_tail(log, 3) == ["line 97", "line 98", "line 99"]


def widget(state_dir: Path) -> Service:
    """A service whose process is recognised by a marker and its folder on the command line."""
    return Service(
        title="Widget server",
        command="ecom widget",
        files=StateFiles(state_dir, "widget"),
        is_ours=lambda args: MARKER in args and str(state_dir) in args,
    )


def test_start_stop_status_of_a_stand_in(tmp_path: Path) -> None:
    service = widget(tmp_path / "widget")
    lines: list[str] = []
    assert service.status(lines.append, lambda pid: []) == NOT_RUNNING
    assert lines == [f"Widget server: not running ({service.state_dir})."]
    service.prepare_start()
    (service.files.log_file).write_text("old run\n")
    service.prepare_start()
    assert service.files.log_file.with_name("widget.log.1").read_text() == "old run\n"
    process = service.launch(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)",
         MARKER, str(service.state_dir)],
        env=os.environ,
        cwd=tmp_path,
        note={"port": 1234},
    )  # fmt: skip
    try:
        service.wait_until_ready(
            process, lambda: "up" in log_tail(service.files.log_file), 10, print, lambda: ""
        )
        assert service.running_pid() == process.pid
        assert service.note()["port"] == 1234
        assert service.note()["pid"] == process.pid
        with pytest.raises(ServiceError, match=rf"already runs \(pid {process.pid}\); "):
            service.prepare_start()
        lines.clear()
        assert service.status(lines.append, lambda pid: [f"answers: {pid}"]) == 0
        assert lines[:2] == [
            f"Widget server: running (pid {process.pid}).",
            f"  answers: {process.pid}",
        ]
        assert lines[-1] == f"  log:        {service.files.log_file}"
        lines.clear()
        assert service.stop(lines.append) == 0
        assert lines == [f"Stopping the Widget server (pid {process.pid})...",
                         "Widget server stopped."]  # fmt: skip
        assert process.wait(timeout=10) != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not service.files.pid_file.exists() and not service.files.note_file.exists()
    assert service.files.log_file.read_text() == "up\n"


def test_stop_leaves_another_program_alone(tmp_path: Path) -> None:
    service = widget(tmp_path)
    with stand_in(MARKER, "/some/other/folder") as other:
        write_pid(service.files.pid_file, other.pid)
        lines: list[str] = []
        assert service.running_pid() is None
        assert service.stop(lines.append) == 0
        assert other.poll() is None
    assert "left alone" in lines[0]
    assert not service.files.pid_file.exists()


def test_a_failed_start_stops_what_it_started_and_shows_the_log(tmp_path: Path) -> None:
    service = widget(tmp_path)
    service.prepare_start()
    process = service.launch(
        [sys.executable, "-c", "import sys; print('no config'); sys.exit(3)", MARKER],
        env=os.environ,
        cwd=tmp_path,
        note={},
    )
    lines: list[str] = []
    outcome = service.supervise_start(
        process,
        lambda: service.wait_until_ready(process, lambda: False, 30, lines.append, lambda: ""),
        lines.append,
    )
    assert outcome is None
    assert lines == [
        f"ERROR: the Widget server exited with status 3 while starting. Last lines of "
        f"{service.files.log_file}:",
        "  | no config",
    ]
    assert not service.files.pid_file.exists()
