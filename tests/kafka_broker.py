"""A running Kafka broker for a test module: the `kafka_broker` fixture (module scope).

    @pytest.mark.kafka
    def test_x(kafka_broker: RunningBroker) -> None:
        create_topic(kafka_broker.bootstrap_servers, "clicks", partitions=3)

One broker per module that asks for it, started through `ecom_analytics.kafka_broker.broker`
on free loopback ports in a folder of the module's own, and stopped at the end (its process
must be gone then). Registered in tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecom_analytics.kafka_broker import broker
from ecom_analytics.kafka_broker.settings import BrokerSettings
from ecom_analytics.services.network import free_ports
from ecom_analytics.services.processes import is_alive

START_TIMEOUT = 240.0
BIN = Path(sys.executable).parent


def clean_environment() -> dict[str, str]:
    """This process's environment without any Kafka settings of the developer's."""
    return {key: value for key, value in os.environ.items() if not key.startswith("ECOM_KAFKA_")}


@dataclass(frozen=True)
class RunningBroker:
    settings: BrokerSettings
    pid: int
    start_output: str

    @property
    def bootstrap_servers(self) -> str:
        return self.settings.bootstrap_servers

    def cli(self, action: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """`ecom kafka <action> --dir <the broker's folder> ...`."""
        return subprocess.run(
            [str(BIN / "ecom"), "kafka", action, "--dir", str(self.settings.state_dir), *extra],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 60,
            check=False,
            env=clean_environment(),
        )


@pytest.fixture(scope="module")
def kafka_broker(module_dir: Path) -> Iterator[RunningBroker]:
    port, controller_port = free_ports(2)
    settings = BrokerSettings(
        state_dir=module_dir / "kafka", port=port, controller_port=controller_port
    )
    output: list[str] = []
    try:
        code = broker.start(settings, timeout=START_TIMEOUT, report=output.append)
        assert code == 0, "\n".join(output)
        pid = broker.running_pid(settings)
        assert pid is not None
        yield RunningBroker(settings, pid, "\n".join(output))
    finally:
        last = broker.running_pid(settings)  # a test may have restarted it
        broker.stop(settings, report=lambda _: None)
        assert last is None or not is_alive(last), f"broker process {last} survived the stop"
