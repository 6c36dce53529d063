"""A local Spark Thrift Server (with Spark Connect) from the installed pyspark: `ecom thrift`.

`settings` (what to run, pure), `processes` (PID file, whose process, stopping a process tree),
`probes` (does each protocol answer), `sockets` (where a process listens, Linux), `server`
(start / stop / status) and `command` (the CLI).
"""
