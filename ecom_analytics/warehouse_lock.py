"""One warehouse, several programs: can this one open the warehouse's metastore? (SPEC 5)

Without `ECOM_METASTORE_URI` every program opens the warehouse's embedded Derby metastore,
which admits one program at a time: a second one stops here, before its JVM starts, with one
line naming the program that holds it and how to run several at once (the metastore service of
`ecom metastore start`, named in `ECOM_METASTORE_URI`). With it, a service that does not answer
is reported the same way. The checks are the adapter's (`dbt.adapters.sparkoss.metastore`),
which runs them for dbt too, with the same advice from profiles.yml (a test keeps them equal).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ENV_METASTORE_URI = "ECOM_METASTORE_URI"


class WarehouseUnavailable(RuntimeError):
    """The warehouse's metastore cannot be opened now; the message says why and what to do."""


def metastore_uri(env: Mapping[str, str] = os.environ) -> str | None:
    """`$ECOM_METASTORE_URI`: the shared metastore service every program uses; None: the
    warehouse's embedded metastore."""
    return (env.get(ENV_METASTORE_URI) or "").strip() or None


def advice(env: Mapping[str, str] = os.environ) -> str:
    """What to do when the metastore cannot be opened (profiles.yml says the same to dbt)."""
    if metastore_uri(env):
        return (
            "Start it with `ecom metastore start` (on the same ECOM_WAREHOUSE_DIR), or unset "
            "ECOM_METASTORE_URI to use the embedded metastore of the warehouse (docs/metastore.md)."
        )
    return (
        "To run several programs on one warehouse, start its metastore service (`ecom "
        "metastore start`; `ecom metastore status` shows its URI) and set ECOM_METASTORE_URI "
        "to that URI for every program (docs/metastore.md)."
    )


def check(conf: Mapping[str, str], env: Mapping[str, str] = os.environ) -> None:
    """WarehouseUnavailable when the metastore of these Spark settings cannot be opened now."""
    from dbt.adapters.sparkoss.metastore import MetastoreUnavailable, check_metastore

    try:
        check_metastore(conf, advice(env))
    except MetastoreUnavailable as problem:
        raise WarehouseUnavailable(str(problem)) from None
