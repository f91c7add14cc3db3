"""Print the import graph of bot/ and calendars/: modules, cycles (function-level imports included) and the
largest modules, so the architecture figures in a closing note can be measured again.

    python scripts/import_graph.py [ROOT]      # ROOT: a checkout (default: this one)

lint-imports is what CI checks; this script only reports. It reads source with `ast`, so it needs nothing
installed and also works on an old checkout (`git worktree add /tmp/old <rev>`).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("bot", "calendars")


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(imported modules, those imported inside a function) among `known`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top: set[str] = set()
    inner: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{alias.name}" for alias in child.names] + [base]
            for target in targets:
                if (found := resolve(target)) is not None and found != name:
                    (inner if nested else top).add(found)
            visit(child, nested)

    visit(tree, False)
    return top | inner, inner - top


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            connect(v)
    return groups


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    known = modules(root)
    graph, late = {}, {}
    for name, path in known.items():
        graph[name], late[name] = imports(name, path, known)
    # A module importing its own package's __init__ is not a cycle worth reporting.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    groups = cycles(graph)
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in known.items()}
    print(f"modules: {len(known)}  import edges: {sum(map(len, graph.values()))}  "
          f"function-level imports of our own modules: {sum(map(len, late.values()))}")
    print(f"cyclic groups: {len(groups)}" + "".join(f"\n  {len(g)}: {', '.join(g)}" for g in groups))
    print("largest modules:")
    for name, count in sorted(lines.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {count:5d}  {name}")
    for name in sorted(late):
        if late[name]:
            print(f"  late import in {name}: {', '.join(sorted(late[name]))}")


if __name__ == "__main__":
    main()
