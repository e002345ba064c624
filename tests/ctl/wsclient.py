# SPDX-License-Identifier: GPL-2.0-or-later
"""A small WebSocket client for the controller tests, standard library only.

It speaks RFC 6455 at the frame level so that the tests can also send what
a well-behaved client never would: fragments, binary frames, oversized
messages, invalid UTF-8, unmasked frames.
"""
import base64
import json
import os
import socket
import struct
import time

SUBPROTOCOL = "sluice.v1"


class Closed(Exception):
    def __init__(self, code=None, reason=""):
        super().__init__(f"closed (code {code}: {reason})")
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, host, port, path="/ws", subprotocol=SUBPROTOCOL,
                 timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if subprotocol:
            req += f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Closed(None, "connection closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise Closed(None, "handshake refused: " + status.decode(errors="replace"))

    def frame(self, opcode, payload, fin=True, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            # XOR in big blocks: fast enough for multi-megabyte frames.
            k = (key * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big") ^
                       int.from_bytes(k, "big")).to_bytes(n, "big") if n else b""
            hdr += key
        self.sock.sendall(hdr + payload)

    def send(self, text):
        self.frame(0x1, text)

    def send_json(self, obj):
        self.send(json.dumps(obj))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise Closed(None, "connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=5.0):
        """The next text message (str); raises Closed or socket.timeout."""
        self.sock.settimeout(timeout)
        msg = b""
        while True:
            b0, b1 = self._read(2)
            op = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                key = self._read(4)
                data = bytes(c ^ key[i % 4] for i, c in enumerate(self._read(n)))
            else:
                data = self._read(n)
            if op == 0x8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                raise Closed(code, data[2:].decode(errors="replace"))
            if op == 0x9:
                self.frame(0xA, data)
                continue
            if op == 0xA:
                continue
            msg += data
            if b0 & 0x80:
                return msg.decode()

    def recv_json(self, timeout=5.0):
        return json.loads(self.recv(timeout))

    def recv_type(self, typ, timeout=5.0):
        """Skips messages until one of type typ (snapshots, stats...)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"no {typ} message")
            m = self.recv_json(left)
            if m.get("type") == typ:
                return m

    def close(self):
        try:
            self.frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def hello(ws, role, token, host=None, boot=None, version="test"):
    m = {"v": 1, "type": "hello", "role": role, "token": token}
    if role == "host":
        m.update(host=host, version=version,
                 boot=boot if boot is not None else int(time.time() * 1000))
    ws.send_json(m)
    return ws.recv_json()
