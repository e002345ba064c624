# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/ctl/promparse.py on inputs made to break it: each bad one must be
refused with the reason named, each good one accepted."""
import sys
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from promparse import parse
H = "# HELP m A metric.\n# TYPE m counter\n"
G = "# HELP g A gauge.\n# TYPE g gauge\n"
good = [
    H + 'm{a="x"} 1\n',
    H + 'm{a="x",b="y\\\\ \\" \\n"} 1.5e3\n' + G + "g -2\ng{l=\"1\"} NaN\n",
    H + "m 1 1700000000000\n" + G + "g +Inf\n",
    H + 'm{a="x",} 0\n',
    "# HELP s S.\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n",
    "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n",
]
bad = [
    (H + "m 1_0\n", "not a number"),
    (H + "m infinity\n", "not a number"),
    (H + "m inf\n", "not a number"),
    (H + "m 0x10\n", "not a number"),
    (H + "m  1\n", "not a number"),
    (H + "m 1 \n", "timestamp"),
    (H + "m 1 1.5\n", "timestamp"),
    (H + 'm{a="x",a="y"} 1\n', "given twice in one sample"),
    (H + 'm{a="x"} 1\n' + G + "g 1\n" + 'm{a="y"} 2\n', "comes back"),
    (H + G + "m 1\n", "comes back"),
    (H + 'm{a="x"} 1\nm{a="x"} 2\n', "series given twice"),
    (H + 'm{b="1",a="2"} 1\nm{a="2",b="1"} 1\n', "series given twice"),
    (H + "m -1\n", "negative"),
    ("m 1\n", "no HELP and TYPE"),
    ("# TYPE m counter\nm 1\n", "no HELP and TYPE"),
    (H + "# TYPE m gauge\nm 1\n", "TYPE of m given twice"),
    (H + "# HELP m again\nm 1\n", "HELP of m given twice"),
    (H + 'm{a="\\t"} 1\n', "bad escape"),
    (H + 'm{a="x} 1\n', "unterminated"),
    (H + 'm{1a="x"} 1\n', "label name"),
    (H + 'm{a=x} 1\n', 'expected ="'),
    (H + 'm{a="x" b="y"} 1\n', "expected , or }"),
    ("# HELP m bad \\t escape\n# TYPE m counter\nm 1\n", "bad escape"),
    (H + "m 1", "newline"),
    (H, "no samples"),
    ("# HELP h H.\n# TYPE h histogram\nh 1\n", "no HELP and TYPE"),
    ("# HELP 1m x\n# TYPE 1m counter\n", "bad HELP"),
    (H.replace("counter", "countr") + "m 1\n", "bad TYPE"),
]
fails = 0
for t in good:
    try:
        parse(t)
    except ValueError as e:
        print(f"FAIL: good input refused: {t!r}: {e}"); fails += 1
for t, want in bad:
    try:
        parse(t)
        print(f"FAIL: accepted: {t!r}"); fails += 1
    except ValueError as e:
        if want not in str(e):
            print(f"FAIL: {t!r}: {e} (expected '{want}')"); fails += 1
print(f"{len(good)} good inputs accepted, {len(bad)} bad ones refused with the right reason" if not fails else f"{fails} failures")
sys.exit(1 if fails else 0)
