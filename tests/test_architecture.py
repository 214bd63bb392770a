"""The layer rule of docs/ARCHITECTURE.md, checked on the code: floors read from that page's table, every import
(function-local and TYPE_CHECKING ones included) pointing down or sideways, no cycle between modules or between
core's folders, one import path per name (package `__init__` files hold a docstring only), no module over 500 lines.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    files = [*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")]
    return {_module_name(path): path for path in [*files, ROOT / "app.py"]}


@cache
def _imports() -> dict[str, set[str]]:
    """Every project module each module imports, wherever the import stands (a function, `if TYPE_CHECKING:`)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    found.add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


@cache
def _floors() -> dict[str, int]:
    """{"core.models": 1, ...} from the floors table of docs/ARCHITECTURE.md."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    table = text[text.index("<!-- floors:") :]
    floors: dict[str, int] = {}
    for row in re.findall(r"^\| (\d+) \|[^|]*\| (.+) \|$", table, flags=re.MULTILINE):
        for name in re.findall(r"`([\w.]+)`", row[1]):
            floors[name] = int(row[0])
    return floors


def _node(module: str) -> str:
    """The room of a module in the floors table: `core.evaluate.run` -> `core.evaluate`, `pages.x` -> `pages`."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in ("core", "ui") and len(parts) > 1 else parts[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_floor() -> None:
    floors = _floors()
    assert floors, "docs/ARCHITECTURE.md has no floors table"
    assert sorted({_node(m) for m in _modules()} - set(floors)) == []
    assert sorted(set(floors) - {_node(m) for m in _modules()}) == []  # the page names nothing that is gone


def test_no_import_points_up() -> None:
    floors = _floors()
    upward = [
        f"{module} (floor {floors[_node(module)]}) imports {target} (floor {floors[_node(target)]})"
        for module, targets in _imports().items()
        for target in targets
        if floors[_node(target)] > floors[_node(module)]
    ]
    assert upward == []


def test_no_cycle_between_modules() -> None:
    assert _cycles(_imports()) == []


def test_no_cycle_between_folders() -> None:
    rooms: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        rooms.setdefault(_node(module), set()).update(_node(t) for t in targets if _node(t) != _node(module))
    assert _cycles(rooms) == []


def test_core_never_imports_ui_pages_or_streamlit() -> None:
    offenders = []
    for name, path in _modules().items():
        if not name.startswith("core"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in ("ui", "pages", "app", "streamlit")]
    assert offenders == []


def _defined(path: Path) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_no_package_re_exports_its_modules() -> None:
    # one import path per name: a package's __init__ imports nothing of the project (most hold a docstring only)
    offenders = []
    for path in [*(ROOT / "core").rglob("__init__.py"), *(ROOT / "ui").rglob("__init__.py")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.split(".")[0] in ("core", "ui"):
                offenders.append(f"{path.relative_to(ROOT)}: from {module} import ...")
    assert offenders == []


def test_nothing_imports_a_name_through_a_package() -> None:
    # `from core import softmax`, `from core.evaluate import calibrate`: a name comes from the module defining it
    modules = _modules()
    packages = {name: path for name, path in modules.items() if path.name == "__init__.py"}
    through = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in packages:
                defined = _defined(packages[node.module])
                through += [
                    f"{name}: from {node.module} import {a.name}"
                    for a in node.names
                    if f"{node.module}.{a.name}" not in modules and a.name not in defined
                ]
    assert through == []


def test_no_module_is_over_500_lines() -> None:
    long = {
        name: lines
        for name, path in _modules().items()
        if name.split(".")[0] in ("core", "ui") and (lines := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checks_catch_what_they_look_for() -> None:
    # the cycle finder and the floors are themselves checked, so a silent pass means a clean tree
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert _floors()["core.errors"] == 0 and _floors()["pages"] == 7
    assert "core.backends.eager" in _imports()["core.inference"]  # an import inside the module body is seen
    assert "core.evaluate.summary" in _imports()["core.cli.evaluate"]  # and one inside a function


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Layout") :]
    return section[section.index("```") + 3 : section.index("```", section.index("```") + 3)]


def test_readme_layout_and_the_architecture_page_name_every_package_and_only_real_ones() -> None:
    block, page = _layout_block(), (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    packages = {p.parent.name for root in ("core", "ui") for p in (ROOT / root).glob("*/__init__.py")}
    assert sorted(name for name in packages if f"{name}/" not in block) == []
    assert sorted(name for name in packages if f"{name}/" not in page) == []
    named = set(re.findall(r"(?<![\w.])([a-z_0-9]+)/", block))
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    folders |= {p.name for root in ("core", "ui") for p in (ROOT / root).rglob("*") if p.is_dir()}
    assert sorted(named - folders) == []
