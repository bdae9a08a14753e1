"""The development benchmark under its first name: ``python -m recognition.bench DIR [options]``
runs ``python -m benchmarks.vision`` (the benchmark moved there with the rest of the research
tooling; CHANGELOG). Kept so that the commands in issues and older notes still run."""

from __future__ import annotations

import runpy

if __name__ == "__main__":
    runpy.run_module("benchmarks.vision", run_name="__main__", alter_sys=True)
