"""`ecom generate`: the command-line face of the generator (options, errors, summary line)."""

from __future__ import annotations

import argparse
import os
import re
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
replaced. Dirty rows (--dirt-share) come in these kinds, one defect per row:
{", ".join(DIRT_KINDS)}.

examples:
  ecom generate                                   # 7 days from 2026-11-16, ~140k actions
  ecom generate --days 10 --sessions-per-day 100000            # ~10M actions
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom generate`."""
    where = parser.add_argument_group("output")
    where.add_argument(
        "--raw-dir",
        type=Path,
        default=Path(os.environ.get("ECOM_RAW_DIR", "data/raw")),
        help="raw data directory (default: $ECOM_RAW_DIR, else data/raw)",
    )
    where.add_argument(
        "--ad-click-dir",
        type=Path,
        default=Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")),
        help="ad-click log directory (default: $ECOM_AD_CLICK_DIR, else data/ad_clicks)",
    )
    where.add_argument(
        "--no-progress", action="store_true", help="do not show the progress bar on stderr"
    )

    shape = parser.add_argument_group("behaviour data")
    shape.add_argument(
        "--seed", type=int, default=_DEFAULTS.seed, help="random seed, >= 0 (default: %(default)s)"
    )
    shape.add_argument(
        "--start-date",
        type=_iso_date,
        default=_DEFAULTS.start_date,
        help="first day, yyyy-MM-dd (default: %(default)s)",
    )
    shape.add_argument(
        "--days", type=int, default=_DEFAULTS.days, help="number of days (default: %(default)s)"
    )
    shape.add_argument(
        "--users", type=int, default=_DEFAULTS.users, help="number of users (default: %(default)s)"
    )
    shape.add_argument(
        "--sessions-per-day",
        type=int,
        default=_DEFAULTS.sessions_per_day,
        help="sessions starting each day (default: %(default)s)",
    )
    shape.add_argument(
        "--actions-per-session",
        type=float,
        default=_DEFAULTS.actions_per_session,
        help="mean actions per session, >= 1; heavy-tailed (default: %(default)s)",
    )
    shape.add_argument(
        "--skew-kind",
        choices=SKEW_KINDS,
        default=_DEFAULTS.skew_kind,
        help="one hot category/product (of click, order and pay actions) or user (of all "
        "actions) carries --skew-share (default: %(default)s)",
    )
    shape.add_argument(
        "--skew-share",
        type=float,
        default=_DEFAULTS.skew_share,
        help="share of the hot key, in [0, 1) (default: %(default)s)",
    )
    shape.add_argument(
        "--dirt-share",
        type=float,
        default=_DEFAULTS.dirt_share,
        help="fraction of action rows that break the contract, in [0, 0.5] (default: %(default)s)",
    )

    ads = parser.add_argument_group("ad-click log")
    ads.add_argument(
        "--ad-clicks",
        type=int,
        default=_DEFAULTS.ad_clicks,
        help="total lines, 0 = none (default: %(default)s)",
    )
    ads.add_argument(
        "--ad-click-files",
        type=int,
        default=_DEFAULTS.ad_click_files,
        help="number of files, in event-time order (default: %(default)s)",
    )
    ads.add_argument(
        "--ad-users",
        type=int,
        default=_DEFAULTS.ad_users,
        help="distinct users (default: %(default)s)",
    )
    ads.add_argument(
        "--ads", type=int, default=_DEFAULTS.ads, help="distinct ads (default: %(default)s)"
    )
    ads.add_argument(
        "--ad-heavy-share",
        type=float,
        default=_DEFAULTS.ad_heavy_share,
        help="share of clicks from a few heavy clickers who exceed 100 clicks on one ad in one "
        "day (default: %(default)s)",
    )
    ads.add_argument(
        "--ad-malformed-share",
        type=float,
        default=_DEFAULTS.ad_malformed_share,
        help="share of malformed lines (default: %(default)s)",
    )


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
