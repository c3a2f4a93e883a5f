"""The hello-world benchmark: a thin wrapper of the harness (bench/run.py).

    python bench/hello.py [--only wsgi|asgi] [any option of bench/run.py]

runs the ``hello-wsgi`` and ``hello-asgi`` scenarios (every server, the nginx
reference and corral with its access log on). See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main


def translate(argv: list[str]) -> list[str]:
    """``--only wsgi|asgi`` becomes ``--scenarios hello-wsgi|hello-asgi``."""
    scenarios = "hello-wsgi,hello-asgi"
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--only":
            scenarios = f"hello-{next(it, 'wsgi')}"
        elif arg.startswith("--only="):
            scenarios = f"hello-{arg.partition('=')[2]}"
        else:
            out.append(arg)
    if not any(a == "--scenarios" or a.startswith("--scenarios=") for a in out):
        out = ["--scenarios", scenarios, *out]
    return out


if __name__ == "__main__":
    sys.exit(main(translate(sys.argv[1:])))
