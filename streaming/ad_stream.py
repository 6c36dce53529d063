"""The streaming job as a script: `python streaming/ad_stream.py --help`, or under spark-submit:

    spark-submit --packages org.apache.spark:spark-sql-kafka-0-10_2.13:<spark version> \
        streaming/ad_stream.py --source kafka --kafka-bootstrap-servers HOSTS --kafka-topic TOPIC

Same options as `ecom stream` (this calls it); the `streaming` and `ecom_analytics` packages must
be importable (installed, or shipped with `--py-files`).
"""

from __future__ import annotations

import sys

from ecom_analytics.cli import main

if __name__ == "__main__":
    sys.exit(main(["stream", *sys.argv[1:]]))
