"""Which parts of heimdex import which, and whether any of them import each other in a circle.

    python scripts/import_graph.py            # the graph between parts, then "no cycle" or the cycles
    python scripts/import_graph.py --modules  # the same between modules

A part is a top-level module or package of ``heimdex``: a wing (``heimdex.app``, ``heimdex.library``,
``heimdex.ops``, ...) or a foundation module (``heimdex.config``, ``heimdex.states``, ...); imports
inside functions count as much as those at the top. Parts stand in :data:`LAYERS`, lowest first: a
part imports only parts of lower layers. Exit status 1 when there is a cycle or an upward arrow.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "heimdex"

LAYERS = (
    ("errors",),  # the foundation: error kinds, settings, stores
    ("config",),
    ("db", "storage"),
    ("states",),  # the one state machine of videos and jobs
    ("telemetry",),  # logs and metrics
    ("models",),  # adapters behind the registry
    ("perception",),  # what a scene shows
    ("library",),  # a user's videos, media, clips, people, quotas
    ("auth", "pipeline", "search"),
    ("jobs",),
    ("ops",),  # worker, upkeep, backup, doctor
    ("app",),  # sessions, operations, web, CLI
    ("__main__",),
)
LAYER = {f"heimdex.{part}": level for level, parts in enumerate(LAYERS) for part in parts}


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


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Arrows from a part to one of its own layer or above (a part missing from :data:`LAYERS` is above all)."""
    top = len(LAYERS)
    return sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if LAYER.get(".".join(target.split(".")[:2]), top) >= LAYER.get(".".join(source.split(".")[:2]), top)
        and ".".join(target.split(".")[:2]) != ".".join(source.split(".")[:2])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", action="store_true", help="between modules rather than parts")
    args = parser.parse_args(argv)
    edges = graph(by_part=not args.modules)
    width = max(len(source) for source in edges) - len("heimdex.")
    for source in sorted(edges, key=lambda name: (LAYER.get(".".join(name.split(".")[:2]), len(LAYERS)), name)):
        targets = ", ".join(sorted(t.removeprefix("heimdex.") for t in edges[source])) or "-"
        print(f"{source.removeprefix('heimdex.'):<{width}} → {targets}")
    found, up = cycles(edges), upward(graph(by_part=True))
    print("cycles: " + ("; ".join(" ↔ ".join(group) for group in found) if found else "none"))
    print("upward arrows: " + ("; ".join(f"{a} → {b}" for a, b in up) if up else "none"))
    return 1 if found or up else 0


if __name__ == "__main__":
    sys.exit(main())
