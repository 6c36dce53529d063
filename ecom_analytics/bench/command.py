"""`ecom bench`: the offline build, its hand-written baseline and the stream, measured.

For each case (a scale of raw actions times a skew) it generates the data (`ecom generate`, 10
days, 1% dirty rows; kept and reused while the parameters stay the same), then runs, each as a
child process with a time budget and its memory and CPU time sampled:

  dbt       `dbt build` of the seeds and every offline model (staging, session slicing, all SPEC 3
            marts; no tests, no streaming models) into a fresh warehouse
  tests     `dbt test` of the same selection on what the build wrote (timed apart)
  baseline  the same marts by one hand-written PySpark job (ecom_analytics/bench/baseline.py)
  check     whether the baseline's marts equal dbt's, row for row (else the ratio means nothing)

and once per run `stream`: the streaming job fed by `ecom produce-clicks` at increasing rates
(ecom_analytics/bench/stream_probe.py). Before the cases, the same build on a tiny data set
measures the fixed costs (JVM start, dbt's set-up and per-model statements). dbt parses the
project once, untimed, before the first case; each dbt command starts from that parse (dbt's
partial parsing), as a project that runs on a schedule from one checkout does. The report goes to
--output as bench-<time>.json and .md (and latest.json/.md); docs/performance.md explains it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ecom_analytics.bench import plan, report
from ecom_analytics.bench.dbt_results import breakdown, node_timings
from ecom_analytics.bench.procs import run_measured
from ecom_analytics.cli import CommandError

NAME = "bench"
HELP = "benchmark the offline build against a hand-written baseline, and the stream"
DESCRIPTION = (
    (__doc__ or "")
    + """
examples:
  ecom bench                                      # 1M, 5M and 10M actions, uniform and category 30%
  ecom bench --scales 10M --skews none,user:0.3,product:0.3 --parts dbt,baseline,check
  ecom bench --parts stream --stream-trigger 2 --stream-rates 10000,15000
  ecom bench --scales 10M --skews none --parts dbt,baseline --repeat 3   # the median of 3 each
  ecom bench --quick                              # a smoke test: tiny data, all offline parts
"""
)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_SELECTION = (
    "--exclude",
    "tag:ad_stream",
    "--exclude-resource-type",
    "test",
    "--exclude-resource-type",
    "unit_test",
)
OVERHEAD_ACTIONS = 10_000
# dbt's saved parse, which a later command in another target path reuses (partial parsing)
PARSE_STATE = "partial_parse.msgpack"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom bench`."""
    what = parser.add_argument_group("what to measure")
    what.add_argument(
        "--scales",
        default="1M,5M,10M",
        help="raw actions per case, comma-separated (default 1M,5M,10M: the issue's 1M and 10M, "
        "and 5M between them, so that what each further million costs is compared twice)",
    )
    what.add_argument(
        "--skews",
        default="none,category:0.3",
        help="none or KIND:SHARE (category, product, user), comma-separated "
        "(default: none,category:0.3)",
    )
    what.add_argument(
        "--parts",
        default=",".join(plan.DEFAULT_PARTS),
        help=f"comma-separated subset of {', '.join(plan.PARTS)} "
        f"(default: {','.join(plan.DEFAULT_PARTS)})",
    )
    what.add_argument(
        "--no-overhead",
        action="store_true",
        help="skip the tiny build that measures the fixed costs",
    )
    what.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run dbt and the baseline N times per case, alternating which goes first, and "
        "report the run with the median wall time (default 1; this machine's runs vary by "
        "10-20%%, so a ratio near 1 needs 3 or more)",
    )
    what.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {plan.QUICK_ACTIONS:,} uniform actions, dbt, baseline and check",
    )
    limits = parser.add_argument_group("limits and places")
    limits.add_argument(
        "--budget",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="stop a part that runs longer, and report it so (default 900)",
    )
    limits.add_argument(
        "--output",
        type=Path,
        default=PROJECT_ROOT / "bench-results",
        metavar="DIR",
        help="reports go here (default: bench-results/)",
    )
    limits.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="data, warehouses and logs (default: OUTPUT/work; generated data is reused)",
    )
    limits.add_argument(
        "--keep", action="store_true", help="keep the warehouses and baseline output"
    )
    limits.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_ROOT,
        metavar="DIR",
        help="the dbt project to build (default: this one); another checkout, e.g. of main, "
        "gives a before/after of a change with everything else equal",
    )
    stream = parser.add_argument_group("stream")
    stream.add_argument(
        "--stream-rates",
        default="10000,15000,20000,30000,40000",
        help="clicks/s to feed, increasing; stops after the first rate not sustained",
    )
    stream.add_argument(
        "--stream-sources",
        default="files,kafka",
        help="what the job reads, each probed in turn: files, kafka (a broker of the run's own) "
        "or both (default)",
    )
    stream.add_argument(
        "--stream-trigger",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="the job's trigger interval (default 3: a batch's fixed cost is about 1.6 s here)",
    )
    stream.add_argument(
        "--stream-seconds",
        type=float,
        default=40.0,
        metavar="SECONDS",
        help="seconds of feed per rate (default 40)",
    )
    stream.add_argument(
        "--stream-warmup-batches",
        type=int,
        default=30,
        metavar="N",
        help="batches run before the rates to warm the JVM up, as in a long-running job "
        "(default 30; 0: none)",
    )


def stream_sources(text: str) -> list[str]:
    """`files`, `kafka` or both, in that order; CommandError for anything else."""
    sources = [item.strip() for item in text.split(",") if item.strip()]
    if not sources or not set(sources) <= {"files", "kafka"}:
        raise CommandError(f"--stream-sources: expected files, kafka or files,kafka, got {text!r}")
    return [source for source in ("files", "kafka") if source in sources]


def jvm_class_archive() -> str:
    """The archive of Spark's classes the run's JVMs start from (`ecom jvm-archive`), or none."""
    from dbt.adapters.sparkoss.class_archive import existing_archive

    return str(existing_archive() or "none")


class Bench:
    """One `ecom bench` run: the plan, where things go, and the report being filled."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.output: Path = args.output.resolve()
        self.workdir: Path = (args.workdir or self.output / "work").resolve()
        self.bin = Path(sys.executable).parent
        self.project_dir: Path = args.project_dir.resolve()
        self.report: dict[str, Any] = {
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(["ecom", *sys.argv[1:]]) if sys.argv[1:2] == [NAME] else NAME,
            "machine": {
                "cores": os.cpu_count(),
                "memory_gib": round(
                    os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
                ),
                "load_at_start": [round(load, 2) for load in os.getloadavg()],
            },
            "settings": {
                name: os.environ.get(name, default)
                for name, default in (
                    ("ECOM_DRIVER_MEMORY", "4g"),
                    ("ECOM_SHUFFLE_PARTITIONS", "8"),
                    ("ECOM_THREADS", "4"),
                )
            },
            "project_dir": str(args.project_dir.resolve()),
            "cases": [],
        }
        # whether the JVMs of this run start from the archive of Spark's classes (jvm-archive)
        self.report["settings"]["jvm_class_archive"] = jvm_class_archive()
        self.parse_state: Path | None = None

    # --- helpers -----------------------------------------------------------------------------

    def log(self, text: str) -> None:
        print(text, flush=True)

    def child(
        self,
        argv: list[str],
        label: str,
        log_path: Path,
        env: dict[str, str],
        cwd: Path = PROJECT_ROOT,
    ) -> Any:
        self.log(f"bench: {label} ... (log: {log_path})")
        outcome = run_measured(
            argv,
            label=label,
            log_path=log_path,
            budget_seconds=self.args.budget,
            env={**os.environ, **env},
            cwd=cwd,
        )
        jvm = outcome.peak_rss.get("jvm", 0) / 2**20
        cpu = outcome.cpu_seconds
        self.log(
            f"bench: {label}: {outcome.status} in {outcome.wall_seconds:.1f} s "
            f"(peak JVM {jvm:,.0f} MiB, CPU {cpu.get('jvm', 0):.1f} s JVM + "
            f"{cpu.get('python', 0):.1f} s Python, mean load {outcome.mean_load or 0:.1f})"
        )
        return outcome

    def data(self, case: plan.Case) -> tuple[Path, int]:
        """The case's raw data (generated unless the same parameters were generated before)."""
        from ecom_analytics.generator.output import read_own_manifest
        from ecom_analytics.generator.pipeline import generate

        raw_dir = self.workdir / "data" / case.name
        config = case.generator_config(raw_dir)
        manifest = read_own_manifest(raw_dir) if raw_dir.exists() else None
        if (
            manifest
            and manifest.get("status") == "complete"
            and manifest.get("parameters") == config.parameters()
        ):
            rows = int(manifest["datasets"]["user_visit_action"]["rows"])
            self.log(f"bench: {case.name}: reusing the data in {raw_dir} ({rows:,} actions)")
            return raw_dir, rows
        self.log(f"bench: {case.name}: generating {case.actions:,} actions into {raw_dir}")
        started = time.monotonic()
        summary = generate(config, progress=False)
        self.log(f"bench: {summary.line()} ({time.monotonic() - started:.0f} s)")
        manifest = read_own_manifest(raw_dir) or {}
        return raw_dir, int(manifest["datasets"]["user_visit_action"]["rows"])

    # --- parts -------------------------------------------------------------------------------

    def dbt_env(self, run_dir: Path, raw_dir: Path) -> dict[str, str]:
        return {
            "ECOM_WAREHOUSE_DIR": str(run_dir / "warehouse"),
            "ECOM_RAW_DIR": str(raw_dir),
            "ECOM_SCHEMA": "ecom",
        }

    def parse_project(self) -> None:
        """`dbt parse` once, untimed, so every measured dbt command starts from its parse."""
        run_dir = self.workdir / "parse"
        target = run_dir / "target"
        shutil.rmtree(run_dir, ignore_errors=True)
        argv = [
            str(self.bin / "dbt"),
            "parse",
            *self.project_args(target, run_dir),
        ]
        env = self.dbt_env(run_dir, self.workdir / "data")
        outcome = self.child(
            argv, "dbt parse (untimed)", run_dir / "dbt-parse.log", env, self.project_dir
        )
        state = target / PARSE_STATE
        if outcome.status == "ok" and state.exists():
            self.parse_state = state
        else:
            self.log(
                f"bench: dbt parse did not finish (see {run_dir / 'dbt-parse.log'}); each dbt"
                " command parses the project itself, and the dbt figures include that"
            )
        self.report["settings"]["dbt_parse"] = "partial" if self.parse_state else "full"

    def project_args(self, target: Path, run_dir: Path) -> list[str]:
        return [
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(target),
            "--log-path",
            str(run_dir / "logs"),
            "--no-use-colors",
        ]

    def dbt(self, command: str, run_dir: Path, raw_dir: Path, label: str) -> tuple[Any, Path]:
        target = run_dir / f"target-{command}"
        if self.parse_state:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.parse_state, target / PARSE_STATE)
        argv = [
            str(self.bin / "dbt"),
            command,
            *(DBT_SELECTION if command == "build" else ("--exclude", "tag:ad_stream")),
            *self.project_args(target, run_dir),
        ]
        env = self.dbt_env(run_dir, raw_dir)
        outcome = self.child(argv, label, run_dir / f"dbt-{command}.log", env, self.project_dir)
        return outcome, target

    def dbt_part(
        self,
        command: str,
        run_dir: Path,
        raw_dir: Path,
        case_name: str,
        actions: int,
        round_label: str = "",
    ) -> dict[str, Any]:
        label = f"{case_name}: dbt {command}{round_label}"
        outcome, target = self.dbt(command, run_dir, raw_dir, label)
        results_path = target / "run_results.json"
        if not results_path.exists():
            return {**report.outcome_figures(outcome, actions), "nodes": []}
        nodes = node_timings(json.loads(results_path.read_text(encoding="utf-8")))
        parts = breakdown(nodes, outcome.started_at, outcome.wall_seconds)
        figures = report.dbt_figures(outcome, nodes, parts, actions, None)
        failed = [node.name for node in nodes if node.status not in ("success", "pass")]
        if failed and figures["status"] == "ok":
            figures["status"] = "failed"
        if failed:
            figures["failed_nodes"] = failed
        return figures

    def baseline_part(self, run_dir: Path, raw_dir: Path, label: str, actions: int) -> dict:
        timings = run_dir / "baseline-timings.json"
        argv = [
            sys.executable,
            "-m",
            "ecom_analytics.bench.baseline",
            "--raw-dir",
            str(raw_dir),
            "--output",
            str(run_dir / "baseline"),
            "--timings",
            str(timings),
        ]
        env = {"ECOM_WAREHOUSE_DIR": str(run_dir / "baseline" / "warehouse")}
        outcome = self.child(argv, label, run_dir / "baseline.log", env)
        figures = report.outcome_figures(outcome, actions)
        if timings.exists():
            written = json.loads(timings.read_text())
            figures["phases_seconds"] = {
                name: round(seconds, 2) for name, seconds in written["phases"].items()
            }
            figures["tables"] = written.get("tables", [])
        return figures

    def run_case(self, case: plan.Case, parts: tuple[str, ...], overhead: bool = False) -> dict:
        raw_dir, actions = self.data(case)
        run_dir = self.workdir / "runs" / case.name
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        entry: dict[str, Any] = {
            "name": case.name,
            "actions": actions,
            "skew": {"kind": case.skew.kind, "share": case.skew.share},
        }
        entry.update(self.timed_parts(case.name, parts, run_dir, raw_dir, actions))
        jvm_start = (entry.get("baseline") or {}).get("phases_seconds", {}).get("start Spark")
        if "dbt" in parts:
            split = entry["dbt"].get("time_split_seconds")
            if split and jvm_start is not None:
                split["jvm_start_estimate"] = jvm_start
                split["dbt_startup_estimate"] = round(max(0.0, split["startup"] - jvm_start), 2)
        if "tests" in parts and (entry.get("dbt") or {}).get("status") == "ok":
            entry["tests"] = self.dbt_part("test", run_dir, raw_dir, case.name, actions)
        if "check" in parts:
            entry["check"] = self.check(run_dir, entry)
        if overhead:
            entry["jvm_start_seconds"] = jvm_start
        if not self.args.keep:
            for folder in ("warehouse", "baseline"):
                shutil.rmtree(run_dir / folder, ignore_errors=True)
        return entry

    def timed_parts(
        self, name: str, parts: tuple[str, ...], run_dir: Path, raw_dir: Path, actions: int
    ) -> dict[str, dict[str, Any]]:
        """The baseline and the dbt build of a case, each `--repeat` times into a fresh
        warehouse; per part the figures of its median run (report.median_run). The baseline goes
        first in the first round (its Spark start is the JVM start estimate for dbt), and the
        order alternates from round to round, so that a drift of the machine's speed weighs on
        both alike."""
        rounds = self.args.repeat
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "dbt": []}
        for index in range(rounds):
            if index:  # a fresh warehouse and baseline output for every round
                for folder in ("warehouse", "baseline"):
                    shutil.rmtree(run_dir / folder, ignore_errors=True)
            label = f" (round {index + 1} of {rounds})" if rounds > 1 else ""
            order = ("baseline", "dbt") if index % 2 == 0 else ("dbt", "baseline")
            for part in (part for part in order if part in parts):
                if part == "baseline":
                    runs[part].append(
                        self.baseline_part(run_dir, raw_dir, f"{name}: baseline{label}", actions)
                    )
                else:
                    runs[part].append(
                        self.dbt_part("build", run_dir, raw_dir, name, actions, label)
                    )
        chosen = {part: found for part, found in runs.items() if found}
        if rounds == 1:
            return {part: found[0] for part, found in chosen.items()}
        return {part: report.median_run(found) for part, found in chosen.items()}

    def check(self, run_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
        from ecom_analytics.bench.compare import mart_differences

        if (entry.get("dbt") or {}).get("status") != "ok" or (entry.get("baseline") or {}).get(
            "status"
        ) != "ok":
            return {"equal": None, "differences": ["not compared: dbt or the baseline failed"]}
        differences = mart_differences(
            run_dir / "warehouse" / "warehouse", "ecom", run_dir / "baseline"
        )
        self.log(
            f"bench: {entry['name']}: baseline marts "
            + ("equal dbt's" if not differences else "DIFFER from dbt's: " + differences[0])
        )
        return {"equal": not differences, "differences": differences}

    def stream_part(self, source: str) -> dict[str, Any]:
        run_dir = self.workdir / "runs" / f"stream-{source}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        result = run_dir / "stream.json"
        argv = [
            sys.executable,
            "-m",
            "ecom_analytics.bench.stream_probe",
            "--rates",
            self.args.stream_rates,
            "--trigger-seconds",
            str(self.args.stream_trigger),
            "--seconds",
            str(self.args.stream_seconds),
            "--warmup-batches",
            str(self.args.stream_warmup_batches),
            "--source",
            source,
            "--workdir",
            str(run_dir),
            "--json",
            str(result),
        ]
        env = {"ECOM_WAREHOUSE_DIR": str(run_dir / "warehouse")}
        outcome = self.child(argv, f"stream ({source})", run_dir / "stream.log", env)
        figures = report.outcome_figures(outcome, 0)
        figures.pop("actions_per_second")
        if result.exists():
            figures.update(json.loads(result.read_text(encoding="utf-8")))
        if not self.args.keep:
            shutil.rmtree(run_dir / "warehouse", ignore_errors=True)
        return figures

    # --- the run -----------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        try:
            if args.quick:
                scales, skews, parts = (
                    [plan.QUICK_ACTIONS],
                    [plan.Skew()],
                    ("dbt", "baseline", "check"),
                )
                overhead = False
            else:
                scales = [plan.parse_scale(text) for text in args.scales.split(",")]
                skews = [plan.parse_skew(text) for text in args.skews.split(",")]
                parts = plan.parse_parts(args.parts)
                overhead = not args.no_overhead and bool({"dbt", "baseline"} & set(parts))
        except plan.PlanError as error:
            raise CommandError(str(error)) from None
        cases = plan.cases(scales, skews)
        offline = [part for part in parts if part != "stream"]
        self.log(
            f"bench: {len(cases) if offline else 0} case(s) x parts {', '.join(offline) or '-'}"
            + ("; stream" if "stream" in parts else "")
            + f"; budget {args.budget:.0f} s per part; load {os.getloadavg()[0]:.1f}"
        )
        if {"dbt", "tests"} & set(offline):
            self.parse_project()
        if overhead:
            tiny = plan.Case(OVERHEAD_ACTIONS, plan.Skew())
            self.report["overhead"] = self.run_case(
                tiny, tuple(part for part in ("dbt", "baseline") if part in parts), overhead=True
            )
        if offline:
            for case in cases:
                self.report["cases"].append(self.run_case(case, tuple(offline)))
        if "stream" in parts:
            for source in stream_sources(args.stream_sources):
                self.report[report.STREAM_KEYS[source]] = self.stream_part(source)
        report.derive(self.report)
        self.report["targets"] = report.targets(self.report)
        self.report["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.write()
        failed = [
            f"{case['name']} {part}"
            for case in self.report["cases"]
            for part in ("dbt", "tests", "baseline")
            if case.get(part) and case[part]["status"] != "ok"
        ]
        mismatched = [
            case["name"]
            for case in self.report["cases"]
            if (case.get("check") or {}).get("equal") is False
        ]
        if failed or mismatched:
            self.log(
                "bench: problems: "
                + "; ".join(
                    [f"{item} did not finish" for item in failed]
                    + [f"{name}: baseline differs from dbt" for name in mismatched]
                )
            )
            return 1
        return 0

    def write(self) -> None:
        self.output.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        text = json.dumps(self.report, indent=2)
        table = report.markdown(self.report)
        for name in (f"bench-{stamp}", "latest"):
            (self.output / f"{name}.json").write_text(text, encoding="utf-8")
            (self.output / f"{name}.md").write_text(table, encoding="utf-8")
        self.log("\n" + table)
        self.log(f"bench: report in {self.output / f'bench-{stamp}.json'} and .md")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; exit status 1 when a part failed or the baseline's marts differ."""
    if args.budget <= 0:
        raise CommandError("--budget must be a positive number of seconds")
    if args.repeat < 1:
        raise CommandError(f"--repeat must be 1 or more, got {args.repeat}")
    return Bench(args).run()
