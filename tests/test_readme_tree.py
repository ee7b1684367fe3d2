"""The README's "How it is built" tree names every module of the engine and the kernel layer,
and names no file that is gone: a reader finds any op's files from the tree alone."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"## How it is built\n.*?```\n(.*?)```", text, re.S)
    assert match, "README lost its 'How it is built' tree"
    return match.group(1)


def _named(tree: str) -> set[str]:
    """Every file or folder name the tree mentions (`a.py, b.py` and `data/ models/` too)."""
    return set(re.findall(r"(?<![\w./])([A-Za-z_]\w*(?:\.py|/))", tree))


def _modules(folder: Path) -> set[str]:
    """The modules and subpackages directly in `folder` (package files aside)."""
    files = {p.name for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    packages = {p.name + "/" for p in folder.iterdir() if (p / "__init__.py").is_file()}
    return files | packages


def test_tree_names_every_module():
    named = _named(_tree())
    for folder in ("gpucnn", "kernels", "gpucnn/ops"):
        missing = sorted(_modules(ROOT / folder) - named)
        assert not missing, f"README tree misses {folder}/: {missing}"


def test_tree_names_no_missing_file():
    tree = _tree()
    files = {p.name for top in ("gpucnn", "kernels", "tests")
             for p in (ROOT / top).rglob("*.py")}
    folders = {p.name + "/" for top in ("gpucnn", "tests") for p in (ROOT / top).rglob("*")
               if p.is_dir()} | {"gpucnn/", "kernels/", "tests/", "bench/", "utils/data/"}
    entries = set(re.findall(r"\b(\w+\.py)\b", tree))
    entries |= {line.split()[0] for line in tree.splitlines()
                if line.strip() and line.split()[0].endswith("/")}
    stale = sorted(entries - files - folders)
    assert not stale, f"README tree names files that do not exist: {stale}"
