"""The corral benchmark: every peer server, every scenario, one command.

    python bench/run.py [--scenarios a,b] [--servers x,y] [--rounds 5] [--duration 10]
                        [--warmup 3] [--baseline FILE] [--json FILE] [--out DIR]

See bench/README.md. The harness installs the peers into bench/.venv and runs
itself with that venv's Python.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
