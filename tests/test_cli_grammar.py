"""The grammar of the `dsr` command line (tools/check_cli.py): the real command line passes; a command line with a
new inconsistency (a synonym, a missing help, an unstated default or unit, one name for two ideas, no -h, no
--version) fails, each on a small fake typer app; docs/cli.md is current; the defaults of the command line and of
the library are one value each; --version; progress on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"
sys.path.insert(0, str(TOOLS))

import check_cli  # noqa: E402
import cli_reference  # noqa: E402


def test_the_dsr_command_line_passes_the_grammar_check():
    """The script itself, as CI and a developer run it: exit 0, no problem listed."""
    done = subprocess.run([sys.executable, str(TOOLS / "check_cli.py")], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "" and "the grammar holds" in done.stderr


def _fake(*commands, version: bool = True, help_names=("-h", "--help")) -> typer.Typer:
    """A typer app with the given commands (functions) and, by default, --version and -h."""
    app = typer.Typer(context_settings={"help_option_names": list(help_names)})
    if version:
        @app.callback()
        def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
            """A fake."""
    else:
        @app.callback()
        def _root():
            """A fake."""
    for fn in commands:
        app.command()(fn)
    return app


def simulate(n_steps: int = typer.Option(100, "--n-steps", help="Samples, in time steps."),
             seed: int = typer.Option(0, help="Seed (an integer)."),
             out: Path = typer.Option(..., help="Output file."),
             dt: Optional[float] = typer.Option(None, help="Sampling step in time units (default: the system's)."),
             force: bool = typer.Option(False, "--force", help="Replace --out.")):
    """Simulate."""


def train(epochs: int = typer.Option(5, help="Epochs."), seed: int = typer.Option(0, help="Seed (an integer)."),
          out: Path = typer.Option(..., help="Run directory.")):
    """Train."""


def test_a_consistent_fake_passes():
    assert check_cli.check(_fake(simulate, train)) == []


def _problems(*commands, **kw) -> str:
    return "\n".join(check_cli.check(_fake(*commands, **kw)))


def test_a_synonym_fails_the_check():
    """`--steps` beside `--n-steps`, `--seeds` beside `--seed`, `--output` beside `--out`: one idea, two names."""
    def sample(steps: int = typer.Option(100, "--steps", help="Samples, in time steps."),
               seeds: int = typer.Option(1, "--seeds", help="Number of models."),
               output: Path = typer.Option(..., "--output", help="Output file.")):
        """Sample."""

    problems = _problems(simulate, train, sample)
    assert "--n-steps in simulate; --steps in sample" in problems
    assert "--seed in simulate, train; --seeds in sample" in problems
    assert "--out in simulate, train; --output in sample" in problems
    assert "--steps in sample: a count is written --n-<things>" in problems


def test_a_count_in_another_style_fails_even_without_its_synonym():
    def sample(test_steps: int = typer.Option(100, "--test-steps", help="Test points, in time steps.")):
        """Sample."""

    assert "--test-steps in sample: a count is written --n-<things>" in _problems(sample)


def test_one_name_for_two_ideas_fails_the_check():
    """`--json` a flag in one command and a file in another; `--seed` an integer here and text there."""
    def show(json: bool = typer.Option(False, "--json", help="Print JSON.")):
        """Show."""

    def export(json: Optional[str] = typer.Option(None, "--json", help="JSON file (default: none)."),
               seed: str = typer.Option("a", help="Seed name.")):
        """Export."""

    problems = _problems(show, export, simulate)
    assert "--json: a flag in dsr show, a value in dsr export" in problems
    assert "--seed: str in dsr export, int in dsr simulate" in problems or \
           "--seed: int in dsr simulate, str in dsr export" in problems


def test_missing_help_unstated_default_and_unit_fail_the_check():
    def bad(rate: float = typer.Option(0.5, help="How fast."),
            cap: Optional[int] = typer.Option(None, help="Upper epochs cap."),
            name: str = typer.Option("x"),
            hidden: float = typer.Option(2.0, show_default=False, help="Width in units.")):
        """Bad."""

    def undocumented():
        pass

    problems = _problems(bad, undocumented)
    assert "dsr bad --rate: the help of a numeric option must name its unit" in problems
    assert "dsr bad --cap: its default is None; the help must say what that means" in problems
    assert "dsr bad --name: no help text" in problems
    assert "dsr bad --hidden: the default 2.0 is neither shown nor stated" in problems
    assert "dsr undocumented: the command has no help text" in problems


def test_no_version_and_no_short_help_fail_the_check():
    problems = _problems(simulate, version=False, help_names=("--help",))
    assert "dsr: no --version option on the group" in problems
    assert "dsr: -h does not show the help" in problems and "dsr simulate: -h does not show the help" in problems


def test_the_script_exits_1_on_a_fake_with_a_problem(tmp_path):
    (tmp_path / "fake_cli.py").write_text(
        "import typer\napp = typer.Typer()\n\n@app.callback()\ndef root():\n    '''Fake.'''\n\n"
        "@app.command()\ndef run(steps: int = typer.Option(1, '--steps')):\n    '''Run.'''\n")
    done = subprocess.run([sys.executable, str(TOOLS / "check_cli.py"), "fake_cli:app"], capture_output=True,
                          text=True, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "dsr run --steps: no help text" in done.stdout and "no --version" in done.stdout


def test_docs_cli_md_is_current():
    """docs/cli.md is generated from the command line (python tools/cli_reference.py); a change of an option
    without regenerating it fails here."""
    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference.render(), (
        "docs/cli.md is not current: run python tools/cli_reference.py")


@pytest.mark.parametrize("row", cli_reference.default_rows(), ids=lambda r: r[0])
def test_command_line_and_library_defaults_are_one_value(row):
    setting, cli_side, api_side = row
    values = {option: v for option, v in cli_side}
    values.update({label: v for label, v in api_side if v is not cli_reference.REQUIRED})
    normal = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    assert len(set(normal.values())) == 1, f"{setting}: {normal}"


def test_version_and_progress_streams(tmp_path):
    """`dsr --version` prints the package version; the progress bar of `dsr simulate` goes to stderr, stdout holds
    only the result line."""
    from dsrkit import __version__
    from dsrkit.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"dsrkit {__version__}"
    result = runner.invoke(app, ["simulate", "lorenz63", "--n-steps", "300", "--out", str(tmp_path / "l.npz")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [f"wrote {tmp_path / 'l.npz'}: 300 steps x 3 variables, dt=0.01"]
    assert "1299/1299" in result.stderr  # the bar counts transient + kept samples


def test_a_renamed_option_is_a_clear_error(tmp_path):
    """0.x renames cleanly: the old name is an `error:` line that suggests the new one."""
    from dsrkit.cli import app

    result = CliRunner().invoke(app, ["simulate", "lorenz63", "--steps", "10", "--out", str(tmp_path / "x.npz")])
    assert result.exit_code == 2 and "No such option: --steps" in result.output and "--n-steps" in result.output
