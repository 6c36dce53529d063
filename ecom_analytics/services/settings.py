"""Settings every local server reads the same way: ports, KEY=VALUE options, its folder, Java."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from ecom_analytics.spark_session import DEFAULT_WAREHOUSE_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A setting a user can fix: the message names it and what is accepted."""


def parse_port(value: str | int, name: str) -> int:
    """A TCP port from an option or environment variable, or a SettingsError naming `name`."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, got {value!r}")
    return port


def port_setting(
    option_value: str | int | None,
    env: Mapping[str, str],
    env_name: str,
    default: int,
    option: str,
) -> int:
    """The port of an option, else of its environment variable, else the default; an error
    names whichever of the two gave the bad value."""
    if option_value:
        return parse_port(option_value, option)
    return parse_port(env.get(env_name) or default, env_name)


def parse_assignments(items: Sequence[str], option: str) -> dict[str, str]:
    """`KEY=VALUE` items of a repeatable option as a dict, or a SettingsError naming the item."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{option} takes KEY=VALUE, got {item!r}")
        parsed[key.strip()] = value
    return parsed


def resolve_state_dir(
    option_value: str | None,
    env: Mapping[str, str],
    env_name: str,
    subfolder: str,
    project_root: Path = PROJECT_ROOT,
) -> Path:
    """A server's folder: the option, else `$<env_name>`, else `$ECOM_WAREHOUSE_DIR/<subfolder>`;
    relative paths are taken from the project root."""
    configured = (
        option_value
        or env.get(env_name)
        or os.path.join(env.get("ECOM_WAREHOUSE_DIR") or DEFAULT_WAREHOUSE_DIR, subfolder)
    )
    return (project_root / Path(configured).expanduser()).resolve()


def java_executable(env: Mapping[str, str] = os.environ) -> str | None:
    """`$JAVA_HOME/bin/java`, else `java` on PATH; None when neither is runnable."""
    java_home = env.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    return java if java and os.access(java, os.X_OK) else None
