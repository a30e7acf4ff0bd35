#!/usr/bin/env python3
"""A flood from one client does not slow down the others (the chat's limits, README
"Chat protocol"): dialogd on a temporary store, 127.0.0.1 and a free port, behind
[web] trusted_proxies so that X-Forwarded-For gives each client its address. A
well-behaved client (198.51.100.x) asks N questions one after the other and its answer
latency is measured alone; then again while a flooder (another process, 203.0.113.9,
more connections than [chat] connections_per_address allows) writes message frames as
fast as it can on each of its connections, and a junk-frame sender reconnects each time
it is closed. The well-behaved client must get every answer with a median latency within
3x its calm median + 30 ms (met on a shared 2-core machine under other sessions' load:
about 30 ms against a 45 ms bound; the same flood with the rates off gave 110 ms); the
flooder must get rate_limited errors, 403s past the connection limit, and 1008 closes
for its junk.

FLOOD_NO_LIMIT=1 runs the same with the message rates off ([chat] messages_per_minute and
address_messages_per_minute 0): the flood then runs turns, and the test fails (it shows
what the limits are for).

Usage: chat_flood.py DIALOGD SRCDIR WORKDIR
       chat_flood.py --flood PORT SECONDS CONNECTIONS   (the flooder, run by the test)"""
import json
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsclient  # noqa: E402

ORIGIN = "http://127.0.0.1:8081"
FLOODER = "203.0.113.9"
QUESTIONS = ["Où trouver le numéro DECA ?", "Comment déposer une facture ?", "Je n'arrive pas à me connecter",
             "Comment ajouter un salarié stagiaire ?", "Comment modifier l'adresse de mon entreprise ?"]
ASKED = 20           # questions of the well-behaved client, each phase
CONNS_ALLOWED = 6    # [chat] connections_per_address
FLOOD_CONNS = 8      # the flooder tries that many


def xff(address):
    return ["X-Forwarded-For: " + address]


def hello(c):
    c.send({"type": "hello", "session": None, "last_seq": 0})
    m = c.recv()
    assert m["type"] == "welcome", m


# ---- the flooder (its own process: its work must not slow the measuring client) ----

def flood(port, seconds, connections):
    counts = {"frames": 0, "rate_limited": 0, "other_errors": 0, "acks": 0, "refused_403": 0, "closed_1008": 0,
              "reconnects": 0, "closed_other": 0}
    socks = []
    for _ in range(connections):
        try:
            c = wsclient.Client(port, origin=ORIGIN, headers=xff(FLOODER))
            hello(c)
            socks.append(c)
        except wsclient.Refused as r:
            counts["refused_403" if r.status == 403 else "closed_other"] += 1
    # One connection sends junk (not JSON): it is closed at [chat] max_errors and comes back.
    junk = socks.pop() if socks else None
    batch = []
    for i in range(64):
        text = json.dumps({"type": "message", "id": "f%d" % i, "text": QUESTIONS[i % len(QUESTIONS)]}).encode()
        batch.append(frame_bytes(text))
    burst = b"".join(batch)
    junk_frame = frame_bytes(b"pas du JSON")
    bufs = {}
    pending = {}
    end = time.time() + seconds
    serial = 0
    while time.time() < end:
        for c in list(socks):
            # A partial send leaves the rest of a frame: it goes first next time.
            if not pending.get(id(c)):
                pending[id(c)] = burst
                counts["frames"] += len(batch)
            try:
                c.sock.setblocking(False)
                sent = c.sock.send(pending[id(c)])
                pending[id(c)] = pending[id(c)][sent:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                socks.remove(c)
                counts["closed_other"] += 1
        if junk is not None:
            try:
                junk.sock.setblocking(True)
                junk.sock.sendall(junk_frame)
                counts["frames"] += 1
            except OSError:
                pass
        readable, _, _ = select.select([c.sock for c in socks] + ([junk.sock] if junk else []), [], [], 0)
        for s in readable:
            owner = junk if junk is not None and s is junk.sock else next(c for c in socks if c.sock is s)
            try:
                data = s.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            buf = bufs.get(id(owner), b"") + data
            buf, closed = scan_frames(buf, counts)
            bufs[id(owner)] = buf
            if closed is not None or not data:
                if owner is junk:
                    counts["closed_1008" if closed == 1008 else "closed_other"] += 1
                    junk.sock.close()
                    bufs.pop(id(owner), None)
                    serial += 1
                    try:
                        junk = wsclient.Client(port, origin=ORIGIN, headers=xff(FLOODER))
                        hello(junk)
                        counts["reconnects"] += 1
                    except (wsclient.Refused, OSError):
                        junk = None
                else:
                    socks.remove(owner)
                    counts["closed_other"] += 1
    print(json.dumps(counts))


def frame_bytes(payload):
    """A masked client text frame (the mask need not change: RFC 6455 asks for one per
    frame, not a different one)."""
    mask = b"\x11\x22\x33\x44"
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126, n >> 8, n & 0xFF])
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def scan_frames(buf, counts):
    """Counts the server's frames in buf; returns what is left and a close code or None."""
    while len(buf) >= 2:
        n = buf[1] & 0x7F
        h = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, h = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, h = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < h + n:
            break
        opcode, payload, buf = buf[0] & 0x0F, buf[h:h + n], buf[h + n:]
        if opcode == wsclient.OP_CLOSE:
            return buf, int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        if opcode == wsclient.OP_TEXT:
            if b'"rate_limited"' in payload:
                counts["rate_limited"] += 1
            elif b'"type":"error"' in payload:
                counts["other_errors"] += 1
            elif b'"type":"ack"' in payload:
                counts["acks"] += 1
    return buf, None


# ---- the test ----

def main(dialogd, srcdir, work):
    no_limit = os.environ.get("FLOOD_NO_LIMIT") == "1"
    conf = os.path.join(work, "dialogd.conf")
    with open(conf, "w") as f:
        f.write("""[daemon]
allow_root = yes
[paths]
data = %s
[store]
path = %s
[web]
listen = 127.0.0.1:0
public_url = %s
allowed_origins = %s
trusted_proxies = 127.0.0.1
connections_per_address = 64
[chat]
messages_per_minute = %d
address_messages_per_minute = %d
connections_per_address = %d
""" % (srcdir, os.path.join(work, "dialogd.sqlite"), ORIGIN, ORIGIN, 0 if no_limit else 30,
            0 if no_limit else 60, CONNS_ALLOWED))
    log_path = os.path.join(work, "dialogd.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([dialogd, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    passed = failures = 0

    def check(ok, what):
        nonlocal passed, failures
        print(("ok - " if ok else "not ok - ") + what)
        passed += bool(ok)
        failures += not ok
        return ok

    try:
        port = None
        deadline = time.time() + 20
        while time.time() < deadline and port is None:
            time.sleep(0.1)
            text = open(log_path).read()
            m = re.search(r"web: listening on 127\.0\.0\.1:(\d+) ", text)
            if m and "dialogd: ready" in text:
                port = int(m.group(1))
        if port is None:
            print(open(log_path).read())
            print("not ok - dialogd did not start")
            return 1

        def ask_all(address, tag):
            """ASKED questions one after the other; the latencies (s) and how many got no answer."""
            c = wsclient.Client(port, origin=ORIGIN, headers=xff(address))
            hello(c)
            lat, missing = [], 0
            for i in range(ASKED):
                t0 = time.perf_counter()
                c.send({"type": "message", "id": "%s-%d" % (tag, i), "text": QUESTIONS[i % len(QUESTIONS)]})
                try:
                    got = c.recv_until(lambda m: m.get("type") == "error" or
                                       (m.get("type") == "event" and m.get("from") == "bot"), timeout=10)
                    if got[-1].get("type") == "error":
                        missing += 1
                    else:
                        lat.append(time.perf_counter() - t0)
                except (TimeoutError, socket.timeout, wsclient.Closed):
                    missing += 1
                time.sleep(0.05)
            c.close()
            return lat, missing

        ask_all("198.51.100.1", "warm")  # the first turns load caches; not measured
        calm, calm_missing = ask_all("198.51.100.2", "calm")
        check(calm_missing == 0, "alone, the well-behaved client gets its %d answers" % ASKED)
        calm_median = statistics.median(calm) if calm else 0
        calm_p95 = sorted(calm)[int(0.95 * len(calm)) - 1] if calm else 0

        seconds = 3 + ASKED * 0.1
        flooder = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--flood", str(port), str(seconds),
                                    str(FLOOD_CONNS)], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)  # the flood under way
        loud, loud_missing = ask_all("198.51.100.3", "loud")
        out, _ = flooder.communicate(timeout=seconds + 30)
        counts = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        loud_median = statistics.median(loud) if loud else float("inf")
        loud_p95 = sorted(loud)[int(0.95 * len(loud)) - 1] if loud else float("inf")
        print("# calm: median %.1f ms, p95 %.1f ms; during the flood: median %.1f ms, p95 %.1f ms; flooder: %s" %
              (calm_median * 1e3, calm_p95 * 1e3, loud_median * 1e3, loud_p95 * 1e3, json.dumps(counts)))
        check(counts.get("frames", 0) > 2000, "the flooder wrote thousands of frames (%d)" % counts.get("frames", 0))
        check(loud_missing == 0, "during the flood the well-behaved client gets its %d answers (%d missing)" %
              (ASKED, loud_missing))
        bound = 3 * calm_median + 0.030
        check(loud_median <= bound, "... with a median latency of %.1f ms, within 3x the calm median + 30 ms (%.1f ms)" %
              (loud_median * 1e3, bound * 1e3))
        check(counts.get("rate_limited", 0) > 100 and counts.get("acks", 0) <= 2 * 60,
              "the flooder's messages past the rates are refused (rate_limited: %d, acknowledged: %d)" %
              (counts.get("rate_limited", 0), counts.get("acks", 0)))
        check(counts.get("refused_403", 0) >= FLOOD_CONNS - CONNS_ALLOWED,
              "its connections past [chat] connections_per_address get 403 (%d)" % counts.get("refused_403", 0))
        check(counts.get("closed_1008", 0) >= 1, "its junk frames get the connection closed 1008 (%d times)" %
              counts.get("closed_1008", 0))
        check(proc.poll() is None, "dialogd is still running")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--flood":
        flood(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
        sys.exit(0)
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:4]))
