#!/usr/bin/env bash
# The layering of the source tree (tests/check_layers.py): includes point
# down, no cycles, no oversized files.  Args: CLI, tests/data, source dir.
set -u
SRC=$3
exec /usr/bin/python3 "$SRC/tests/check_layers.py" "$SRC"
