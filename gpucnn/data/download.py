"""Optional, verified downloads of mnist, fashion-mnist and cifar10 into a local cache.

Rules this module keeps, because a half-written or tampered file in the cache would be
trusted by every later run:

* Every file is checked against a published checksum before it is used. A file with no
  known checksum is refused rather than used unverified.
* A download is written to a temporary file in the destination directory, verified, then
  moved into place with `os.replace` (atomic on one filesystem). A failed, interrupted or
  mismatching download therefore never leaves anything under the final name, and the
  temporary file is removed.
* The cifar10 archive is unpacked member by member: only regular files and directories,
  and only inside the target directory (no absolute paths, no "..", no links).

The checksum table and the mirror URLs are arguments (`checksums=`, `base_url=`), so tests
and private mirrors can substitute their own; `base_url` may also come from the environment
(GPUCNN_MNIST_URL, GPUCNN_FASHION_MNIST_URL, GPUCNN_CIFAR10_URL). Only the standard library
is used (urllib, hashlib, tarfile).
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Callable, Mapping, Sequence

from .cifar import find_cifar_dir
from .errors import ChecksumError, DataFileNotFoundError, DataFormatError, DownloadError
from .idx import IDX_FILES, find_idx_file

# Official mirrors, tried in order. MNIST: PyTorch's copy on S3 (torchvision's default), then
# Google's (TensorFlow's); yann.lecun.com is left out, it has refused downloads for years.
# Fashion-MNIST: the files committed in Zalando's repository, then Zalando's S3 website (HTTP
# only; the MD5 check still applies). CIFAR-10: the dataset authors' page.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}

URL_ENV = {"mnist": "GPUCNN_MNIST_URL", "fashion-mnist": "GPUCNN_FASHION_MNIST_URL",
           "cifar10": "GPUCNN_CIFAR10_URL"}
CACHE_ENV = "GPUCNN_DATA"

# Published checksums of the official files, "algorithm:hexdigest". The MNIST and
# Fashion-MNIST MD5s are the ones torchvision's MNIST/FashionMNIST classes check (the two MNIST
# t10k ones were also confirmed against the real files in ../shared/data/mnist); the CIFAR-10
# MD5 is the one printed next to the download link on https://www.cs.toronto.edu/~kriz/cifar.html.
# MD5 is what the publishers give; here it guards against damaged or swapped files.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
    },
    "cifar10": {
        "cifar-10-binary.tar.gz": "md5:c32a1d4ab5d03f1284b67883e8d87530",
    },
}

CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"
_ALLOWED_SCHEMES = ("http://", "https://", "file://")
_CHUNK = 1 << 20
_USER_AGENT = "gpucnn-data/0.1 (+urllib)"


def default_cache_dir(name: str) -> Path:
    """`$GPUCNN_DATA/<name>` if GPUCNN_DATA is set, else `~/.cache/gpucnn/<name>`."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "gpucnn"
    return base / name


def _parse_checksum(checksum: str) -> tuple[str, str]:
    algorithm, sep, digest = str(checksum).partition(":")
    algorithm = algorithm.lower()
    if not sep or algorithm not in hashlib.algorithms_available or not digest:
        raise ValueError(f"checksum must look like 'md5:<hex>' or 'sha256:<hex>', got {checksum!r}")
    return algorithm, digest.lower()


def _new_hash(algorithm: str):
    # usedforsecurity=False lets MD5 work on FIPS-mode systems; it is an integrity check here.
    return hashlib.new(algorithm, usedforsecurity=False)


def file_digest(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = _new_hash(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path, checksum: str) -> None:
    """Raise ChecksumError unless `path` matches `checksum` ("md5:<hex>" / "sha256:<hex>")."""
    algorithm, expected = _parse_checksum(checksum)
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise ChecksumError(f"{path}: {algorithm} {actual} does not match the expected {expected}")


def checksum_for(name: str, filename: str, checksums: Mapping[str, str] | None = None) -> str:
    """The expected checksum of `filename`, from `checksums` or the built-in table.

    Raises ChecksumError when there is none: an unverifiable file is never used.
    """
    table = CHECKSUMS.get(name, {}) if checksums is None else checksums
    try:
        return table[filename]
    except KeyError:
        raise ChecksumError(
            f"{name}: no known checksum for {filename}; refusing to download a file that "
            f"cannot be verified (pass checksums={{{filename!r}: 'sha256:...'}})") from None


def download_file(url: str, dest, checksum: str, timeout: float = 60.0,
                  progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Fetch `url` to `dest` atomically, keeping it only if it matches `checksum`.

    `progress(received_bytes, total_bytes_or_None)` is called after each chunk if given.
    On any failure (network error, short read, checksum mismatch, interruption) the
    temporary file is deleted and nothing exists under `dest` that was not there before.
    """
    if not url.startswith(_ALLOWED_SCHEMES):
        raise DownloadError(f"{url}: only http, https and file URLs are fetched")
    algorithm, expected = _parse_checksum(checksum)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Same directory as dest, so os.replace is a rename on one filesystem (atomic); the
    # leading dot and .part suffix keep a leftover (after a kill -9) from looking like data.
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest = _new_hash(algorithm)
        received = 0
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    declared = response.headers.get("Content-Length")
                    total = int(declared) if declared and declared.isdigit() else None
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if progress is not None:
                            progress(received, total)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                raise DownloadError(f"{url}: download failed ({e})") from e
            # http.client does not raise when the server closes early while reading in
            # chunks, so a cut connection is detected by counting.
            if total is not None and received != total:
                raise DownloadError(f"{url}: connection closed after {received} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"{url}: {algorithm} of the downloaded file is {actual}, expected {expected}; "
                f"file discarded")
        os.replace(tmp, dest)
    except BaseException:
        # BaseException too: a KeyboardInterrupt mid-download must not leave the .part file.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return dest


def _base_urls(name: str, base_url: str | Sequence[str] | None) -> tuple[str, ...]:
    if base_url is None:
        base_url = os.environ.get(URL_ENV.get(name, ""), "") or MIRRORS[name]
    if isinstance(base_url, str):
        base_url = (base_url,)
    return tuple(u.rstrip("/") + "/" for u in base_url)


def fetch_file(name: str, filename: str, dest_dir, base_url=None,
               checksums: Mapping[str, str] | None = None, timeout: float = 60.0,
               progress=None) -> Path:
    """Download `filename` of dataset `name` into `dest_dir`, trying each mirror in turn.

    A file already there is kept if it matches its checksum, and replaced otherwise.
    """
    checksum = checksum_for(name, filename, checksums)
    dest = Path(dest_dir) / filename
    if dest.is_file():
        try:
            verify_file(dest, checksum)
            return dest
        except ChecksumError:
            pass  # a stale or damaged copy: fetch a good one over it (atomically)
    errors: list[DownloadError] = []
    for base in _base_urls(name, base_url):
        try:
            return download_file(base + filename, dest, checksum, timeout=timeout, progress=progress)
        except DownloadError as e:
            errors.append(e)
    kind = ChecksumError if all(isinstance(e, ChecksumError) for e in errors) else DownloadError
    raise kind(f"{name}: could not download {filename}:\n  " + "\n  ".join(str(e) for e in errors))


def safe_extract(archive, dest_dir) -> list[Path]:
    """Unpack a tar archive into `dest_dir`, refusing anything that could escape it.

    Every member is checked before anything is written: absolute names, ".." components,
    names resolving outside `dest_dir`, and members that are not regular files or
    directories (symlinks, hard links, devices) make the whole archive rejected with a
    DataFormatError. Files are written through a temporary name, like downloads.
    Returns the paths of the files written.
    """
    archive = Path(archive)
    dest = Path(dest_dir).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataFormatError(f"{archive}: not a readable tar archive ({e})") from e
    written = []
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataFormatError(f"{archive}: damaged tar archive ({e})") from e
        for m in members:
            parts = PurePosixPath(m.name).parts
            target = (dest / m.name).resolve()
            if m.name.startswith(("/", "\\")) or ".." in parts or not target.is_relative_to(dest):
                raise DataFormatError(
                    f"{archive}: member {m.name!r} would be written outside {dest}; refusing to extract")
            if not (m.isfile() or m.isdir()):
                raise DataFormatError(
                    f"{archive}: member {m.name!r} is not a regular file or directory "
                    f"(link or device); refusing to extract")
        for m in members:
            target = dest / m.name
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out, tar.extractfile(m) as src:
                    shutil.copyfileobj(src, out, _CHUNK)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            written.append(target)
    return written


def download_dataset(name: str, data_dir=None, base_url=None,
                     checksums: Mapping[str, str] | None = None, timeout: float = 60.0,
                     progress=None) -> Path:
    """Make sure the files of `name` are in `data_dir` (default: the cache), fetching what is missing.

    Files already present are not fetched again. Returns the data directory.
    """
    if name not in MIRRORS:
        raise ValueError(f"no download is defined for {name!r}; downloadable: {', '.join(MIRRORS)}")
    data_dir = Path(data_dir) if data_dir is not None else default_cache_dir(name)
    data_dir.mkdir(parents=True, exist_ok=True)
    kwargs = dict(base_url=base_url, checksums=checksums, timeout=timeout, progress=progress)
    if name == "cifar10":
        try:
            find_cifar_dir(data_dir)
            return data_dir
        except DataFileNotFoundError:
            pass
        archive = fetch_file(name, CIFAR_ARCHIVE, data_dir, **kwargs)
        safe_extract(archive, data_dir)
        find_cifar_dir(data_dir)  # the archive must have held the expected files
        archive.unlink()  # 170 MB the loader never reads again
        return data_dir
    for pair in IDX_FILES.values():
        for stem in pair:
            if find_idx_file(data_dir, stem) is None:
                fetch_file(name, stem + ".gz", data_dir, **kwargs)
    return data_dir
