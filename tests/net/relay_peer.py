#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
relay_peer.py - the two ends of a TCP connection for tests/net/test_relay.sh:
half-close and reset behaviour through relays and socket redirection.

  relay_peer.py hc-server PORT
      accept one connection, read until EOF, then send back
      "<sha256 of what came>\n" followed by REPLY bytes (10 MiB) and close.
  relay_peer.py hc-client HOST PORT SIZE
      send SIZE bytes, shutdown(SHUT_WR), read the reply to EOF; exit 0 when
      the digest matches and the 10 MiB arrived whole.
  relay_peer.py rst-server PORT
      accept one connection, read 1 byte, then reset it (SO_LINGER 0).
  relay_peer.py rst-client HOST PORT
      connect, send a byte, expect a reset (or EOF) within 10 s: exit 0.
  relay_peer.py hold-client HOST PORT
      connect, send a byte, print "connected", then reset the connection
      when stdin closes.
  relay_peer.py digest-server PORT N
      accept N connections concurrently; on each, read until EOF and reply
      with the sha256 hex of what came, then close; exit after N.
  relay_peer.py sink-server PORT
      accept one connection, read until EOF or reset; print "reset" or
      "eof" and the byte count.
"""
import hashlib
import socket
import struct
import sys
import threading

REPLY = 10 << 20


def pattern(n):
    block = hashlib.sha256(b'sluice').digest() * 2048  # 64 KiB
    while n > 0:
        chunk = block[:min(n, len(block))]
        n -= len(chunk)
        yield chunk


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    s.listen(8)
    print('listening', flush=True)
    c, _ = s.accept()
    s.close()
    return c


def reset(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c.close()


def main():
    mode = sys.argv[1]
    if mode == 'hc-server':
        c = listen(int(sys.argv[2]))
        h = hashlib.sha256()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
        c.sendall(h.hexdigest().encode() + b'\n')
        for chunk in pattern(REPLY):
            c.sendall(chunk)
        c.close()
    elif mode == 'hc-client':
        host, port, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        c = socket.create_connection((host, port), timeout=60)
        h = hashlib.sha256()
        for chunk in pattern(size):
            h.update(chunk)
            c.sendall(chunk)
        c.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            got += b
        line, _, rest = bytes(got).partition(b'\n')
        want = b''.join(pattern(REPLY))
        ok = line.decode() == h.hexdigest() and rest == want
        print('digest', 'ok' if line.decode() == h.hexdigest() else 'BAD',
              'reply', len(rest), 'ok' if rest == want else 'BAD')
        sys.exit(0 if ok else 1)
    elif mode == 'rst-server':
        c = listen(int(sys.argv[2]))
        c.recv(1)
        reset(c)
    elif mode == 'rst-client':
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])),
                                     timeout=10)
        c.sendall(b'x')
        try:
            b = c.recv(1)
            print('eof' if not b else 'data')
            sys.exit(0 if not b else 1)
        except ConnectionResetError:
            print('reset')
            sys.exit(0)
    elif mode == 'hold-client':
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])),
                                     timeout=10)
        c.sendall(b'x')
        print('connected', flush=True)
        sys.stdin.read()
        reset(c)
    elif mode == 'digest-server':
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', int(sys.argv[2])))
        s.listen(1024)
        print('listening', flush=True)

        def serve(c):
            h = hashlib.sha256()
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
            c.sendall(h.hexdigest().encode())
            c.close()

        threads = []
        for _ in range(int(sys.argv[3])):
            c, _ = s.accept()
            t = threading.Thread(target=serve, args=(c,))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    elif mode == 'sink-server':
        c = listen(int(sys.argv[2]))
        n = 0
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    print('eof', n)
                    return
                n += len(b)
        except ConnectionResetError:
            print('reset', n)
    else:
        sys.exit('unknown mode ' + mode)


if __name__ == '__main__':
    main()
