#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Line and branch coverage per module from a gcovr JSON report.

    scripts/covtable.py COVERAGE.json [--brief] [--label TEXT]

Modules are the folders of src/ (and "cli" for tools/).  Without --brief it
also lists the files with the most uncovered lines and the functions never
called.  With --brief, one table only, and only the modules the run reached
(a line covered), each row prefixed with --label (a fuzz target's name, for
scripts/fuzz-coverage).
"""
import collections
import json
import sys

ORDER = ["base", "pgtable", "iotlb", "iova", "mem", "core", "ioas", "iopf", "mm",
         "replay", "cli"]


def module_of(path):
    parts = path.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return "cli" if parts[0] == "tools" else parts[0]


def pct(a, b):
    return "%5.1f%%" % (100.0 * a / b) if b else "   - "


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    brief = "--brief" in argv
    label = ""
    if "--label" in argv:
        label = argv[argv.index("--label") + 1]
        args.remove(label)
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    data = json.load(open(args[0]))
    mods = collections.OrderedDict()
    files, never = [], []
    for f in data["files"]:
        path = f["file"]
        m = mods.setdefault(module_of(path), [0, 0, 0, 0])
        unc = 0
        for line in f["lines"]:
            if line.get("gcovr/noncode"):
                continue
            m[0] += 1
            if line["count"]:
                m[1] += 1
            else:
                unc += 1
            for b in line.get("branches", []):
                m[2] += 1
                if b["count"]:
                    m[3] += 1
        files.append((unc, path))
        for fn in f.get("functions", []):
            if not fn.get("execution_count"):
                never.append((path, fn.get("lineno", 0), fn.get("name", "?")))

    head = ("%-12s " % "target") if brief else ""
    pre = ("%-12s " % label) if brief else ""
    print(head + "%-10s %8s %8s %7s %9s %9s %7s" % ("module", "lines", "covered", "line%",
                                                  "branches", "covered", "branch%"))
    tot = [0, 0, 0, 0]
    for mod in sorted(mods, key=lambda m: ORDER.index(m) if m in ORDER else 99):
        l, lc, b, bc = mods[mod]
        tot = [t + v for t, v in zip(tot, mods[mod])]
        if brief and not lc:
            continue
        print(pre + "%-10s %8d %8d %7s %9d %9d %7s" % (mod, l, lc, pct(lc, l), b, bc,
                                                      pct(bc, b)))
    print(pre + "%-10s %8d %8d %7s %9d %9d %7s" % ("total", tot[0], tot[1],
                                                  pct(tot[1], tot[0]), tot[2], tot[3],
                                                  pct(tot[3], tot[2])))
    if brief:
        return 0
    print()
    print("files with the most uncovered lines:")
    for unc, path in sorted(files, reverse=True)[:12]:
        print("  %5d  %s" % (unc, path))
    print()
    print("functions never called (%d):" % len(never))
    for path, line, name in sorted(never)[:60]:
        print("  %s:%d  %s" % (path, line, name))
    if len(never) > 60:
        print("  ... (%d more: see the HTML report)" % (len(never) - 60))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
