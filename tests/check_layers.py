#!/usr/bin/python3
"""The house rules of the source tree, checked from the code itself.

Layers (docs/architecture.md), each a folder; a file may include headers of
its own folder and of the folders its layer lists, never a higher one:

  src/core                       status, atomic output files, provenance, file reading
  src/traj, predictors, src/model   trajectory store | predictor types | model types
  src/eval                       metrics, image quality, classifier, statistics
  src/engine                     cache driver, replay, sampler, live
  analysis                       report: tables, figures
  src/experiment                 config, cells, runner
  src/cli                        the command line

Plus: the model layer and the predictors know nothing of each other; the
replay engine includes nothing from the model layer (FLOPs of a recording
come from the registry through src/engine/cost.h); no include cycles between
units (a .c file and its header; a unit depends on those whose headers
it reaches); no source file over MAX_LINES lines, the Python of tools/ and
tests/ included (a file in OVER_LIMIT may not grow past its count).

usage: check_layers.py SOURCE_DIR     (exit 1 and one line per violation)
"""
import os
import re
import sys

MAX_LINES = 760
PY_DIRS = ("tools", "tests")
# over the limit, kept whole: the golden files' generator_sha256 is this file's
OVER_LIMIT = {"tools/train_flux.py": 1336}
CORE, TRAJ, PRED, MODEL, EVAL, ENGINE, ANALYSIS, EXP, CLI = (
    "src/core", "src/traj", "predictors", "src/model", "src/eval", "src/engine", "analysis",
    "src/experiment", "src/cli")
ALLOWED = {
    CORE: set(),
    TRAJ: {CORE},
    PRED: {CORE},
    MODEL: {CORE},
    EVAL: {CORE, TRAJ, PRED, MODEL},
    ENGINE: {CORE, TRAJ, PRED, MODEL, EVAL},
    ANALYSIS: {CORE, TRAJ, PRED, EVAL, ENGINE},
    EXP: {CORE, TRAJ, PRED, MODEL, EVAL, ENGINE, ANALYSIS},
    CLI: {CORE, TRAJ, PRED, MODEL, EVAL, ENGINE, ANALYSIS, EXP},
}
# file-level exceptions to what the folder may include
FORBIDDEN = [(re.compile(r"src/engine/replay[^/]*\.[ch]$"), MODEL)]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main(src):
    header_home = {}
    files = []
    for layer in ALLOWED:
        d = os.path.join(src, layer)
        if not os.path.isdir(d):
            print(f"{layer}: layer folder missing")
            return 1
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                files.append((layer, name))
                if name.endswith(".h"):
                    if name in header_home:
                        print(f"{layer}/{name}: header name also in {header_home[name]} (includes are bare names)")
                        return 1
                    header_home[name] = layer
    bad = []
    includes = {}  # path -> project headers it includes
    for layer, name in files:
        path = f"{layer}/{name}"
        text = open(os.path.join(src, path), encoding="utf-8").read()
        n = text.count("\n")
        if n > MAX_LINES:
            bad.append(f"{path}: {n} lines (house limit {MAX_LINES})")
        includes[path] = []
        for inc in INCLUDE.findall(text):
            home = header_home.get(os.path.basename(inc))
            if home is None:
                continue  # generated (gitrev.h) or system
            if home != layer and home not in ALLOWED[layer]:
                bad.append(f"{path}: includes {home}/{inc}, a layer {layer} may not use")
            for pat, layer_forbidden in FORBIDDEN:
                if pat.search(path) and home == layer_forbidden:
                    bad.append(f"{path}: includes {home}/{inc} (forbidden for this file)")
            includes[path].append(f"{home}/{os.path.basename(inc)}")
    # units: a .c file with its same-stem header; a unit depends on the units
    # whose headers it reaches (through headers); cycles between units are
    # mutual dependencies
    def unit_of(header):
        c = header[:-2] + ".c"
        return c if c in includes else None

    graph = {}
    for path in includes:
        if not path.endswith(".c"):
            continue
        seen, todo = set(), list(includes[path])
        h = path[:-2] + ".h"
        if h in includes:
            todo += includes[h]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo += includes.get(x, [])
            u = unit_of(x)
            if u and u != path:
                graph.setdefault(path, set()).add(u)
    state = {}

    def visit(u, stack):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                bad.append("include cycle: " + " -> ".join(stack[stack.index(v):] + [v]))
            elif v not in state:
                visit(v, stack)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u, [])
    npy = 0
    for d in PY_DIRS:
        for name in sorted(os.listdir(os.path.join(src, d))):
            if name.endswith(".py"):
                path = f"{d}/{name}"
                n = open(os.path.join(src, path), encoding="utf-8").read().count("\n")
                npy += 1
                if n > OVER_LIMIT.get(path, MAX_LINES):
                    bad.append(f"{path}: {n} lines (house limit {MAX_LINES}" +
                               (f"; kept whole, may not grow past {OVER_LIMIT[path]})" if path in OVER_LIMIT else ")"))
    for line in bad:
        print(line)
    print(f"checked {len(files)} files in {len(ALLOWED)} layers and {npy} Python files: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
