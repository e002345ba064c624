# SPDX-License-Identifier: GPL-2.0-or-later
"""A TCP proxy in front of PostgreSQL that can turn into a black hole.

Usage: tcpproxy.py TARGET_HOST TARGET_PORT PORT_FILE

Listens on 127.0.0.1 at a free port (written to PORT_FILE) and forwards
every connection to TARGET. SIGUSR1 makes it a black hole: the connections
it carries are cut, and new ones are accepted and then left without an
answer, the way a database behind a dead route or a hung server looks to
a client (a timeout, not a refusal). SIGUSR2 makes it forward again.
"""
import asyncio
import signal
import sys

TARGET = (sys.argv[1], int(sys.argv[2]))
PORT_FILE = sys.argv[3]
state = {"hole": False}
live = set()   # writers of forwarded connections (both sides)
held = set()   # connections accepted in black-hole mode


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(reader, writer):
    if state["hole"]:
        held.add(writer)  # never read, never answered
        return
    try:
        ur, uw = await asyncio.open_connection(*TARGET)
    except OSError:
        writer.close()
        return
    live.update((writer, uw))
    await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
    live.discard(writer)
    live.discard(uw)


def hole():
    state["hole"] = True
    for w in list(live):
        w.transport.abort()
    live.clear()
    print("black hole", flush=True)


def forward():
    state["hole"] = False
    for w in list(held):
        w.transport.abort()
    held.clear()
    print("forwarding", flush=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, hole)
    loop.add_signal_handler(signal.SIGUSR2, forward)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    __import__("os").rename(PORT_FILE + ".tmp", PORT_FILE)
    print("forwarding", flush=True)
    await stop


asyncio.run(main())
