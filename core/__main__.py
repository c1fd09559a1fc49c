"""`python -m core …`: the command-line interface (see core/cli.py)."""

from core.cli import main

raise SystemExit(main())
