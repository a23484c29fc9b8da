"""`python -m fedi_tui` runs the same entry point as the `fedi-tui` command."""

from fedi_tui.cli import main

raise SystemExit(main())
