"""casetracker: complaint and racial-profiling case tracking for 287(g) oversight."""

import os

# Piccolo looks for its configuration module by name; point it at ours so the CLI, the app
# and the tests work from any directory.
os.environ.setdefault("PICCOLO_CONF", "casetracker.piccolo_conf")

__version__ = "0.1.0"
