"""Which parts of heimdex import which, and whether any of them import each other in a circle.

    python scripts/import_graph.py            # the graph between parts, then "no cycle" or the cycles
    python scripts/import_graph.py --modules  # the same between modules

A part is a top-level module or package of ``heimdex`` (``heimdex.jobs``, ``heimdex.pipeline``,
``heimdex.states``, ...); imports inside functions count as much as those at the top.
Exit status 1 when there is a cycle.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "heimdex"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The heimdex modules a file imports, wherever in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("heimdex"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdex") and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph(by_part: bool = True) -> dict[str, set[str]]:
    """Edges between parts (or modules) of heimdex, self-edges left out."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}

    def key(name: str) -> str | None:
        while name and name not in modules:  # "heimdex.jobs.rows.get_job" names the module heimdex.jobs.rows
            name = name.rpartition(".")[0]
        if not name or name == "heimdex":
            return None
        return ".".join(name.split(".")[:2]) if by_part else name

    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        source = key(name)
        if source is None:
            continue
        targets = {key(target) for target in imports(path)} - {None, source}
        edges.setdefault(source, set()).update(t for t in targets if t)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", action="store_true", help="between modules rather than parts")
    args = parser.parse_args(argv)
    edges = graph(by_part=not args.modules)
    for source in sorted(edges):
        print(
            f"{source.removeprefix('heimdex.'):<12} → {', '.join(sorted(t.removeprefix('heimdex.') for t in edges[source])) or '-'}"
        )
    found = cycles(edges)
    print("cycles: " + ("; ".join(" ↔ ".join(group) for group in found) if found else "none"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
