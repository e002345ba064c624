# SPDX-License-Identifier: GPL-2.0-or-later
"""Raw client of the sluiced API for tests: sends bytes, reads reply lines."""
import json
import socket
import sys


def exchange(path, payload, timeout=10.0):
    """Sends payload (bytes) and returns the list of reply objects up to the
    final one (or up to EOF)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(payload)
    f = s.makefile('rb')
    out = []
    while True:
        line = f.readline()
        if not line:
            break
        o = json.loads(line)
        out.append(o)
        if 'ok' in o:
            break
    s.close()
    return out


if __name__ == '__main__':
    print(json.dumps(exchange(sys.argv[1], sys.argv[2].encode() + b'\n')))
