"""``python -m automimic`` runs the command line."""

from automimic.cli import main

raise SystemExit(main())
