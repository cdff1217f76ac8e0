"""`qbsf bench …`: the benchmarks whose figures go in docs/benchmarks.md."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks. Results belong in docs/benchmarks.md with the command that produced them.",
                  no_args_is_help=True)
