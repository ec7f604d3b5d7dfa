"""The finance workbook: `workbook` (sheets, splitting, links) → `summary` (the Summary sheet)
→ `customers` (its customer table and chart) and `tables` (the data sheets' columns, from the
field catalogue) → `cells` (values, styles, streamed row XML). openpyxl lives here only.

Import `recon_cli.outputs.xlsx.workbook.write_xlsx`; this file imports nothing, so the
package costs nothing until a workbook is written.
"""
