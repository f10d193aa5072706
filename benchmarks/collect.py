"""Rebuild BENCHMARKS.md from the per-area result files in benchmarks/results/*.md.

    python benchmarks/collect.py

Each area's benchmark script writes (or its runner pastes) a markdown file with the machine, the command, the date
and the numbers; this script only concatenates them in a fixed order under one header.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["systems", "metrics", "training", "analysis", "baselines", "baselines_vs_reference", "reconstruct", "bench"]
HEADER = """# Benchmarks

Speed and quality of dsrkit, each number from a script in `benchmarks/` that anyone can rerun (the command is
given with each table). Timings on shared machines are noisy: tables report medians, and ratios measured side by
side in one run. Sections below are assembled by `python benchmarks/collect.py` from `benchmarks/results/*.md`.
"""


def _demote_headings(text: str) -> str:
    """Every markdown heading one level deeper (outside fenced code), so each area sits under the one header."""
    out, fenced = [], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        out.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


def main() -> None:
    files = {p.stem: p for p in (ROOT / "benchmarks" / "results").glob("*.md")}
    names = [n for n in ORDER if n in files] + sorted(n for n in files if n not in ORDER)
    sections = [_demote_headings(files[n].read_text().strip()) for n in names]
    (ROOT / "BENCHMARKS.md").write_text(HEADER + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote BENCHMARKS.md from {', '.join(names)}")


if __name__ == "__main__":
    main()
