"""The shape of the house: no import cycle between fastmlp's modules, and the cycle finder can fail."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


def load_import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_import_cycle():
    graph_tool = load_import_graph()
    graph = graph_tool.build_graph()
    assert "fastmlp.kernels.optim" in graph and "fastmlp.cli" in graph  # it read the package
    assert graph_tool.find_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph_tool = load_import_graph()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert graph_tool.find_cycles(graph) == [["a", "b", "c"]]


def test_the_kernel_cache_is_keyed_on_every_kernel_source(tmp_path, monkeypatch):
    """Numba keys a cache entry on the function's own file only; fastmlp names the cache folder after
    all kernel sources, so a change to a callee (optim.py) cannot leave a caller's stale code."""
    import shutil

    import fastmlp.kernels as kernels

    sources = tmp_path / "kernels"
    shutil.copytree(Path(kernels.__file__).parent, sources, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    before = kernels.cache_dir(sources)
    assert before.startswith(str(tmp_path / "cache"))
    assert kernels.cache_dir(sources) == before  # stable
    (sources / "optim.py").write_text((sources / "optim.py").read_text() + "\n# changed\n")
    assert kernels.cache_dir(sources) != before


# The sizes the house keeps to: a piece longer than these is split along a seam that means something.
MOST_LINES = {"function": 80, "class": 300, "module": 600}


def oversized(source: str, where: str) -> list[str]:
    """Every function, class and the module itself in `source` longer than MOST_LINES."""
    import ast

    found = []
    if len(source.splitlines()) > MOST_LINES["module"]:
        found.append(f"{where}: module of {len(source.splitlines())} lines")
    for node in ast.walk(ast.parse(source)):
        kind = {ast.FunctionDef: "function", ast.AsyncFunctionDef: "function", ast.ClassDef: "class"}.get(
            type(node)
        )
        if kind is not None:
            lines = node.end_lineno - node.lineno + 1
            if lines > MOST_LINES[kind]:
                found.append(f"{where}:{node.lineno}: {kind} {node.name} of {lines} lines")
    return found


def test_no_function_class_or_module_of_the_package_is_oversized():
    package = Path(__file__).resolve().parent.parent / "fastmlp"
    found = [
        line
        for path in sorted(package.rglob("*.py"))
        for line in oversized(path.read_text(), str(path.relative_to(package.parent)))
    ]
    assert found == []


def test_the_size_check_finds_a_long_function_and_a_long_class():
    body = "\n".join(f"    x{i} = {i}" for i in range(MOST_LINES["function"]))
    source = f"def long():\n{body}\n\n\nclass Short:\n    pass\n"
    assert oversized(source, "m.py") == [f"m.py:1: function long of {MOST_LINES['function'] + 1} lines"]
    methods = "\n".join(f"    def f{i}(self):\n        return {i}\n" for i in range(110))
    assert oversized(f"class Big:\n{methods}", "m.py")[-1].startswith("m.py:1: class Big of")
    assert oversized("x = 1\n" * 601, "m.py") == ["m.py: module of 601 lines"]
