from recon_cli.cli import cli

cli(prog_name="recon")
