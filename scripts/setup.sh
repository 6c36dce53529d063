#!/usr/bin/env bash
# Creates .venv in the project root with everything ecom_analytics needs, after checking Java.
# Idempotent: does nothing when the environment already matches the dependency files.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Java 17+ (Spark 4 runs on Java 17 or 21) --------------------------------------------------
java_bin="java"
if [ -n "${JAVA_HOME:-}" ]; then
    java_bin="$JAVA_HOME/bin/java"
fi
install_hint="Install a JDK 17 or newer, e.g. 'sudo apt-get install openjdk-17-jre-headless' (Debian/Ubuntu), 'brew install openjdk@17' (macOS), or set JAVA_HOME to one."
if ! command -v "$java_bin" >/dev/null 2>&1; then
    die "Java not found (looked for '$java_bin'). Spark needs Java 17+. $install_hint"
fi
java_version_line="$("$java_bin" -version 2>&1 | head -n 1)"
java_major="$(printf '%s' "$java_version_line" | sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1/')"
if [ "$java_major" = "1" ]; then
    java_major="$(printf '%s' "$java_version_line" | sed -E 's/.*version "1\.([0-9]+).*/\1/')"
fi
case "$java_major" in
    ''|*[!0-9]*) die "Could not read the Java version from: $java_version_line. $install_hint" ;;
esac
if [ "$java_major" -lt 17 ]; then
    die "Java $java_major found ($java_version_line); Spark 4 needs Java 17+. $install_hint"
fi

# --- Python 3.10-3.12 --------------------------------------------------------------------------
python_bin="${PYTHON:-python3}"
command -v "$python_bin" >/dev/null 2>&1 || die "python3 not found. Install Python 3.10, 3.11 or 3.12."
if ! "$python_bin" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))'; then
    die "$("$python_bin" -V 2>&1) found; ecom_analytics needs Python 3.10-3.12 (set PYTHON=...)."
fi

# --- .venv ---------------------------------------------------------------------------------------
stamp=".venv/.setup-stamp"
# the JVM's build is part of it: the archive of Spark's classes below belongs to one JVM build
want="$( (cat pyproject.toml adapter/pyproject.toml scripts/setup.sh; "$java_bin" -version 2>&1) | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/dbt ]; then
    # the JVM packages are checked every time: quick when they are there, fetched when not
    .venv/bin/ecom jars | sed -n '/resolving\|ERROR/,$p'
    say "environment up to date (.venv, Java $java_major, JVM packages)"
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $("$python_bin" -V 2>&1)"
    "$python_bin" -m venv .venv
fi
say "installing ecom_analytics and the dbt-spark-oss adapter into .venv (first time: a few minutes)"
.venv/bin/python -m pip install --quiet --upgrade pip
# Both editable, so a checkout's edits apply without reinstalling. "compat" mode puts the adapter
# on sys.path, where dbt's pkgutil-style `dbt.adapters` namespace finds it. The adapter's
# `connect` extra is the Spark Connect client the `thrift` target's Python models use.
.venv/bin/python -m pip install --quiet --config-settings editable_mode=compat \
    -e "./adapter[connect]" -e ".[dev]"
.venv/bin/python -m pip check >/dev/null || die "pip reports broken requirements: run '.venv/bin/pip check'"
# Delta Lake, Spark's Kafka connector, Kafka's broker and the PostgreSQL JDBC driver, pinned in
# ecom_analytics/jvm_packages.py: fetched once here (Maven, else Spark's own resolution), with
# checksums checked; nothing is fetched at run time.
say "fetching the JVM packages (Delta Lake, Kafka connector and broker, JDBC driver)"
.venv/bin/ecom jars || die "could not fetch the JVM packages (above); retry: .venv/bin/ecom jars"
# An archive of the classes Spark loads, for this JVM and pyspark: each embedded JVM (every dbt
# command, the stream, the tests) then starts 5-7 s sooner. Spark runs without it as well.
if ! .venv/bin/ecom jvm-archive; then
    say "warning: no archive of Spark's classes; Spark starts without it (slower). Retry: .venv/bin/ecom jvm-archive --force"
fi
printf '%s' "$want" > "$stamp"
say "ready: $(.venv/bin/dbt --version 2>/dev/null | grep -E 'spark|core' | tr -s ' ' | tr '\n' ' ')"
