"""Errors the commands report as one line ("Error: ...") instead of a traceback."""


class UserError(Exception):
    """Bad input from the user (options, files, checkpoints): the message says what and where."""
