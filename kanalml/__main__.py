"""``python -m kanalml``: the same as the ``kanalml`` command."""

from kanalml.cli import main

raise SystemExit(main())
