"""Hive's metastore service from the installed pyspark, for many programs on one warehouse:
`ecom metastore`.

`settings` (what to run, pure), `client` (one request in the metastore protocol), `server`
(start / stop / status, on the machinery every local server shares: `ecom_analytics.services`),
`command` (the CLI) and `MetastoreServer.java` (the service bound to one address).
"""
