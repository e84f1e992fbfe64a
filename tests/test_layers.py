"""The package's layers, read from its import statements and class statements.

The storage core is a stack of packages, each importing only those below it
(``LAYERS``, drawn in ``docs/how-it-is-built.md``); the tools on top (the
CLI, the demo, the development provider, the testing helpers, the pytest
plugin) import only the documented API, the top level and
``cross_auth_lite.admin``; the CLI imports no database driver; no module
imports itself back through others, at import time or from inside a
function; a class lives in one module (no class is built on a private
class of another module that nothing else uses); no function is over 100
lines; and every module says in its docstring what it owns.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cross_auth_lite as lite

PACKAGE = Path(lite.__file__).parent
TOOLS = ("cli", "__main__", "demo", "dev", "testing", "pytest_plugin")
DRIVERS = {"peewee", "playhouse", "sqlite3", "diskcache", "psycopg", "psycopg2", "redis"}

# The foundations every layer may use: exceptions, URLs, private files, the token cipher.
FOUNDATIONS = {"errors", "urls", "private_files", "encryption", "adapters", "moved"}
# Each part of the core and the parts it may import (besides the foundations).
LAYERS: dict[str, set[str]] = {
    "adapters": set(),
    "moved": set(),
    "urls": set(),
    "errors": {"urls"},
    "private_files": {"errors"},
    "encryption": {"errors", "adapters"},
    "database": set(),
    "accounts": {"database"},
    "sessions": {"database"},
    "cache": {"database"},
    "housekeeping": {"database", "sessions", "cache"},
    "backends": {"database"},
    "store": {"database", "accounts", "sessions", "cache", "housekeeping", "backends"},
    "admin": {"database", "accounts", "sessions", "cache", "housekeeping", "backends", "store"},
    "_conformance": {"database", "accounts", "sessions", "cache"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _run_time_nodes(tree: ast.AST, *, top_level_only: bool) -> list[ast.AST]:
    """The statements that run: every one, or the module's own, without ``TYPE_CHECKING``."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if top_level_only and nested:
                continue
            pending.append(child)
    return found


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules ``path`` imports at run time (``from a import b`` gives ``a`` and ``a.b``).

    ``TYPE_CHECKING`` blocks are left out; with ``top_level_only``, imports
    inside functions and classes too.
    """
    found: set[str] = set()
    for node in _run_time_nodes(ast.parse(path.read_text()), top_level_only=top_level_only):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                # ``from cross_auth_lite import errors`` imports a submodule, not the top level.
                top_level_name = node.module == "cross_auth_lite" and not _is_module(submodule)
                found.add(
                    node.module
                    if node.module != "cross_auth_lite" or top_level_name
                    else submodule
                )
                found.add(submodule)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def modules(*, under: str | None = None) -> dict[str, Path]:
    root = PACKAGE if under is None else PACKAGE / under
    return {module_name(path): path for path in sorted(root.rglob("*.py"))}


def part(name: str) -> str:
    """The part of the package a module is in: ``cache`` for ``cross_auth_lite.cache.rows``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def is_tool(name: str) -> bool:
    return part(name) in TOOLS


def documented(target: str) -> bool:
    """Whether ``target`` is the documented API: the top level, or ``cross_auth_lite.admin``."""
    if target in ("cross_auth_lite", "cross_auth_lite.admin"):
        return True
    root, _, rest = target.partition(".")
    if root != "cross_auth_lite":
        return True
    if rest.startswith("admin."):
        return rest.removeprefix("admin.") in lite.admin.__all__
    return rest in lite.__all__


def test_every_part_of_the_core_has_a_layer() -> None:
    parts = {part(name) for name in modules()} - {"", *TOOLS}
    assert parts == set(LAYERS)


def test_each_part_of_the_core_imports_only_the_parts_below_it() -> None:
    for name, path in modules().items():
        here = part(name)
        if here in TOOLS or here == "":
            continue
        allowed = LAYERS[here] | FOUNDATIONS | {here}
        for target in imports(path):
            assert target != "cross_auth_lite", f"{name} imports the top level, above every layer"
            if not target.startswith("cross_auth_lite."):
                continue
            there = part(target)
            assert there in allowed, f"{name} imports {target}: {here} may not import {there}"


def test_the_core_imports_none_of_the_tools_built_on_it() -> None:
    for name, path in modules().items():
        if is_tool(name):
            continue
        tools = {target for target in imports(path) if is_tool(target)}
        assert not tools, f"{name} imports {sorted(tools)}"


def test_the_tools_import_only_the_documented_api() -> None:
    for name, path in modules().items():
        if not is_tool(name):
            continue
        for target in imports(path):
            if is_tool(target) or (part(target) == "" and target != "cross_auth_lite"):
                continue  # another tool (the CLI runs the demo), or the top level's names
            assert documented(target), f"{name} imports {target}, not the documented API"
            private = [p for p in target.split(".") if p.startswith("_") and not p.endswith("__")]
            assert not private, f"{name} imports the private {target}"


def test_the_cli_imports_no_database_driver() -> None:
    for name, path in modules(under="cli").items():
        for target in imports(path):
            assert target.partition(".")[0] not in DRIVERS, f"{name} imports {target}"


def test_a_documented_name_is_what_the_checks_above_accept() -> None:
    assert documented("cross_auth_lite.LiteStore")
    assert documented("cross_auth_lite.admin.check_store")
    assert not documented("cross_auth_lite.store.opening")
    assert not documented("cross_auth_lite.admin.records")


def _graph(*, top_level_only: bool) -> dict[str, set[str]]:
    known = modules()
    graph = {
        name: {t for t in imports(path, top_level_only=top_level_only) if t in known}
        for name, path in known.items()
    }
    # A package's __init__ importing its own submodules is how packages work;
    # the top level's edges stay, so that a cycle through it is found.
    for name, targets in graph.items():
        targets.discard(name)
        if name != "cross_auth_lite":
            targets -= {t for t in targets if t.startswith(name + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        if name in done:
            return None
        visiting.append(name)
        for target in sorted(graph[name]):
            if found := visit(target):
                return found
        visiting.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        if found := visit(name):
            return found
    return None


def test_there_is_no_import_cycle_not_even_through_a_function() -> None:
    graph = _graph(top_level_only=False)
    # The tools may import the top level from inside a function: it is above them.
    for name in graph:
        if is_tool(name):
            graph[name] -= {"cross_auth_lite"}
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_search_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _classes() -> dict[str, tuple[str, ast.ClassDef]]:
    """Every class of the core by qualified name: its module and its statement."""
    found: dict[str, tuple[str, ast.ClassDef]] = {}
    for name, path in modules().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                found[f"{name}.{node.name}"] = (name, node)
    return found


def test_a_class_lives_in_one_module() -> None:
    """No class is built on another module's private class that no other class uses.

    Such a base is half of one class in another file. A public base (a model
    to subclass, ``CommitCallbacksMixin``, ``LiteError``) or a mixin that
    several classes share is what inheritance across modules is for.
    """
    classes = _classes()
    users: dict[str, list[str]] = {}
    for qualified, (module, node) in classes.items():
        sources = _imported_names(modules()[module])
        for base in node.bases:
            name = ast.unparse(base).split("[")[0]
            origin = sources.get(name, f"{module}.{name}")
            if origin in classes:
                users.setdefault(origin, []).append(qualified)
    for base, built_on_it in users.items():
        name = base.rpartition(".")[2]
        public = name in lite.__all__ or name in lite.admin.__all__
        elsewhere = built_on_it[0].rpartition(".")[0] != base.rpartition(".")[0]
        assert public or len(built_on_it) > 1 or not elsewhere, (
            f"{built_on_it[0]} is built on {base}, a private class only it uses: one class "
            "in two modules"
        )


def _imported_names(path: Path) -> dict[str, str]:
    """The names ``from x import y`` binds in ``path``, to ``x.y``."""
    names: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


MAX_FUNCTION_LINES = 100


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines, its docstring aside: that is its documentation, not its code."""
    lines = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
        lines -= (first.end_lineno or first.lineno) - first.lineno + 1
    return lines


def test_no_function_is_over_100_lines() -> None:
    long = [
        f"{name}:{node.lineno} {node.name} ({length} lines)"
        for name, path in modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := _code_lines(node)) > MAX_FUNCTION_LINES
    ]
    assert not long, long


def test_every_module_says_what_it_owns() -> None:
    missing = [
        name
        for name, path in modules().items()
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not missing, missing
