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
