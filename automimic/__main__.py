"""``python -m automimic`` runs the command line."""

from automimic.cli import main

if __name__ == "__main__":  # not when a worker process of ``pautomac --jobs`` imports this module
    raise SystemExit(main())
