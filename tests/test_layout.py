"""Rules of the layout that import-linter does not check (its contracts, in pyproject.toml,
check the dependency rules): no eager Celery anywhere, a few top-level modules in shared/, and
modules of a readable size, tests and benchmarks included."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Never part of the product, so never searched for eager mode.
UNSEARCHED_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", "build", "dist"}
UNSEARCHED_DIRS |= {".pytest_cache", ".mypy_cache", ".ruff_cache", "instance"}
PYTHON = ("shared", "web", "worker", "cli", "tests", "bench")
MAX_LINES = 300
# Declarative modules that may be longer: the first migration writes out the whole schema.
LONG_BY_NATURE = {"shared/migrations/versions/0001_initial_schema.py"}


def test_shared_is_packages_with_few_modules_beside_them() -> None:
    modules = sorted(path.name for path in (REPO / "shared").glob("*.py"))
    packages = sorted(path.parent.name for path in (REPO / "shared").glob("*/__init__.py"))

    assert len(modules) <= 3, modules
    assert packages == [
        "access",
        "batches",
        "core",
        "filters",
        "imports",
        "models",
        "people",
        "schedules",
    ]


def test_no_module_is_over_300_lines() -> None:
    long = {
        path.relative_to(REPO).as_posix(): lines
        for package in PYTHON
        for path in (REPO / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }

    assert set(long) <= LONG_BY_NATURE, long


def test_nothing_uses_eager_celery() -> None:
    needle = b"always" + b"_eager"
    this_file = Path(__file__).resolve()

    offenders = [
        path.relative_to(REPO).as_posix()
        for path in _repository_files()
        if path.resolve() != this_file and needle in path.read_bytes()
    ]

    assert offenders == [], "eager Celery tests an emulation, not the product: " + ", ".join(
        offenders
    )


def _repository_files() -> list[Path]:
    """Tracked and untracked files, without what .gitignore leaves out (a virtualenv, caches)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return _walked_files()
    paths = (REPO / name for name in listed.decode().split("\0") if name)
    return [path for path in paths if path.is_file()]


def _walked_files() -> list[Path]:
    files = []
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in UNSEARCHED_DIRS and not d.endswith(".egg-info")]
        files += [Path(root) / name for name in names]
    return files
