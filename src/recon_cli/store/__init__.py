"""The run store: one SQLite file that `explain`, `confirm`, `runs` and `export` read later.

`schema` owns the file (location, migrations, the columns from the field catalogue), `runs`
saves and loads whole runs, `lookup` answers `recon explain`, `confirmations` keeps what people
confirmed, `access` checks the file before any of them touches it (folder, permissions, busy,
another program's SQLite file). The names below are the store's interface.
"""

from recon_cli.store.access import APPLICATION_ID, preflight
from recon_cli.store.confirmations import confirm, load_confirmations, stored_confirmations, unconfirm
from recon_cli.store.lookup import find_explanation
from recon_cli.store.runs import list_runs, load_result, save_run
from recon_cli.store.schema import MIGRATIONS, load_summary, new_run_id, open_store, resolve_store_path

__all__ = ["APPLICATION_ID", "MIGRATIONS", "confirm", "find_explanation", "list_runs", "load_confirmations",
           "load_result", "load_summary", "new_run_id", "open_store", "preflight", "resolve_store_path", "save_run",
           "stored_confirmations", "unconfirm"]
