"""Run every ``bench/bench_*.py`` module's ``main()`` in name order and print its figures.

Usage (from the repository root): ``.venv/bin/python bench/run.py [NAME ...]``, where a NAME
(e.g. ``nncore``) picks only ``bench_NAME.py``. Each ``main()`` returns a dict of figures
(label -> value); a benchmark that misses its target says MISS but the exit code stays 0, so
a slow machine never fails a build. A benchmark that crashes is reported and exits 1.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(ROOT))


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    paths = sorted(HERE.glob("bench_*.py"))
    if wanted:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in wanted or p.stem in wanted]
        if not paths:
            print(f"bench: no benchmark named {', '.join(sorted(wanted))}", file=sys.stderr)
            return 2
    failed = 0
    for path in paths:
        print(f"== {path.stem}", flush=True)
        t0 = time.perf_counter()
        try:
            figures = load(path).main() or {}
        except Exception:
            failed += 1
            traceback.print_exc()
            continue
        width = max((len(k) for k in figures), default=0)
        for label, value in figures.items():
            print(f"  {label:<{width}}  {value}")
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
