"""Deterministic mock data for ecom_analytics: SPEC 1.1 raw behaviour data, SPEC 1.3 ad clicks.

One job per module:

- `catalog`: the fixed reference tables (cities, products and their categories, keywords, ...).
- `sampling`: Zipf weights and weighted draws shared by the other modules.
- `config`: the validated parameters of one run.
- `users`: the `user_info` dataset.
- `sessions`: when sessions start, how long they last, which pages they walk.
- `actions`: what each action is (search, click, order, pay) and which products it touches.
- `frame`: the column-wise container of actions the other modules pass around.
- `tables`: Arrow schemas and the conversion of a day's actions into an Arrow table.
- `dirt`: rows that break the contract, one defect each, counted exactly.
- `adclicks`: ad-click log lines (also used by the streaming producer).
- `output`: overwrite safety, Parquet and log writing, `_manifest.json`.
- `pipeline`: the day-by-day run that ties these together.
- `command`: the `ecom generate` subcommand.

Everything is drawn from NumPy generators seeded from `--seed` (one stream per purpose and day),
so the same parameters give byte-identical files.
"""

GENERATOR_NAME = "ecom_analytics.generator"
GENERATOR_VERSION = "1.0.0"
