"""`ecom generate`: the command-line face of the generator (options, errors, summary line)."""

from __future__ import annotations

import argparse
import os
import re
import textwrap
from datetime import date
from pathlib import Path

from ecom_analytics.cli import CommandError
from ecom_analytics.generator.config import SKEW_KINDS, ConfigError, GenerateConfig
from ecom_analytics.generator.dirt import DIRT_KINDS
from ecom_analytics.generator.output import ForeignDataError
from ecom_analytics.generator.pipeline import generate

NAME = "generate"
HELP = "write deterministic mock raw data and ad-click logs"
DESCRIPTION = f"""\
Write deterministic mock data for ecom_analytics (SPEC 1.1 and 1.3):

  RAW_DIR/user_visit_action/date=YYYY-MM-DD/part-00000.parquet   one row per action
  RAW_DIR/user_info/part-00000.parquet                           one row per user
  RAW_DIR/_manifest.json     parameters, rows per dataset and day, dirty rows per kind
  AD_CLICK_DIR/clicks-NNNNN.log, _manifest.json                  with --ad-clicks N > 0

The same options and seed give byte-identical Parquet files. A directory that holds files
without a manifest of this generator is never touched; in one of ours, the previous output is
replaced. Dirty rows (--dirt-share) are spread evenly over these kinds, one defect per row:
{textwrap.fill(", ".join(DIRT_KINDS), width=94, initial_indent="  ", subsequent_indent="  ")}

examples:
  ecom generate                                          # 7 days from 2026-11-16, ~140k actions
  ecom generate --days 10 --sessions-per-day 100000      # ~10M actions
  ecom generate --skew-kind category --skew-share 0.3 --dirt-share 0.01
  ecom generate --ad-clicks 100000 --ad-click-files 20
"""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DEFAULTS = GenerateConfig()


def _iso_date(text: str) -> date:
    """A `yyyy-MM-dd` date, for argparse."""
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"expected a date as yyyy-MM-dd (e.g. 2026-11-16), got {text!r}"
    )


def _option(group: argparse._ArgumentGroup, name: str, kind: type, metavar: str, text: str) -> None:
    """An option whose default is the `GenerateConfig` field of the same name."""
    default = getattr(_DEFAULTS, name.removeprefix("--").replace("-", "_"))
    group.add_argument(
        name, type=kind, metavar=metavar, default=default, help=f"{text} (default: %(default)s)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom generate`."""
    where = parser.add_argument_group("output")
    where.add_argument(
        "--raw-dir",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get("ECOM_RAW_DIR", "data/raw")),
        help="raw data directory (default: $ECOM_RAW_DIR, else data/raw)",
    )
    where.add_argument(
        "--ad-click-dir",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")),
        help="ad-click log directory (default: $ECOM_AD_CLICK_DIR, else data/ad_clicks)",
    )
    where.add_argument(
        "--no-progress", action="store_true", help="do not show the progress bar on stderr"
    )

    actions = parser.add_argument_group("behaviour data")
    _option(actions, "--seed", int, "N", "random seed, 0 or more")
    _option(actions, "--start-date", _iso_date, "YYYY-MM-DD", "first day")
    _option(actions, "--days", int, "N", "number of days")
    _option(actions, "--users", int, "N", "number of users")
    _option(actions, "--sessions-per-day", int, "N", "sessions starting each day")
    _option(actions, "--actions-per-session", float, "MEAN", "mean actions per session, >= 1")
    actions.add_argument(
        "--skew-kind",
        choices=SKEW_KINDS,
        default=_DEFAULTS.skew_kind,
        help="make one hot category or product carry --skew-share of the click/order/pay "
        "actions, or one hot user of all actions (default: %(default)s)",
    )
    _option(actions, "--skew-share", float, "SHARE", "share of the hot key, in [0, 1)")
    _option(
        actions,
        "--dirt-share",
        float,
        "SHARE",
        "share of action rows that break the contract, in [0, 0.5]",
    )

    clicks = parser.add_argument_group("ad-click log")
    _option(clicks, "--ad-clicks", int, "N", "number of lines, 0 for none")
    _option(clicks, "--ad-click-files", int, "K", "number of files, in event-time order")
    _option(clicks, "--ad-users", int, "N", "number of users who click")
    _option(clicks, "--ads", int, "N", "number of ads")
    _option(
        clicks,
        "--ad-heavy-share",
        float,
        "SHARE",
        "share of clicks from a few heavy clickers, each over 100 clicks on one ad in one day",
    )
    _option(clicks, "--ad-malformed-share", float, "SHARE", "share of malformed lines")


def run(args: argparse.Namespace) -> int:
    """Validate the options, generate, print the summary line."""
    try:
        config = GenerateConfig(
            raw_dir=args.raw_dir,
            ad_click_dir=args.ad_click_dir,
            seed=args.seed,
            start_date=args.start_date,
            days=args.days,
            users=args.users,
            sessions_per_day=args.sessions_per_day,
            actions_per_session=args.actions_per_session,
            skew_kind=args.skew_kind,
            skew_share=args.skew_share,
            dirt_share=args.dirt_share,
            ad_clicks=args.ad_clicks,
            ad_click_files=args.ad_click_files,
            ad_users=args.ad_users,
            ads=args.ads,
            ad_heavy_share=args.ad_heavy_share,
            ad_malformed_share=args.ad_malformed_share,
        )
    except ConfigError as error:
        option = "--" + error.field.replace("_", "-")
        raise CommandError(f"{option} {error} (see 'ecom generate --help')") from None
    try:
        summary = generate(config, progress=not args.no_progress)
    except ForeignDataError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write the output: {error}") from None
    print(summary.line())
    return 0
