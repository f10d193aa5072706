"""Importing dsrkit changes nothing process-wide: JAX's configuration (64-bit types, the compilation cache) and
matplotlib's backend stay as the importing program left them, and dsrkit's figures never enter pyplot's figure list.
The float64 that dsrkit computes in is scoped to its own calls (`dsrkit._precision`), and the caller's setting is
back when they return. Each check runs in a fresh interpreter, so that nothing imported before can hide a change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SNAPSHOT = textwrap.dedent("""
    import json, sys
    import jax
    import matplotlib

    def snapshot():
        values = {}
        for name in sorted(jax.config.values):
            try:
                values[name] = repr(getattr(jax.config, name))
            except Exception as e:  # an option that cannot be read counts as its error
                values[name] = f"error: {type(e).__name__}"
        return {"jax": values, "backend": matplotlib.get_backend(),
                "rc_backend": repr(matplotlib.rcParams._get("backend"))}
""")


def _run(code: str, **env) -> dict:
    full_env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JAX_ENABLE_X64")}
    full_env.update(env)
    result = subprocess.run([sys.executable, "-c", SNAPSHOT + textwrap.dedent(code)], capture_output=True, text=True,
                            env=full_env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


IMPORTS = """
    before = snapshot()
    import dsrkit, dsrkit.report, dsrkit.report.figures, dsrkit.report.html, dsrkit.report.interpretation
    import dsrkit.bench, dsrkit.bench.html_report, dsrkit.pipeline, dsrkit.cli
    print(json.dumps({"before": before, "after": snapshot(), "x64": bool(jax.config.jax_enable_x64)}))
"""


@pytest.mark.parametrize("env", [{}, {"MPLBACKEND": "svg"}, {"JAX_ENABLE_X64": "1", "MPLBACKEND": "pdf"}],
                         ids=["defaults", "svg-backend", "x64-on"])
def test_import_changes_no_jax_option_and_no_matplotlib_backend(env):
    out = _run(IMPORTS, **env)
    changed = {k: (v, out["after"]["jax"][k]) for k, v in out["before"]["jax"].items() if out["after"]["jax"][k] != v}
    assert changed == {}
    assert (out["after"]["backend"], out["after"]["rc_backend"]) == (out["before"]["backend"],
                                                                     out["before"]["rc_backend"])
    assert out["x64"] == (env.get("JAX_ENABLE_X64") == "1")
    if "MPLBACKEND" in env:
        assert out["after"]["backend"] == env["MPLBACKEND"]


def test_report_figures_stay_outside_pyplot_and_keep_the_backend(tmp_path):
    out = _run(f"""
        import io
        import matplotlib.pyplot as plt
        import numpy as np
        before = snapshot()
        import dsrkit
        from dsrkit._files import save_figure
        from dsrkit.report import figures
        from dsrkit.report.html import figure_png
        rng = np.random.default_rng(0)
        X, Y = rng.standard_normal((300, 3)), rng.standard_normal((300, 3))
        made = [figures.attractor(X), figures.attractors(X, Y), figures.attractors(X[:, :2], Y[:, :2]),
                figures.time_series(X, Y, 0.01), figures.power_spectra(X, Y, 0.01),
                figures.learning_curves({{"loss": [1.0, 0.5, 0.2], "d_stsp": [3.0, 2.0, 1.0]}})]
        kinds = sorted({{type(f).__name__ for f in made}})
        save_figure(made[0], {str(tmp_path / "a.png")!r})
        save_figure(made[1], {str(tmp_path / "b.svg")!r})
        png = figure_png(made[2])
        pyplot_fig = plt.figure()  # a caller's own pyplot figure is closed after saving, as before
        save_figure(pyplot_fig, {str(tmp_path / "c.png")!r})
        print(json.dumps({{"before": before, "after": snapshot(), "fignums": plt.get_fignums(), "kinds": kinds,
                          "png": png[:4].hex()}}))
    """, MPLBACKEND="svg")
    assert out["kinds"] == ["Figure"]
    assert out["fignums"] == []
    assert out["after"]["backend"] == out["before"]["backend"] == "svg"
    assert out["png"] == b"\x89PNG".hex()
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "c.png").is_file()


def test_float64_is_scoped_to_dsrkit_calls():
    """Without JAX's 64-bit mode, dsrkit still integrates, analyses and loads in float64, and the mode is off again
    afterwards; with it switched on by the caller, it stays on."""
    code = """
        import jax.numpy as jnp
        import numpy as np
        import dsrkit
        from dsrkit import systems
        from dsrkit.metrics import lyapunov_spectrum
        from dsrkit.models import PLRNN
        start = bool(jax.config.jax_enable_x64)
        s = systems.get("lorenz63")
        X = s.trajectory(50, transient=0)
        J = s.jacobian(s.x0)
        lam = lyapunov_spectrum(systems.get("henon"), 2000, transient=100)
        m64 = PLRNN(3, 5, key=jax.random.key(0), dtype=jnp.float64)
        m32 = PLRNN(3, 5, key=jax.random.key(0))
        y64 = dsrkit.generate(m64, np.ones(3), 5)
        y32 = dsrkit.generate(m32, np.ones(3), 5)
        print(json.dumps({"start": start, "end": bool(jax.config.jax_enable_x64),
                          "dtypes": [str(a.dtype) for a in (X, J, lam, m64.A, y64, m32.A, y32)],
                          "default_dtype": str(jnp.zeros(1).dtype)}))
    """
    off = _run(code)
    assert off["start"] is False and off["end"] is False and off["default_dtype"] == "float32"
    assert off["dtypes"] == ["float64"] * 5 + ["float32", "float32"]
    on = _run(code, JAX_ENABLE_X64="1")
    assert on["start"] is True and on["end"] is True and on["default_dtype"] == "float64"
    assert on["dtypes"] == off["dtypes"]
