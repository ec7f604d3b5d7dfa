"""Which invoice format a table is: from `--invoice-format`, a profile, or its header.

Auto-detection looks for each format's identifying headers (NCE first, then legacy, then the
built-in distributor profiles); a Graph export is recognised by its container. A file that
looks like a format but lacks one of its required columns is refused there, naming the file,
the missing column and the columns it has.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli.errors import ConfigError, InputError
from recon_cli.formats import TableFormat, header_key, resolve_columns

if TYPE_CHECKING:
    from recon_cli.formats.profiles import Profile
    from recon_cli.load import RawTable

INVOICE_FORMATS = ("auto", "nce", "legacy", "graph")
# Header sets of Partner Center files this version does not reconcile, for a helpful refusal.
OTHER_LAYOUTS = {
    "a legacy usage-based reconciliation export (legacy Azure); give the licence-based file or an NCE invoice":
        ("PretaxCharges", "ConsumedQuantity"),
    "a daily-rated usage export (it complements the invoice; give the invoice reconciliation file)":
        ("UsageDate", "MeterId", "BillingPreTaxTotal"),
}


def invoice_formats() -> dict[str, TableFormat]:
    """Every built-in invoice format by its `--invoice-format` name, in detection order."""
    from recon_cli.formats.distributors import built_in_profiles
    from recon_cli.formats.graph import GRAPH
    from recon_cli.formats.legacy import LEGACY
    from recon_cli.formats.nce import NCE

    return {"nce": NCE, "legacy": LEGACY, "graph": GRAPH, **built_in_profiles()}


def choose_invoice_format(table: RawTable, requested: str = "auto", profile: Profile | None = None
                          ) -> TableFormat:
    """The invoice's format; refuses a table that lacks the chosen format's required columns.

    Args:
        requested: "auto", a format name (`recon formats` lists them) or a profile file (.toml).
        profile: a profile from recon.toml's `[invoice_format]`; used as given.
    """
    if profile is not None:
        fmt = profile.table_format()
        resolve_columns(table.headers, table.where, fmt, f"[invoice_format] {profile.name}")
        return fmt
    if requested.lower().endswith(".toml"):
        from recon_cli.formats.profiles import load_profile

        fmt = load_profile(Path(requested)).table_format()
        resolve_columns(table.headers, table.where, fmt, requested)
        return fmt
    formats = invoice_formats()
    if requested != "auto":
        chosen = formats.get(requested.lower())
        if chosen is None:
            raise ConfigError(f"--invoice-format {requested!r} is not supported; expected one of: "
                              f"{', '.join(['auto', *formats])}, or a profile file (.toml)")
        resolve_columns(table.headers, table.where, chosen, requested)
        return chosen
    if table.kind == "jsonl":
        resolve_columns(table.headers, table.where, formats["graph"], "graph")
        return formats["graph"]
    for fmt in formats.values():
        if fmt.matches(table.headers):
            resolve_columns(table.headers, table.where, fmt)
            return fmt
    keys = {header_key(h) for h in table.headers}
    for description, signature in OTHER_LAYOUTS.items():
        if all(header_key(s) in keys for s in signature):
            raise InputError(f"{table.where}: this looks like {description}")
    # Most of the NCE header present but a signature column gone: an NCE file missing a column,
    # and the message should name that column rather than call the file unknown.
    nce = formats["nce"]
    if sum(header_key(c.source) in keys for c in nce.columns) >= len(nce.columns) // 2:
        resolve_columns(table.headers, table.where, nce)
        absent = ", ".join(repr(c) for c in nce.signature if header_key(c) not in keys)
        raise InputError(f"{table.where}: column(s) {absent} not found; expected a {nce.title} file; "
                         f"the columns are: {', '.join(table.headers)}")
    shown = ", ".join(table.headers[:20]) + (" ..." if len(table.headers) > 20 else "")
    if looks_like_subscriptions(table.headers):
        raise InputError(f"{table.where}: this looks like a subscriptions export (its columns are: {shown}), not the "
                         "provider's invoice; give the invoice first, then the subscriptions: "
                         "recon run INVOICE SUBSCRIPTIONS")
    raise InputError(
        f"{table.where}: not a recognised invoice: expected the Partner Center new-commerce reconciliation "
        f"columns ({', '.join(formats['nce'].signature)}) or another format `recon formats` lists; "
        f"the columns are: {shown or '(none)'}; for another provider, write a profile (--invoice-format FILE.toml)")


def looks_like_invoice(headers: list[str]) -> str | None:
    """The invoice layout a table has, in words ("a provider invoice (...)"), or None: for refusing an
    invoice given where the subscriptions export or the change log belongs."""
    for fmt in invoice_formats().values():
        if fmt.matches(headers):
            return f"a provider invoice ({fmt.title})"
    keys = {header_key(h) for h in headers}
    for description, signature in OTHER_LAYOUTS.items():
        if all(header_key(s) in keys for s in signature):
            return description.split(";")[0]
    return None


def looks_like_subscriptions(headers: list[str]) -> bool:
    """A subscription id, a quantity and a selling price or status: a billing-system export, not an invoice."""
    from recon_cli.formats.subscriptions import SUBSCRIPTIONS

    keys = {header_key(h) for h in headers}

    def has(name: str) -> bool:
        return any(key in keys for key in SUBSCRIPTIONS.column(name).header_keys())

    return has("subscription_id") and has("quantity") and (has("unit_price") or has("status"))
