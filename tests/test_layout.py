"""The package's layout is its pipeline: engine → bn → check → text → cli, and viz beside them.

Every module's imports (at any depth: module level, `if TYPE_CHECKING:` and inside functions)
are read from its source, so an import cycle or a stage reaching forward fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("engine", "bn", "check", "text", "cli")
"""The stages of `autograd_bn`, in pipeline order: each may import only the ones before it."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in ("autograd_bn", "viz"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(path: Path, known: set[str], *, top_level_only: bool) -> set[str]:
    """The project's modules that ``path`` imports (a ``from pkg import module`` counts as the
    module, ``from module import name`` as the module)."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = (tree.body if top_level_only else list(ast.walk(tree)))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    found.add(full)
                elif node.module in known:
                    found.add(node.module)
    return found - {module_name(path)}


def graph(top_level_only: bool) -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, set(known), top_level_only=top_level_only)
            for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``edges`` as a list of modules, or None (an iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in edges:
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()))))
    return None


def stage(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "viz":
        return "viz"
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else "top"


def test_no_import_cycle_between_modules() -> None:
    for top_level_only in (True, False):
        assert find_cycle(graph(top_level_only)) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(modules()))
def test_each_stage_imports_only_earlier_stages(module: str) -> None:
    allowed = {
        "engine": {"engine"},
        "bn": {"engine", "bn"},
        "check": {"engine", "bn", "check"},
        "viz": {"engine", "viz"},
        "text": {"engine", "bn", "check", "text", "viz", "top"},  # (the version number)
        "cli": {"engine", "bn", "check", "text", "viz", "cli", "top"},
        # (__main__ runs the cli; autograd_bn.report writes the text stage's page)
        "top": {"engine", "bn", "check", "text", "cli", "top"},
    }[stage(module)]
    path = modules()[module]
    used = {stage(m) for m in imports(path, set(modules()), top_level_only=False)}
    assert used <= allowed, f"{module} ({stage(module)}) imports from {sorted(used - allowed)}"


def test_the_tree_shows_the_stages() -> None:
    for name in STAGES:
        assert (ROOT / "autograd_bn" / name / "__init__.py").is_file()
    loose = sorted(p.name for p in (ROOT / "autograd_bn").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]


def test_tests_mirror_the_layout() -> None:
    for name in (*STAGES, "viz"):
        assert list((ROOT / "tests" / name).glob("test_*.py")), f"tests/{name}/ has no tests"


def test_public_imports_users_already_write() -> None:
    import viz
    from autograd_bn import Tensor, batchnorm, compare, gradcheck, manual, problem

    assert callable(batchnorm) and callable(gradcheck) and callable(viz.render)
    assert callable(compare.compare) and callable(problem.make_problem)
    assert callable(manual.backward_staged) and isinstance(Tensor(1.0), Tensor)
