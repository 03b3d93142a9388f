"""The `learnloop` command line (Typer); one module per area, each registering its commands."""
