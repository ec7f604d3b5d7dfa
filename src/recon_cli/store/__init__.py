"""The run store: one SQLite file that `explain`, `confirm`, `runs`, `diff` and `export` read later.

`schema` owns the file (migrations, the columns from the field catalogue), `location` finds it,
`runs` saves and loads whole runs, `lookup` answers `recon explain`, `history` compares runs month
over month, `confirmations` keeps what people confirmed, `access` checks the file before any of
them touches it (folder, permissions, busy, another program's SQLite file). The names below are
the store's interface.
"""

from recon_cli.store.access import APPLICATION_ID, preflight
from recon_cli.store.confirmations import confirm, confirm_many, load_confirmations, stored_confirmations, unconfirm
from recon_cli.store.history import (
    compare_runs,
    customer_subscriptions,
    earlier_states,
    latest_two,
    open_exceptions,
    subscription_history,
)
from recon_cli.store.location import StoreLocation, locate_store, resolve_store_path
from recon_cli.store.lookup import find_explanation
from recon_cli.store.runs import list_runs, load_result, prune_runs, save_run
from recon_cli.store.schema import MIGRATIONS, load_summary, new_run_id, open_store

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "StoreLocation",
    "compare_runs",
    "confirm",
    "confirm_many",
    "customer_subscriptions",
    "earlier_states",
    "find_explanation",
    "latest_two",
    "list_runs",
    "load_confirmations",
    "load_result",
    "load_summary",
    "locate_store",
    "new_run_id",
    "open_exceptions",
    "open_store",
    "preflight",
    "prune_runs",
    "resolve_store_path",
    "save_run",
    "stored_confirmations",
    "subscription_history",
    "unconfirm",
]
