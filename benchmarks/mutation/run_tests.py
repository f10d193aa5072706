"""Run one mutation group's tests: `python run_tests.py GROUP.toml [--list]` from the root of a snapshot.

Reads the test ids of `[tests] ids` in GROUP.toml and runs those present in this revision's tests (a file that
exists and defines the test function) with `pytest -x -q -p no:cacheprovider`, in the listed order. Its exit code
is pytest's: 0 when all pass (the mutant survived), non-zero otherwise. With no test present it exits 5 (pytest's
"no tests collected"), which `run.sh` refuses in its unmutated baseline run. `--list` prints the ids it would run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path


def present_ids(config: Path) -> list[str]:
    ids = tomllib.loads(config.read_text())["tests"]["ids"]
    out, sources = [], {}
    for test_id in ids:
        path, _, name = test_id.partition("::")
        if path not in sources:
            sources[path] = Path(path).read_text() if Path(path).is_file() else ""
        function = re.escape(name.split("[", 1)[0])
        if not name or re.search(rf"^def {function}\(", sources[path], re.MULTILINE):
            out.append(test_id)
    return out


def main(argv: list[str]) -> int:
    ids = present_ids(Path(argv[0]))
    if "--list" in argv[1:]:
        print("\n".join(ids))
        return 0
    if not ids:
        print(f"{argv[0]}: none of the listed tests exists in this revision", file=sys.stderr)
        return 5
    return subprocess.call([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *ids])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
