"""The package's layers, read from its import statements.

The storage core imports nothing from the tools built on it (the CLI, the
demo, the development provider, the testing helpers, the pytest plugin);
the CLI imports no database driver and no private module, only the
library's public names; and no module imports itself back through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cross_auth_lite as lite

PACKAGE = Path(lite.__file__).parent
TOOLS = ("cli", "demo", "dev", "testing", "pytest_plugin")
DRIVERS = {"peewee", "playhouse", "sqlite3", "diskcache", "psycopg", "psycopg2", "redis"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules ``path`` imports (``from a import b`` gives ``a`` and ``a.b``).

    With ``top_level_only``, imports inside functions and ``TYPE_CHECKING``
    blocks are left out: they cannot make a cycle at import time.
    """
    tree = ast.parse(path.read_text())
    nodes: list[ast.AST] = list(tree.body) if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(*, under: str | None = None) -> dict[str, Path]:
    root = PACKAGE if under is None else PACKAGE / under
    return {module_name(path): path for path in sorted(root.rglob("*.py"))}


def is_tool(name: str) -> bool:
    parts = name.split(".")
    return len(parts) > 1 and parts[1] in TOOLS


def test_the_core_imports_none_of_the_tools_built_on_it() -> None:
    for name, path in modules().items():
        if is_tool(name):
            continue
        tools = {target for target in imports(path) if is_tool(target)}
        assert not tools, f"{name} imports {sorted(tools)}"


def test_the_cli_imports_no_driver_and_only_public_library_names() -> None:
    public = set(lite.__all__)
    for name, path in modules(under="cli").items():
        for target in imports(path):
            root, _, rest = target.partition(".")
            assert root not in DRIVERS, f"{name} imports {target}"
            if root == "cross_auth_lite" and rest and not rest.startswith("cli"):
                # The library's public names, or the tools it runs (the demo's options).
                tool = rest.startswith(("demo", "dev"))
                assert rest in public or tool, f"{name} imports {target}, not a public name"
            private = [p for p in target.split(".") if p.startswith("_") and not p.endswith("__")]
            assert not private, f"{name} imports the private {target}"


def test_the_tools_import_only_public_library_names() -> None:
    public = set(lite.__all__)
    for tool in ("demo", "dev"):
        for name, path in modules(under=tool).items():
            for target in imports(path):
                root, _, rest = target.partition(".")
                if root != "cross_auth_lite" or not rest:
                    continue
                assert rest.partition(".")[0] in (tool, "dev") or rest in public, (
                    f"{name} imports {target}"
                )


def test_there_is_no_import_cycle() -> None:
    graph = {
        name: {target for target in imports(path, top_level_only=True) if target in modules()}
        for name, path in modules().items()
    }
    # A package's __init__ importing its own submodules is how packages work.
    for name, targets in graph.items():
        targets.discard(name)
        targets -= {t for t in targets if t.startswith(name + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, " -> ".join([*visiting[visiting.index(name) :], name])
        if name in done:
            return
        visiting.append(name)
        for target in sorted(graph[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
