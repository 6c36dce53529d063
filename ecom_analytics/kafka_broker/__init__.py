"""A local Apache Kafka broker (KRaft, one node) from the pinned Kafka jars: `ecom kafka`.

`settings` (what to run: server.properties, the java command lines; pure), `client` (requests to
a broker through confluent-kafka: metadata, topics), `broker` (start / stop / status on the
machinery every local server shares, `ecom_analytics.services`) and `command` (the CLI).
"""
