"""For the tests that keep a page of docs/ in step with the tests it names."""

import ast
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
TESTS = Path(__file__).resolve().parents[1]


def functions_of(file_name: str) -> set[str]:
    """The top-level functions of tests/<file_name>."""
    tree = ast.parse((TESTS / file_name).read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
