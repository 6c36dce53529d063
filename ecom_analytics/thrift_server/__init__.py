"""A local Spark Thrift Server (with Spark Connect) from the installed pyspark: `ecom thrift`.

`settings` (what to run, pure), `probes` (does each protocol answer), `server` (start / stop /
status, on the machinery every local server shares: `ecom_analytics.services`) and `command`
(the CLI).
"""
