# SPDX-License-Identifier: GPL-2.0-or-later
"""A strict parser of the Prometheus text format (version 0.0.4) for the
controller's /metrics: every sample line belongs to a family announced by
HELP and TYPE before it, names and labels are well formed, label values
are properly escaped, values are numbers, counters are not negative, and
no series appears twice. Reads stdin; exits 1 naming the first problem.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)(?: (-?\d+))?$")
types, helps, seen = {}, set(), set()
n = 0
for i, line in enumerate(sys.stdin.read().split("\n"), 1):
    if line == "":
        continue
    if line.startswith("# HELP "):
        parts = line.split(" ", 3)
        if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
            sys.exit(f"line {i}: bad HELP: {line}")
        helps.add(parts[2])
        continue
    if line.startswith("# TYPE "):
        parts = line.split(" ")
        if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram",
                                                "summary", "untyped"):
            sys.exit(f"line {i}: bad TYPE: {line}")
        if parts[2] in types:
            sys.exit(f"line {i}: TYPE of {parts[2]} given twice")
        types[parts[2]] = parts[3]
        continue
    if line.startswith("#"):
        continue
    m = SAMPLE.match(line)
    if not m:
        sys.exit(f"line {i}: not a sample: {line}")
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    if name not in types or name not in helps:
        sys.exit(f"line {i}: {name} has no HELP/TYPE before it")
    try:
        v = float(value)
    except ValueError:
        sys.exit(f"line {i}: value {value!r} is not a number")
    if types[name] == "counter" and v < 0:
        sys.exit(f"line {i}: counter {name} is negative")
    key = (name, labels)
    if key in seen:
        sys.exit(f"line {i}: series given twice: {name}{{{labels}}}")
    seen.add(key)
    n += 1
if n == 0:
    sys.exit("no samples")
print(f"strict parser: {n} samples in {len(types)} families, clean")
