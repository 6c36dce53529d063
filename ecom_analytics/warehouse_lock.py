"""Whether another program holds the embedded warehouse (SPEC 5), asked before Spark starts.

The embedded metastore is a Derby database in `$ECOM_WAREHOUSE_DIR/metastore_db`, which admits
one program at a time (dbt's adapter asks the same before its session starts).
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.adapters.sparkoss import derby_lock

METASTORE = "metastore_db"


class WarehouseLockedError(RuntimeError):
    """Another program holds the warehouse; the message says what to do."""


def holder(warehouse: str | os.PathLike[str]) -> int | None:
    """0 or the pid of the other process holding the warehouse's metastore; None when free."""
    return derby_lock.holder(Path(warehouse) / METASTORE)


def check_free(warehouse: str | os.PathLike[str]) -> None:
    """WarehouseLockedError when another program holds the warehouse's embedded metastore."""
    pid = holder(warehouse)
    if pid is not None:
        raise WarehouseLockedError(derby_lock.held_message(str(warehouse), pid))
