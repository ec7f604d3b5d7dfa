"""Rich renderables for the terminal: `run` (the `recon run` summary), `explain` (one line or
subscription), `listing` (`recon runs`, `recon formats`), on the helpers of `common`.

They build renderables only: never print and never make a Console (the CLI does, per call,
STYLE rule 18). `recon explain` and `recon runs` import them, so nothing here imports pandas:
`run_report` uses the methods of the frames it is given. This file imports nothing.
"""
