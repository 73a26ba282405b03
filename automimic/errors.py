"""The command line's own error: bad usage or bad input that is not a file format problem."""


class CliError(ValueError):
    """A user error found by the command line; printed as one line, exit code 2."""
