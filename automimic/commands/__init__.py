"""Subcommands of ``automimic``, one module per topic; each has ``register(subparsers)``."""
