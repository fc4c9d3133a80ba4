"""The mistakes a new user makes get one short line that says what to do (exit 2)."""

from typer.testing import CliRunner

from fastmlp.cli import app
from fastmlp.schema import ECHO_CHARS, kind_of


def run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip()


def test_a_data_file_given_as_the_config_says_how_to_train_on_it(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "1.0,2.0,x\n" * 20000)
    code, out = run("train", str(data))
    assert code == 2 and len(out.splitlines()) == 1 and len(out) < 200 + 3 * len(str(data))
    assert "a data file, not a config" in out and f"--set data.path={data}" in out


def test_a_config_that_is_not_a_mapping_echoes_a_short_value(tmp_path):
    config = tmp_path / "x.yaml"
    config.write_text("just some text " * 5000)
    code, out = run("train", str(config))
    assert code == 2 and len(out) < 300 and "characters)" in out


def test_echoed_values_are_cut():
    assert len(kind_of("y" * 10_000)) < ECHO_CHARS + 40
    assert kind_of("short") == "str 'short'"
