"""Errors a user can act on. Their message is printed as is, without a traceback."""

import errno


class ConvertError(Exception):
    """A problem with the input, the disk or the environment, explained in words."""

    exit_code = 2


class Interrupted(ConvertError):
    """The user pressed Ctrl-C (or the process got SIGTERM)."""

    exit_code = 130


def describe_os_error(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"Cannot write{where}: {exc.strerror or 'permission denied'}. The output folder is read-only or "
                "not yours: choose another with --outdir.")
    if exc.errno == errno.ENOSPC:
        return f"The disk is full{where}. Free space or choose another --outdir. No partial output was kept."
    return f"{exc.strerror or exc}{where}"
