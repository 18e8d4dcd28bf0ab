"""Errors a user can act on. Their message is printed as is, without a traceback."""


class ConvertError(Exception):
    """A problem with the input, the disk or the environment, explained in words."""

    exit_code = 2


class Interrupted(ConvertError):
    """The user pressed Ctrl-C (or the process got SIGTERM)."""

    exit_code = 130
