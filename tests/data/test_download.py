"""Downloads against a local HTTP server on 127.0.0.1 that the tests start themselves.

Nothing here reaches the internet: every URL points at the local server, whose synthetic
files are verified with a checksum table the tests pass in (`checksums=`).
"""
import gzip
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from gpucnn.data import (CHECKSUMS, ChecksumError, DataFormatError, DownloadError,
                         default_cache_dir, download_file, load_dataset, safe_extract)
from gpucnn.data.download import MIRRORS, fetch_file

from .synth import CIFAR_TEST, CIFAR_TRAIN, cifar_records, idx_bytes, mnist_like


class _Handler(http.server.BaseHTTPRequestHandler):
    # Set per server: {url path: bytes}; paths under /short/ declare more bytes than they send.
    routes: dict = {}
    log: list = []

    def do_GET(self):
        self.log.append(self.path)
        short = self.path.startswith("/short/")
        body = self.routes.get(self.path[len("/short"):] if short else self.path)
        if body is None:
            self.send_error(404, "not found")
            return
        if short:  # simulate a connection cut mid-transfer
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(monkeypatch):
    """Serve `server.routes` on 127.0.0.1:<free port>; yields an object with .url, .routes, .log."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")  # a proxy from the environment must not intercept 127.0.0.1
    handler = type("Handler", (_Handler,), {"routes": {}, "log": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


def files_in(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- one file ------------------------------------------------------------------------------

def test_download_file_verified_and_atomic(server, tmp_path):
    body = b"x" * 3_000_000  # several chunks
    server.routes["/f.bin"] = body
    seen = []
    dest = download_file(server.url + "/f.bin", tmp_path / "f.bin", sha256(body),
                         progress=lambda got, total: seen.append((got, total)))
    assert dest.read_bytes() == body
    assert files_in(tmp_path) == ["f.bin"]  # no temporary file left
    assert seen[-1] == (len(body), len(body)) and len(seen) >= 3


def test_md5_checksums_accepted(server, tmp_path):
    server.routes["/f.bin"] = b"hello"
    download_file(server.url + "/f.bin", tmp_path / "f.bin", md5(b"hello"))
    assert (tmp_path / "f.bin").read_bytes() == b"hello"


def test_wrong_checksum_refused_and_nothing_left(server, tmp_path):
    server.routes["/f.bin"] = b"tampered"
    with pytest.raises(ChecksumError, match="expected") as info:
        download_file(server.url + "/f.bin", tmp_path / "f.bin", sha256(b"original"))
    assert "/f.bin" in str(info.value)
    assert files_in(tmp_path) == []


def test_cut_connection_leaves_no_partial_file(server, tmp_path):
    body = b"y" * 100_000
    server.routes["/f.bin"] = body
    with pytest.raises(DownloadError, match="closed after 50000 of 100000 bytes"):
        download_file(server.url + "/short/f.bin", tmp_path / "f.bin", sha256(body))
    assert files_in(tmp_path) == []


def test_http_error_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download_file(server.url + "/missing.bin", tmp_path / "f.bin", sha256(b""))
    assert files_in(tmp_path) == []


def test_interrupt_mid_download_leaves_no_file(server, tmp_path):
    body = b"z" * 3_000_000
    server.routes["/f.bin"] = body

    def interrupt(got, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_file(server.url + "/f.bin", tmp_path / "f.bin", sha256(body), progress=interrupt)
    assert files_in(tmp_path) == []


def test_failed_download_keeps_the_previous_file(server, tmp_path):
    (tmp_path / "f.bin").write_bytes(b"old and good")
    server.routes["/f.bin"] = b"new but bad"
    with pytest.raises(ChecksumError):
        download_file(server.url + "/f.bin", tmp_path / "f.bin", sha256(b"something else"))
    assert (tmp_path / "f.bin").read_bytes() == b"old and good"
    assert files_in(tmp_path) == ["f.bin"]


def test_unknown_scheme_refused(tmp_path):
    with pytest.raises(DownloadError, match="only http"):
        download_file("ftp://127.0.0.1/f.bin", tmp_path / "f.bin", sha256(b""))


def test_file_without_checksum_is_refused_before_any_request(server, tmp_path):
    server.routes["/a/unlisted.gz"] = b"data"
    with pytest.raises(ChecksumError, match="no known checksum for unlisted.gz"):
        fetch_file("mnist", "unlisted.gz", tmp_path, base_url=server.url + "/a", checksums={})
    assert server.log == [] and files_in(tmp_path) == []


def test_mirrors_tried_in_order(server, tmp_path):
    server.routes["/good/f.gz"] = b"payload"
    path = fetch_file("mnist", "f.gz", tmp_path, base_url=[server.url + "/bad", server.url + "/good/"],
                      checksums={"f.gz": sha256(b"payload")})
    assert path.read_bytes() == b"payload"
    assert server.log == ["/bad/f.gz", "/good/f.gz"]


def test_all_mirrors_bad_checksum_is_a_checksum_error(server, tmp_path):
    server.routes["/m1/f.gz"] = b"bad1"
    server.routes["/m2/f.gz"] = b"bad2"
    with pytest.raises(ChecksumError) as info:
        fetch_file("mnist", "f.gz", tmp_path, base_url=[server.url + "/m1", server.url + "/m2"],
                   checksums={"f.gz": sha256(b"good")})
    assert "/m1/f.gz" in str(info.value) and "/m2/f.gz" in str(info.value)
    assert files_in(tmp_path) == []


def test_existing_good_file_not_downloaded_again_damaged_one_replaced(server, tmp_path):
    server.routes["/f.gz"] = b"good"
    table = {"f.gz": sha256(b"good")}
    (tmp_path / "f.gz").write_bytes(b"good")
    fetch_file("mnist", "f.gz", tmp_path, base_url=server.url, checksums=table)
    assert server.log == []
    (tmp_path / "f.gz").write_bytes(b"goo")  # damaged copy
    fetch_file("mnist", "f.gz", tmp_path, base_url=server.url, checksums=table)
    assert server.log == ["/f.gz"] and (tmp_path / "f.gz").read_bytes() == b"good"


# --- whole datasets ------------------------------------------------------------------------

def serve_mnist(server, prefix="/mnist"):
    """Synthetic MNIST .gz files on the server; returns (checksum table, arrays)."""
    table, arrays = {}, {}
    for split, n in (("train", 12), ("t10k", 8)):
        images, labels = mnist_like(n, seed=n)
        arrays[split] = (images, labels)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte.gz"
            body = gzip.compress(idx_bytes(arr))
            server.routes[f"{prefix}/{name}"] = body
            table[name] = sha256(body)
    return table, arrays


def test_load_dataset_mnist_download(server, tmp_path):
    table, arrays = serve_mnist(server)
    train, test = load_dataset("mnist", data_dir=tmp_path, download=True,
                               base_url=server.url + "/mnist", checksums=table)
    assert (len(train), len(test)) == (12, 8)
    np.testing.assert_array_equal(np.rint(test.images[:, 0] * 255), arrays["t10k"][0])
    assert files_in(tmp_path) == sorted(table)
    requests = len(server.log)
    load_dataset("mnist", data_dir=tmp_path, download=True, base_url=server.url + "/mnist", checksums=table)
    assert len(server.log) == requests == 4  # nothing fetched twice


def test_only_missing_files_are_fetched(server, tmp_path):
    table, _ = serve_mnist(server)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(8, dtype=np.uint8) % 10))
    load_dataset("mnist", data_dir=tmp_path, download=True, base_url=server.url + "/mnist", checksums=table)
    assert sorted(server.log) == sorted(f"/mnist/{n}" for n in table if not n.startswith("t10k-labels"))


def test_bad_file_in_dataset_download_leaves_nothing(server, tmp_path):
    table, _ = serve_mnist(server)
    table["train-labels-idx1-ubyte.gz"] = sha256(b"not what is served")
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz"):
        load_dataset("mnist", data_dir=tmp_path, download=True, base_url=server.url + "/mnist", checksums=table)
    assert "train-labels-idx1-ubyte.gz" not in files_in(tmp_path)
    assert not any(name.endswith(".part") for name in files_in(tmp_path))


def test_cache_dir_and_url_from_environment(server, tmp_path, monkeypatch):
    table, _ = serve_mnist(server, prefix="/fm")
    monkeypatch.setenv("GPUCNN_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("GPUCNN_FASHION_MNIST_URL", server.url + "/fm/")
    assert default_cache_dir("fashion-mnist") == tmp_path / "cache" / "fashion-mnist"
    train, _ = load_dataset("fashion-mnist", download=True, checksums=table)
    assert train.classes[-1] == "Ankle boot" and len(train) == 12
    assert files_in(tmp_path / "cache" / "fashion-mnist") == sorted(table)


def test_default_cache_dir_without_environment(monkeypatch):
    from pathlib import Path

    monkeypatch.delenv("GPUCNN_DATA", raising=False)
    assert default_cache_dir("mnist") == Path.home() / ".cache" / "gpucnn" / "mnist"


def cifar_archive(extra=()):
    """A gzipped tar shaped like the official one, plus any `extra` (TarInfo, bytes) members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        d = tarfile.TarInfo("cifar-10-batches-bin")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
        for i, name in enumerate(CIFAR_TRAIN + (CIFAR_TEST, "batches.meta.txt")):
            data = cifar_records([i % 10, (i + 1) % 10], seed=i)[0] if name.endswith(".bin") else b"airplane\n"
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def test_load_dataset_cifar10_download_and_extract(server, tmp_path):
    body = cifar_archive()
    server.routes["/kriz/cifar-10-binary.tar.gz"] = body
    train, test = load_dataset("cifar10", data_dir=tmp_path, download=True, base_url=server.url + "/kriz",
                               checksums={"cifar-10-binary.tar.gz": md5(body)})
    assert (len(train), len(test)) == (10, 2) and train.images.shape[1:] == (3, 32, 32)
    assert files_in(tmp_path) == ["cifar-10-batches-bin"]  # archive removed after extraction
    load_dataset("cifar10", data_dir=tmp_path, download=True, base_url=server.url + "/kriz",
                 checksums={"cifar-10-binary.tar.gz": md5(body)})
    assert len(server.log) == 1


def _member(name, kind=tarfile.REGTYPE, data=b"evil", linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (data if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("member", [
    _member("../evil.bin"),
    _member("cifar-10-batches-bin/../../evil.bin"),
    _member("/tmp/gpucnn-evil-absolute.bin"),
    _member("cifar-10-batches-bin/link", tarfile.SYMTYPE, linkname="/etc/passwd"),
    _member("cifar-10-batches-bin/hard", tarfile.LNKTYPE, linkname="cifar-10-batches-bin/test_batch.bin"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink"])
def test_safe_extract_rejects_escaping_members(tmp_path, member):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(cifar_archive(extra=[member]))
    dest = tmp_path / "out"
    with pytest.raises(DataFormatError, match="refusing to extract") as info:
        safe_extract(archive, dest)
    assert member[0].name in str(info.value)
    assert files_in(dest) == []  # checked before anything is written
    assert not (tmp_path / "evil.bin").exists()


def test_hostile_archive_via_download_is_refused(server, tmp_path):
    body = cifar_archive(extra=[_member("../evil.bin")])
    server.routes["/cifar-10-binary.tar.gz"] = body
    with pytest.raises(DataFormatError, match="outside"):
        load_dataset("cifar10", data_dir=tmp_path / "c", download=True, base_url=server.url,
                     checksums={"cifar-10-binary.tar.gz": md5(body)})
    assert not (tmp_path / "evil.bin").exists()


def test_safe_extract_rejects_non_tar(tmp_path):
    p = tmp_path / "x.tar.gz"
    p.write_bytes(b"not a tar")
    with pytest.raises(DataFormatError, match="x.tar.gz"):
        safe_extract(p, tmp_path / "out")


def test_builtin_table_covers_every_official_file():
    for name in MIRRORS:
        assert CHECKSUMS[name], name
        for filename, checksum in CHECKSUMS[name].items():
            algorithm, digest = checksum.split(":")
            assert algorithm == "md5" and len(digest) == 32 and int(digest, 16) >= 0, filename
    assert set(CHECKSUMS["mnist"]) == set(CHECKSUMS["fashion-mnist"]) == {
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
