"""Error types of the data package.

Each one subclasses the built-in exception a caller would already catch (ValueError for bad
content, FileNotFoundError for a missing file, OSError for a failed download), so code that
knows nothing about gpucnn still handles them, while tests and the CLI can be precise.
Every message names the file (or URL) concerned and says what was wrong with it.
"""


class DataFormatError(ValueError):
    """A data file exists but its content is not what its format promises."""


class DataFileNotFoundError(FileNotFoundError):
    """A file a dataset needs is not where it was looked for."""


class DownloadError(OSError):
    """A file could not be fetched from any mirror."""


class ChecksumError(DownloadError):
    """A fetched file does not match its published checksum, or has no checksum to match."""
