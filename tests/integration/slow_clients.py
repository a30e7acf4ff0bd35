#!/usr/bin/env python3
"""Slow HTTP clients on [web] listen (issue 14): many connections sending a request head a
byte at a time must not keep a well-behaved visitor from the pages. Against a running
dialogd (header_timeout 3, body_timeout 3, connections_per_address 20):
  - a head that never ends is closed after header_timeout, a body after body_timeout;
  - one address gets no more than connections_per_address connections at once;
  - 1,000 slow connections from 100 loopback addresses, reopened as soon as they are cut,
    while a normal request is answered in its usual time (medians before and during).

Usage: slow_clients.py PORT   (the crowd runs as a process of its own: slow_clients.py PORT --crowd)"""
import selectors
import socket
import statistics
import subprocess
import sys
import time

PORT = int(sys.argv[1])
failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failures += 1


def connect(source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", PORT))
    return s


def closed_by_server(s, within):
    """Whether the server closes s within that many seconds (nothing more is sent)."""
    s.settimeout(within)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except OSError:
        return True


def normal_request():
    """Milliseconds for GET / on a new connection, answered 200."""
    t0 = time.monotonic()
    s = connect()
    s.settimeout(10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    reply = b""
    while True:
        data = s.recv(65536)
        if not data:
            break
        reply += data
    s.close()
    if not reply.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"not ok - GET / answered {reply[:40]!r} after {(time.monotonic() - t0) * 1000:.0f} ms")
    return (time.monotonic() - t0) * 1000


def slow_crowd():
    """1000 connections from 100 loopback addresses, each sending its head a byte every
    0.2 s and reopened when the server cuts it, until standard input closes."""
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ)
    sources = [f"127.0.1.{i}" for i in range(1, 101)]
    conns = {}
    opened = 0

    def open_one(k):
        nonlocal opened
        try:
            c = connect(sources[k % len(sources)])
        except OSError:
            return
        c.setblocking(False)
        conns[c] = [k, b"GET /reinitialisation?jeton=" + b"a" * 40 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "]
        sel.register(c, selectors.EVENT_READ)
        opened += 1

    for k in range(1000):
        open_one(k)
    print("opened", opened, flush=True)
    while True:
        for key, _ in sel.select(timeout=0.2):
            c = key.fileobj
            if c is sys.stdin:
                print("opened", opened, flush=True)
                return
            k = conns.pop(c)[0]  # closed by the server: open another
            sel.unregister(c)
            c.close()
            open_one(k)
        for c, state in list(conns.items()):
            try:
                c.send(state[1][:1] if state[1] else b"x")
                state[1] = state[1][1:]
            except OSError:
                pass


if len(sys.argv) > 2 and sys.argv[2] == "--crowd":
    slow_crowd()
    sys.exit(0)

# ---- a head or a body that never ends is cut ----
s = connect()
s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
t0 = time.monotonic()
cut = closed_by_server(s, 8)
check(cut and 2 <= time.monotonic() - t0 <= 6, f"an unfinished head is closed after header_timeout ({time.monotonic() - t0:.1f} s)")
s.close()
s = connect()
s.sendall(b"POST /reinitialisation HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          b"Content-Length: 100\r\n\r\njeton=")
t0 = time.monotonic()
cut = closed_by_server(s, 8)
check(cut and 2 <= time.monotonic() - t0 <= 6, f"an unfinished body is closed after body_timeout ({time.monotonic() - t0:.1f} s)")
s.close()

# ---- the cap per address ----
held = [connect("127.0.0.200") for _ in range(20)]
extra = connect("127.0.0.200")
check(closed_by_server(extra, 2), "the 21st connection from one address is closed at once")
other = connect("127.0.0.201")
check(not closed_by_server(other, 0.5), "... while another address still connects")
for c in held + [extra, other]:
    c.close()
time.sleep(0.5)

# ---- 1,000 slow connections, reopened when cut, and a visitor ----
# The crowd is a process of its own: in this one it would take turns with the visitor's
# requests and slow them down itself.
before = [normal_request() for _ in range(30)]
crowd = subprocess.Popen([sys.executable, __file__, str(PORT), "--crowd"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
opened = int(crowd.stdout.readline().split()[1])
time.sleep(1)
during = [normal_request() for _ in range(30)]
time.sleep(3)  # past header_timeout: the crowd has been cut and come back
during += [normal_request() for _ in range(30)]
crowd.stdin.close()
reopened = int(crowd.stdout.readline().split()[1])
crowd.wait()
b, d = statistics.median(before), statistics.median(during)
check(opened >= 1000 and reopened >= 1000, f"the crowd held 1000 slow connections ({reopened} opened in all)")
check(d < max(5 * b, b + 50), f"a visitor's request during the crowd: median {d:.1f} ms (before: {b:.1f} ms)")
check(max(during) < 2000, f"... and none waited long (slowest {max(during):.0f} ms)")
sys.exit(1 if failures else 0)
