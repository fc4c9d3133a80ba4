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
