"""The finance workbook: `workbook` (sheets, splitting, links) → `summary` (the Summary sheet)
→ `cells` (columns from the catalogue, styles, streamed row XML). openpyxl lives here only.

Import `recon_cli.outputs.xlsx.workbook.write_xlsx`; this file imports nothing, so the
package costs nothing until a workbook is written.
"""
