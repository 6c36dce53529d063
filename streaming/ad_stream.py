"""The streaming job as a script: `python streaming/ad_stream.py --help`, or under spark-submit:

    spark-submit --packages \
        io.delta:delta-spark_4.2_2.13:4.4.0,org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0 \
        --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
        --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
        streaming/ad_stream.py --source kafka --kafka-bootstrap-servers HOSTS --kafka-topic TOPIC

(the versions of ecom_analytics/jvm_packages.py; `--jars` with the jars of `ecom jars` works too).

Same options as `ecom stream` (this calls it); the `streaming` and `ecom_analytics` packages must
be importable (installed, or shipped with `--py-files`).
"""

from __future__ import annotations

import sys

from ecom_analytics.cli import main

if __name__ == "__main__":
    sys.exit(main(["stream", *sys.argv[1:]]))
