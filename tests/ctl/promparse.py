# SPDX-License-Identifier: GPL-2.0-or-later
"""A strict parser of the Prometheus text exposition format (0.0.4) for the
controller's /metrics. Stricter than a Python float() or a lenient scraper:

- every sample belongs to a family announced by HELP and TYPE before it
  (each at most once), and a family's lines are contiguous: once another
  family starts, an earlier one may not come back;
- metric and label names are well formed, a label appears at most once in
  a sample, label values use only the escapes \\\\, \\" and \\n;
- values are what the format allows: a decimal or exponent number, NaN,
  +Inf or -Inf; not "1_0", "infinity", "inf", "0x10" or "1 " forms that
  Python's float() takes; one space between the fields; timestamps are
  integers;
- counters are not negative, histogram/summary samples use their suffixes;
- no series appears twice.

Usage: promparse.py < metrics.txt   (exits 1 naming the first problem)
As a module: parse(text) -> (samples, families), raises ValueError.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf")
TIMESTAMP = re.compile(r"-?[0-9]+")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"),
            "summary": ("_sum", "_count", "")}


def _labels(text, where):
    """Parses '{a="x",b="y"}' contents; returns the list of (name, value)."""
    out, i, n = [], 0, len(text)
    while i < n:
        m = re.compile(LABEL_NAME).match(text, i)
        if not m:
            raise ValueError(f"{where}: expected a label name at {text[i:i + 20]!r}")
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            raise ValueError(f"{where}: label {name}: expected =\"")
        i += 2
        val = []
        while True:
            if i >= n:
                raise ValueError(f"{where}: label {name}: unterminated value")
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                if i + 1 >= n or text[i + 1] not in '\\"n':
                    raise ValueError(f"{where}: label {name}: bad escape {text[i:i + 2]!r}")
                val.append({"\\": "\\", '"': '"', "n": "\n"}[text[i + 1]])
                i += 2
                continue
            if c == "\n":
                raise ValueError(f"{where}: label {name}: raw newline in the value")
            val.append(c)
            i += 1
        if any(k == name for k, _ in out):
            raise ValueError(f"{where}: label {name} given twice in one sample")
        out.append((name, "".join(val)))
        if i < n:
            if text[i] != ",":
                raise ValueError(f"{where}: expected , or }} after label {name}")
            i += 1
            if i == n:
                break  # a trailing comma is allowed
    return out


def _help_ok(text):
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1:i + 2] not in ("\\", "n"):
                return False
            i += 2
        else:
            i += 1
    return True


def _family(name, types):
    """The family a sample name belongs to, or None."""
    if name in types and types[name] not in ("histogram",):
        return name
    for fam, t in types.items():
        for suf in SUFFIXES.get(t, ()):
            if suf and name == fam + suf:
                return fam
    return None


def parse(text):
    types, helps, seen = {}, set(), set()
    done = set()      # families that are over (another one started)
    current = None    # family of the lines being read
    n = 0

    def enter(fam, where):
        nonlocal current
        if fam == current:
            return
        if fam in done:
            raise ValueError(f"{where}: family {fam} comes back after other families; "
                             "expected its lines together")
        if current is not None:
            done.add(current)
        current = fam

    if text and not text.endswith("\n"):
        raise ValueError("the text does not end with a newline")
    for i, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        where = f"line {i}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not re.fullmatch(NAME, parts[2]):
                    raise ValueError(f"{where}: bad {parts[1]}: {line}")
                fam = parts[2]
                enter(fam, where)
                if parts[1] == "HELP":
                    if fam in helps:
                        raise ValueError(f"{where}: HELP of {fam} given twice")
                    if not _help_ok(parts[3] if len(parts) > 3 else ""):
                        raise ValueError(f"{where}: HELP of {fam}: bad escape; expected only \\\\ and \\n")
                    helps.add(fam)
                else:
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError(f"{where}: bad TYPE: {line}")
                    if fam in types:
                        raise ValueError(f"{where}: TYPE of {fam} given twice")
                    types[fam] = parts[3]
            continue
        m = re.match(rf"({NAME})(\{{(.*)\}})?( .*)$", line)
        if not m:
            raise ValueError(f"{where}: not a sample: {line}")
        name, labels = m.group(1), m.group(3)
        rest = m.group(4)[1:].split(" ")
        if len(rest) not in (1, 2) or not VALUE.fullmatch(rest[0]):
            raise ValueError(f"{where}: value {m.group(4)[1:]!r} is not a number of the format "
                             "(decimal, exponent, NaN, +Inf, -Inf; an optional integer timestamp)")
        if len(rest) == 2 and not TIMESTAMP.fullmatch(rest[1]):
            raise ValueError(f"{where}: timestamp {rest[1]!r}: expected an integer (ms)")
        fam = _family(name, types)
        if fam is None or fam not in helps:
            raise ValueError(f"{where}: {name} has no HELP and TYPE before it")
        enter(fam, where)
        lab = _labels(labels, where) if labels else []
        v = float(rest[0])
        if types[fam] == "counter" and v < 0:
            raise ValueError(f"{where}: counter {name} is negative")
        key = (name, tuple(sorted(lab)))
        if key in seen:
            raise ValueError(f"{where}: series given twice: {name}{{{labels or ''}}}")
        seen.add(key)
        n += 1
    if n == 0:
        raise ValueError("no samples")
    return n, len(types)


def main():
    try:
        n, f = parse(sys.stdin.read())
    except ValueError as e:
        sys.exit(str(e))
    print(f"strict parser: {n} samples in {f} families, clean")


if __name__ == "__main__":
    main()
