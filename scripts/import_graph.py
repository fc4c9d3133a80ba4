"""The import graph of the fastmlp package, from the source (nothing is imported), and its cycles.

    python scripts/import_graph.py             # list every cycle; exit 1 if there is one
    python scripts/import_graph.py --edges     # also print every edge

Reads fastmlp/*.py and fastmlp/*/*.py and follows every relative import (`from .x import y`,
`from ..x import y`, `from . import x`), at module level and inside functions alike, since a
function-level import still ties the two modules together. A package's __init__.py is the
package's node (fastmlp.sweep), its other files are modules (fastmlp.sweep.cli).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "fastmlp"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules that path imports, by relative import."""
    name = module_name(path)
    # The package a relative import is resolved against: the module's own package.
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package.split(".")
        if node.level > 1:
            base = base[: -(node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
        # `from . import runs` depends on the module fastmlp.runs, not on the package's
        # __init__; `from .api import train` (a name, not a module) depends on fastmlp.api.
        for alias in node.names:
            submodule = f"{target}.{alias.name}"
            found.add(submodule if submodule in modules else target)
    found &= modules
    found.discard(name)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def build_graph() -> dict[str, set[str]]:
    files = sorted((ROOT / PACKAGE).glob("*.py")) + sorted((ROOT / PACKAGE).glob("*/*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="Print every edge too.")
    args = parser.parse_args()
    graph = build_graph()
    if args.edges:
        for source in sorted(graph):
            for target in sorted(graph[source]):
                print(f"{source} -> {target}")
    cycles = find_cycles(graph)
    for component in cycles:
        print("cycle: " + " <-> ".join(component))
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} edges, {len(cycles)} cycles")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
