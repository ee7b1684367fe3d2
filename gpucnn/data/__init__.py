"""Datasets and batching for gpucnn.

    from gpucnn.data import load_dataset, DataLoader
    train, test = load_dataset("digits")                 # embedded, no download
    loader = DataLoader(train, batch_size=64, shuffle=True, seed=0, normalize="auto")
    for images, labels in loader: ...                     # float32 NCHW, int64

Files, one job each: dataset.py (Dataset, split), idx.py (MNIST-style IDX files), cifar.py
(CIFAR-10 binary files), download.py (verified, atomic downloads), datasets.py (load_dataset
by name, and scikit-learn's 8x8 digits), loader.py (DataLoader),
errors.py (exception types).
"""
from .cifar import load_cifar10, read_cifar_batch
from .dataset import Dataset, split
from .datasets import DATASETS, DEFAULT_DATASET, load_dataset, load_digits
from .download import CHECKSUMS, MIRRORS, default_cache_dir, download_dataset, download_file, safe_extract, verify_file
from .errors import ChecksumError, DataFileNotFoundError, DataFormatError, DownloadError
from .idx import load_idx_dataset, load_idx_pair, read_idx
from .loader import DataLoader, channel_stats

__all__ = [
    "DATASETS", "DEFAULT_DATASET", "CHECKSUMS", "MIRRORS",
    "Dataset", "DataLoader", "split", "channel_stats", "load_dataset",
    "load_digits", "load_idx_pair", "load_idx_dataset", "read_idx",
    "load_cifar10", "read_cifar_batch",
    "default_cache_dir", "download_dataset", "download_file", "safe_extract", "verify_file",
    "ChecksumError", "DataFileNotFoundError", "DataFormatError", "DownloadError",
]
