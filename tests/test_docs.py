"""The documentation cannot rot: the site builds with warnings as errors, every tutorial page shows a script that
exists (tests/test_examples.py runs each script in examples/ at its tiny settings), the README's Python tour is
the tour script verbatim, and every `dsr ...` command written in the README or the docs parses against the real
command line (the command exists, every option used exists, every value has the right type)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
SNIPPET = re.compile(r'^-{2}8<-{2} "([^"]+)"\s*$', re.M)   # a pymdownx.snippets inclusion line
SECTION = re.compile(r"^\s*#\s*-{2}8<-{2} \[(start|end):(\w+)\]\s*$")


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _fenced(text: str, languages: tuple[str, ...]) -> list[str]:
    """The bodies of the fenced code blocks of `text` in one of `languages`."""
    return [m.group(2) for m in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.M | re.S)
            if m.group(1) in languages]


def _section(path: Path, name: str) -> str:
    """The lines between `# --8<-- [start:name]` and `# --8<-- [end:name]` of a script."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        m = SECTION.match(line)
        if m and m.group(2) == name:
            inside = m.group(1) == "start"
            continue
        if inside and not SECTION.match(line):
            lines.append(line)
    assert lines, f"{path.name} has no section {name!r}"
    return "\n".join(lines).strip("\n")


# ------------------------------------------------------------------------------------------- the site builds


def test_site_builds_strict(tmp_path):
    """`mkdocs build --strict`: a broken link, a page missing from disk, an unparsable docstring or a snippet whose
    file is gone fails the build."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install -e '.[docs]' (it is in the test "
                                         "extras) to build the documentation")
    pytest.importorskip("material", reason="mkdocs-material is not installed: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings-python is not installed: "
                                                               "pip install -e '.[docs]'")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
                             "--config-file", str(ROOT / "mkdocs.yml")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    for page in ("tour", "own-data", "reading-a-report", "alrnn", "suites"):
        html = (tmp_path / "site" / page / "index.html").read_text()
        assert "--8&lt;--" not in html and "--8<--" not in html, f"{page}: a snippet marker was rendered"


# --------------------------------------------------------------------------------- tutorials are real scripts


def _included_files() -> dict[str, set[str]]:
    """{page name: files it includes with pymdownx.snippets (path relative to the repository root)}."""
    return {p.relative_to(DOCS).as_posix(): {m.split(":")[0] for m in SNIPPET.findall(p.read_text())}
            for p in _pages()}


def test_every_tutorial_script_is_on_a_page_and_every_included_file_exists():
    included = _included_files()
    files = set().union(*included.values())
    for name in files:
        assert (ROOT / name).is_file(), f"a page includes {name}, which does not exist"
    tutorials = {p.relative_to(ROOT).as_posix() for p in EXAMPLES.glob("tutorial_*.py")} | {"examples/own_data.py"}
    assert tutorials <= files, f"tutorial scripts on no page: {sorted(tutorials - files)}"
    for page in ("tour.md", "own-data.md", "reading-a-report.md", "alrnn.md", "suites.md"):
        assert any(f.startswith("examples/") for f in included.get(page, ())), f"{page} shows no example script"


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_has_tiny_settings(script):
    """tests/test_examples.py runs each with --tiny: the flag must exist, or the test runs the full size."""
    assert "--tiny" in script.read_text(), f"{script.name} has no --tiny settings"


def test_readme_python_tour_is_the_tour_script():
    blocks = _fenced(README.read_text(), ("python",))
    tour = _section(EXAMPLES / "tutorial_tour.py", "tour")
    assert any(b.strip("\n") == tour for b in blocks), (
        "README.md's Python tour differs from examples/tutorial_tour.py (between its [start:tour] and [end:tour] "
        "markers); copy the script's section into the README")


# ------------------------------------------------------------------------------- `dsr` commands in the docs parse


def _commands(text: str) -> list[str]:
    """Every `dsr ...` command line of the bash blocks of `text` (comments and continuation lines joined)."""
    out = []
    for block in _fenced(text, ("bash", "sh", "shell", "console")):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            words = shlex.split(line, comments=True)
            while words and (words[0].endswith("/dsr") or words[0] in ("dsr", "taskset", "-c") or words[0].isdigit()):
                if words[0] == "dsr" or words[0].endswith("/dsr"):
                    out.append(shlex.join(["dsr", *words[1:]]))
                    break
                words = words[1:]
    return out


def _documented_commands() -> list[tuple[str, str]]:
    found = [(README.name, c) for c in _commands(README.read_text())]
    for page in _pages():
        found += [(page.relative_to(ROOT).as_posix(), c) for c in _commands(page.read_text())]
    return found


DOCUMENTED = _documented_commands()


def test_the_readme_and_the_docs_show_commands():
    readme = [c for where, c in DOCUMENTED if where == README.name]
    assert len(readme) >= 10, readme
    for cmd in ("simulate", "train", "evaluate", "analyze", "report", "reconstruct", "bench"):
        assert any(c.split()[1:2] == [cmd] for c in readme), f"the README's tour does not show `dsr {cmd}`"


@pytest.mark.parametrize("where, command", DOCUMENTED, ids=[f"{w}: {c[:60]}" for w, c in DOCUMENTED])
def test_documented_command_parses(where, command):
    """Each command is parsed by the real `dsr` (click) without running it: an unknown command or option, a
    missing required option or a value of the wrong type fails here."""
    import click
    import typer

    from dsrkit.cli import app

    group = typer.main.get_command(app)
    args = shlex.split(command)[1:]
    if not args or args[0] in ("-h", "--help", "--version"):
        return
    name, rest = args[0], args[1:]
    cmd = group.get_command(click.Context(group), name)
    assert cmd is not None, f"{where}: `dsr {name}` is not a command (commands: {sorted(group.list_commands(None))})"
    if "--help" in rest or "-h" in rest:
        return
    try:
        with cmd.make_context(f"dsr {name}", list(rest), resilient_parsing=False) as ctx:
            assert ctx.command is cmd
    except click.ClickException as exc:
        pytest.fail(f"{where}: `{command}` does not parse: {exc.format_message()}")


def test_every_command_has_help():
    """`dsr <command> --help` exits 0 for every command the docs use (in-process; the same parser as above)."""
    from typer.testing import CliRunner

    from dsrkit.cli import app

    runner = CliRunner()
    for name in sorted({c.split()[1] for _, c in DOCUMENTED if len(c.split()) > 1 and not c.split()[1].startswith("-")}):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, f"dsr {name} --help: {result.output[-2000:]}"


# ------------------------------------------------------------------------------ the README's shell tour runs

#: the README's shell tour at tiny size: each (full, tiny) replacement must match the README (a tour line that
#: changes fails here until this table follows it)
TINY_SHELL = (("--n-steps 100000", "--n-steps 2000"), ("--epochs 1000", "--epochs 2"),
              ("dsr bench core --fast ", "dsr bench core --fast --task lorenz63 --method mean --method parroting "))


@pytest.mark.slow
def test_readme_shell_tour_runs_tiny(tmp_path):
    """The README's shell tour, line by line in one shell (`set -e`), at tiny size, in an empty folder: `dsr` from
    this environment stands in for `source .venv/bin/activate`. Slow (about a minute of CPU: ten `dsr` processes,
    each importing dsrkit and compiling), so `make test` leaves it out and checks that every line parses instead;
    run it with `pytest -m slow tests/test_docs.py`."""
    text = README.read_text()
    start, end = text.index("[start:shell-tour]"), text.index("[end:shell-tour]")
    (block,) = _fenced(text[start:end], ("bash",))
    for full, tiny in TINY_SHELL:
        assert full in block, f"the README's shell tour no longer has {full!r}: update TINY_SHELL"
        block = block.replace(full, tiny)
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("source .venv/bin/activate")]
    assert len(lines) >= 10, lines
    script = "set -euo pipefail\n" + "\n".join(f"echo '+ {ln.split('#')[0].strip()}' >&2\n{ln}" for ln in lines)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "runs" / "l63" / "report.html").is_file()
