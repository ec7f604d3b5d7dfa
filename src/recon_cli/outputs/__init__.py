"""Everything a run is written as: the terminal report, JSON, CSV and the xlsx workbook.

Imports point one way: `files` (atomic writes, formula-safe text) and `values` (plain value
conversions) are the low modules; `json`, `csv` and `xlsx/` use them; `terminal/` stands
apart (rich only). Column lists come from the field catalogue in `recon_cli.records`.
This file imports nothing: `recon explain` and `recon runs` import the package.
"""
