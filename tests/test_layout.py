"""DESIGN.md's dependency rule, checked on the source: `shared` knows nothing of the web or the
worker side, and `worker` nothing of the web side. Also: no eager Celery anywhere."""

import ast
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

FLASK = {"flask", "flask_login", "flask_wtf"}
FORBIDDEN = {
    "shared": FLASK | {"celery", "kombu", "billiard", "web", "worker"},
    "worker": FLASK | {"web"},
}
# Never part of the product, so never searched for eager mode.
UNSEARCHED_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", "build", "dist"}
UNSEARCHED_DIRS |= {".pytest_cache", ".mypy_cache", ".ruff_cache", "instance"}


def imported_modules(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, top-level module) of every absolute import, wherever it is (a function body, an
    `if TYPE_CHECKING:` block), and of `importlib.import_module("x")` / `__import__("x")`.
    Relative imports stay inside their own package, so they cannot break the rule."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return sorted(found)


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def dependency_violations(repo: Path) -> list[str]:
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((repo / package).rglob("*.py")):
            relative = path.relative_to(repo).as_posix()
            for line, module in imported_modules(path.read_text(encoding="utf-8"), relative):
                if module in forbidden:
                    violations.append(f"{relative}:{line}: {package} imports {module}")
    return violations


def test_the_checker_finds_every_kind_of_import() -> None:
    source = (
        "import os, flask.json\n"
        "from celery import Celery\n"
        "from . import web\n"
        "def f():\n"
        "    import worker.tasks\n"
        "    return importlib.import_module('flask_login')\n"
    )

    assert imported_modules(source) == [
        (1, "flask"),
        (1, "os"),
        (2, "celery"),
        (5, "worker"),
        (6, "flask_login"),
    ]


def test_shared_and_worker_keep_to_their_side() -> None:
    assert sorted(path.name for path in (REPO / "shared").glob("*.py")) != []

    violations = dependency_violations(REPO)

    assert violations == [], "DESIGN.md's dependency rule is broken:\n" + "\n".join(violations)


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
