#!/usr/bin/python3
"""Compare two `hicache run` output directories value by value, ignoring timing.

usage: tools/compare_runs.py [--allow-added] DIR_A DIR_B

Compares results.csv, summary.json, table.md, table.tex and the figure data
(figures/*.csv and the gnuplot scripts figures/*.gp).  Timing values are
ignored: the metrics seconds, seconds_full, wall_speedup and cell_seconds
(wherever they appear), the latency columns of the tables (and which row is
bold in them), and the provenance time, commit and host (also the commit in
the comment lines of table.md, table.tex and the .gp scripts).  Rendered
figures (.png, .pdf) are not compared.

Prints each differing non-timing value and exits 1 if there is any, else
prints a one-line summary and exits 0.  Standard library only.

--allow-added: B may ADD to A but not change it: results.csv rows are
matched by (cell, engine, method, label, seed, metric) and B may have rows
A has not; summary.json objects may have keys A has not (A's keys in the
same order); table columns are matched by header and B may have more; lines
B inserts (legends, comments) are allowed; a table cell of B may add
" ± HALF_WIDTH" and a mark (▲/▼; LaTeX $\pm$, $\blacktriangle$) after A's
value; figure CSVs may have more columns after A's, and the .gp scripts
(which draw the added columns) are not compared.  Everything A has must be
in B with the same value.
"""
import difflib
import csv
import json
import os
import re
import sys

TIMING_KEYS = {"seconds", "seconds_full", "wall_speedup", "cell_seconds"}
TIMING_HEADERS = {"Latency (s)", "Latency speedup"}  # table headers of the timing metrics
PROVENANCE_IGNORED = {"time_utc", "git_commit", "host"}
COMMIT_RE = re.compile(r"commit [0-9a-f]+(-dirty)?|commit unknown")

diffs = []
ALLOW_ADDED = False


def report(where, a, b):
    diffs.append(f"{where}: {a!r} != {b!r}")


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        return e


def both(rel, a_dir, b_dir):
    """The texts of rel in both directories, or None after reporting a missing file."""
    ta, tb = read_text(os.path.join(a_dir, rel)), read_text(os.path.join(b_dir, rel))
    if isinstance(ta, Exception) or isinstance(tb, Exception):
        if not (isinstance(ta, Exception) and isinstance(tb, Exception)):
            report(rel, "present" if not isinstance(ta, Exception) else "missing",
                   "present" if not isinstance(tb, Exception) else "missing")
        return None
    return ta, tb


# ---- results.csv ----------------------------------------------------------------------

def compare_results(a_dir, b_dir):
    t = both("results.csv", a_dir, b_dir)
    if not t:
        return
    rows = []
    for text in t:
        r = list(csv.reader(text.splitlines()))
        rows.append(r)
    ra, rb = rows
    if ALLOW_ADDED:
        return compare_results_keyed(ra, rb)
    if ra[:1] != rb[:1]:
        report("results.csv: header", ra[:1], rb[:1])
    if len(ra) != len(rb):
        report("results.csv: rows", len(ra), len(rb))
    for i, (x, y) in enumerate(zip(ra[1:], rb[1:]), start=2):
        if x[:6] != y[:6]:
            report(f"results.csv:{i}: row", x, y)
            continue
        if x[5] in TIMING_KEYS:
            continue
        if x[6:] != y[6:]:
            report(f"results.csv:{i}: {x[0]} {x[5]}", x[6:], y[6:])


def compare_results_keyed(ra, rb):
    if ra[:1] != rb[:1]:
        report("results.csv: header", ra[:1], rb[:1])
    kb = {tuple(x[:6]): x[6:] for x in rb[1:]}
    order_b = {tuple(x[:6]): i for i, x in enumerate(rb[1:])}
    last = -1
    for i, x in enumerate(ra[1:], start=2):
        k = tuple(x[:6])
        if k not in kb:
            report(f"results.csv:{i}: row", x, "missing")
            continue
        if order_b[k] < last:
            report(f"results.csv:{i}: order", x, "moved")
        last = order_b[k]
        if x[5] not in TIMING_KEYS and x[6:] != kb[k]:
            report(f"results.csv:{i}: {x[0]} {x[5]}", x[6:], kb[k])


# ---- summary.json ----------------------------------------------------------------------

def compare_json(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        if ALLOW_ADDED:
            kb = [k for k in b.keys() if k in a]
            if list(a.keys()) != kb:
                report(f"{path}: keys", list(a.keys()), list(b.keys()))
        elif list(a.keys()) != list(b.keys()):
            report(f"{path}: keys", list(a.keys()), list(b.keys()))
        for k in a:
            if k not in b:
                continue
            if k in TIMING_KEYS:
                continue
            if path == "$.provenance" and k in PROVENANCE_IGNORED:
                continue
            if k == "best" and isinstance(a[k], list) and isinstance(b[k], list):
                fa = [x for x in a[k] if x not in TIMING_KEYS]
                fb = [x for x in b[k] if x not in TIMING_KEYS]
                if fa != fb:
                    report(f"{path}.best", fa, fb)
                continue
            compare_json(a[k], b[k], f"{path}.{k}")
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            report(f"{path}: length", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            compare_json(x, y, f"{path}[{i}]")
        return
    if type(a) is not type(b) or a != b:
        report(path, a, b)


def compare_summary(a_dir, b_dir):
    t = both("summary.json", a_dir, b_dir)
    if not t:
        return
    try:
        ja, jb = json.loads(t[0]), json.loads(t[1])
    except ValueError as e:
        report("summary.json", "valid JSON", f"invalid JSON: {e}")
        return
    # a row's "best" may name only timing columns and then be absent in the other run
    for j in (ja, jb):
        for table in j.get("tables", []):
            for row in table.get("rows", []):
                if "best" in row and not [k for k in row["best"] if k not in TIMING_KEYS]:
                    del row["best"]
    compare_json(ja, jb, "$")


# ---- table.md and table.tex ------------------------------------------------------------

def header_name(h):
    """A column header without the direction arrow and LaTeX markup."""
    h = h.replace("↑", "").replace("↓", "").replace("$\\uparrow$", "").replace("$\\downarrow$", "")
    return h.strip()


def unbold(cell):
    cell = cell.strip()
    if cell.startswith("**") and cell.endswith("**"):
        return cell[2:-2]
    m = re.fullmatch(r"\\textbf\{(.*)\}", cell)
    return m.group(1) if m else cell


def strip_added(cell):
    """A table cell without the half-width and mark B may add."""
    cell = cell.strip()
    cell = re.sub(r"(~\$\\blacktriangle(down)?\$| [▲▼])$", "", cell)
    return re.sub(r"( ± | \$\\pm\$ ).*$", "", cell)


def compare_table_added(name, la, lb, split_row, is_header):
    """A's lines in B (B may insert lines); cells by header, B's extras allowed."""
    la = [COMMIT_RE.sub("commit *", x) for x in la]
    lb = [COMMIT_RE.sub("commit *", x) for x in lb]
    sm = difflib.SequenceMatcher(None, la, lb, autojunk=False)
    cols_a = cols_b = None
    pairs = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            pairs += [(i1 + k, j1 + k) for k in range(i2 - i1)]
            continue
        # A's changed lines to B's: the same line, or a table row with the same first cell
        j = j1
        for i in range(i1, i2):
            ra = split_row(la[i])
            while j < j2 and la[i] != lb[j] and not (ra and split_row(lb[j]) and split_row(lb[j])[0] == ra[0]):
                j += 1
            if j == j2:
                report(f"{name}:{i + 1}", la[i], "missing")
                j = j1
                continue
            pairs.append((i, j))
            j += 1
    for i, j in pairs:
        x, y = la[i], lb[j]
        ca, cb = split_row(x), split_row(y)
        if ca and is_header(x):
            cols_a = [header_name(c) for c in ca]
        if cb and is_header(y):
            cols_b = [header_name(c) for c in cb]
        if x == y:
            continue
        if not ca or not cb or is_header(x):
            if not (is_header(x) and cols_a and cols_b and all(c in cols_b for c in cols_a)):
                report(f"{name}:{i + 1}", x, y)
            continue
        if cols_a is None or cols_b is None or len(ca) != len(cols_a) or len(cb) != len(cols_b):
            if len(ca) != len(cb):
                report(f"{name}:{i + 1}", x, y)
                continue
            cols_a = cols_b = list(range(len(ca)))
        for k, h in enumerate(cols_a):
            if h in TIMING_HEADERS:
                continue
            if h not in cols_b:
                report(f"{name}:{i + 1}: column {h}", ca[k].strip(), "missing")
                continue
            u, v = ca[k], cb[cols_b.index(h)]
            if u.strip() != v.strip() and u.strip() != strip_added(v):  # the same, or B adds to A's
                report(f"{name}:{i + 1}: column {h}", u.strip(), v.strip())


def compare_table(name, a_dir, b_dir, split_row, is_header):
    t = both(name, a_dir, b_dir)
    if not t:
        return
    if ALLOW_ADDED:
        return compare_table_added(name, t[0].splitlines(), t[1].splitlines(), split_row, is_header)
    la, lb = t[0].splitlines(), t[1].splitlines()
    if len(la) != len(lb):
        report(f"{name}: lines", len(la), len(lb))
    timing_cols = set()
    for i, (x, y) in enumerate(zip(la, lb), start=1):
        x, y = COMMIT_RE.sub("commit *", x), COMMIT_RE.sub("commit *", y)
        if x == y:
            cells = split_row(x)
            if cells and is_header(x):
                timing_cols = {k for k, c in enumerate(cells) if header_name(c) in TIMING_HEADERS}
            continue
        ca, cb = split_row(x), split_row(y)
        if not ca or not cb or len(ca) != len(cb):
            report(f"{name}:{i}", x, y)
            continue
        for k, (u, v) in enumerate(zip(ca, cb)):
            if k in timing_cols:
                continue
            if unbold(u) != unbold(v):
                report(f"{name}:{i}: column {k}", u.strip(), v.strip())
            elif u.strip() != v.strip():
                report(f"{name}:{i}: column {k} bold", u.strip(), v.strip())


def md_row(line):
    if not line.startswith("|"):
        return None
    return [c for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def md_header(line):
    return line.startswith("| Method |")


def tex_row(line):
    if not line.endswith("\\\\"):
        return None
    return line[: -2].split(" & ")


def tex_header(line):
    return line.startswith("Method &")


# ---- figures ---------------------------------------------------------------------------

def figure_files(d):
    fd = os.path.join(d, "figures")
    try:
        return {f for f in os.listdir(fd) if f.endswith((".csv", ".gp"))}
    except OSError:
        return set()


def timing_axes(gp_text):
    """Columns of the figure CSV (x = 2, y = 3) that hold timing values."""
    cols = set()
    for ax, col in (("xlabel", 2), ("ylabel", 3)):
        m = re.search(rf'set {ax} "([^"]*)"', gp_text or "")
        if m and any(h in m.group(1) for h in TIMING_HEADERS):
            cols.add(col)
    return cols


def compare_figures(a_dir, b_dir):
    fa, fb = figure_files(a_dir), figure_files(b_dir)
    for f in sorted(fa ^ fb):
        report(f"figures/{f}", "present" if f in fa else "missing", "present" if f in fb else "missing")
    for f in sorted(fa & fb):
        rel = os.path.join("figures", f)
        t = both(rel, a_dir, b_dir)
        if not t:
            continue
        if f.endswith(".gp") and ALLOW_ADDED:
            continue
        if f.endswith(".gp"):
            x, y = (COMMIT_RE.sub("commit *", s) for s in t)
            for i, (u, v) in enumerate(zip(x.splitlines(), y.splitlines()), start=1):
                if u != v:
                    report(f"{rel}:{i}", u, v)
            if len(x.splitlines()) != len(y.splitlines()):
                report(f"{rel}: lines", len(x.splitlines()), len(y.splitlines()))
            continue
        gp = read_text(os.path.join(a_dir, "figures", f[:-4] + ".gp"))
        skip = timing_axes(gp if isinstance(gp, str) else "")
        la, lb = t[0].splitlines(), t[1].splitlines()
        if len(la) != len(lb):
            report(f"{rel}: lines", len(la), len(lb))
        for i, (u, v) in enumerate(zip(la, lb), start=1):
            if u == v:
                continue
            ca, cb = u.split(","), v.split(",")
            if ALLOW_ADDED and len(cb) > len(ca):
                cb = cb[:len(ca)]
            if len(ca) != len(cb) or any(p != q for k, (p, q) in enumerate(zip(ca, cb)) if k not in skip):
                report(f"{rel}:{i}", u, v)


def main(argv):
    global ALLOW_ADDED
    if len(argv) > 1 and argv[1] == "--allow-added":
        ALLOW_ADDED = True
        argv = argv[:1] + argv[2:]
    if len(argv) != 3:
        sys.stderr.write("usage: compare_runs.py [--allow-added] DIR_A DIR_B\n")
        return 2
    a_dir, b_dir = argv[1], argv[2]
    for d in (a_dir, b_dir):
        if not os.path.isdir(d):
            sys.stderr.write(f"compare_runs.py: {d}: not a directory\n")
            return 2
    compare_results(a_dir, b_dir)
    compare_summary(a_dir, b_dir)
    compare_table("table.md", a_dir, b_dir, md_row, md_header)
    compare_table("table.tex", a_dir, b_dir, tex_row, tex_header)
    compare_figures(a_dir, b_dir)
    for d in diffs:
        print(d)
    if diffs:
        print(f"{len(diffs)} differing value(s) between {a_dir} and {b_dir}")
        return 1
    print(f"identical apart from timing: {a_dir} and {b_dir} "
          f"(results.csv, summary.json, table.md, table.tex, {len(figure_files(a_dir))} figure files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
