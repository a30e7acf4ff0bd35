"""Shared base of the scripted fake servers (imap_server.py, smtp_server.py), after curl's
test servers: the server follows a transcript file, line by line, and says whether the
client (dialogd) followed it too.

Transcript format, one item per line (blank lines and lines starting with # ignored):

    S: TEXT         the server sends TEXT and CRLF
    C: PATTERN      the client must send one line matching PATTERN (compared whole, after
                    the CRLF is removed)
    connection      starts the script of the next connection (the first one is implicit)
    DELAY SECONDS   waits before going on
    CUT             closes the connection here (the next connection follows the next script)
    SILENT          answers nothing more on this connection, reading (and recording) what
                    the client sends until it closes the connection itself
    CLOSED          the client must close the connection here (it sends nothing more)
    END             this connection's script is over: what the client sends afterwards is
                    recorded, not judged, and the connection is kept until the client
                    closes it; only its goodbye is answered (IMAP LOGOUT, SMTP QUIT),
                    as any server would, so that stopping dialogd takes no time
    BODY [REGEX]    (SMTP) the client sends a message ending with a line "."; REGEX, when
                    given, must match one of its lines

In a PATTERN, {NAME} matches one token (no space) and remembers it; {*} matches anything.
Everything else is compared exactly. In a TEXT, {NAME} is the last token remembered
under that name, {@FILE} is FILE (relative to the transcript) as an IMAP literal
("{size}", CRLF, its bytes) and {#FILE} its size in bytes. {{ and }} are literal braces.

Connections beyond the last script are kept open without a word (not judged), so that a
client retrying forever neither fails the verdict nor spins.

The server listens on 127.0.0.1 on a free port and prints it alone on the first line of
stdout (as tests/fakes/fake_extranet.py does), then one line per event ("<" sent, ">" received,
"=" action). When the last script reaches its end (END, CUT, SILENT or CLOSED done), it
prints "verdict: transcript followed"; at the first deviation it prints "verdict:
deviation", what was expected and received and the conversation so far, and closes that
connection. It stops on SIGTERM or after --timeout seconds (default 60): exit 0 when the
transcript was followed to its end, 1 otherwise (with "verdict: incomplete" and the
line it was waiting at when the script was not finished).
"""

import argparse
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time


class Step:
    def __init__(self, lineno, kind, arg):
        self.lineno = lineno
        self.kind = kind  # "S", "C", "DELAY", "CUT", "SILENT", "CLOSED", "END", "BODY"
        self.arg = arg

    def __str__(self):
        if self.kind in ("S", "C"):
            return "%s: %s" % (self.kind, self.arg)
        return ("%s %s" % (self.kind, self.arg)).rstrip()


ACTIONS = ("DELAY", "CUT", "SILENT", "CLOSED", "END", "BODY")


def parse_transcript(path):
    """Returns the list of connection scripts (lists of Step). Raises ValueError."""
    scripts = [[]]
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("S: ") or line.startswith("C: "):
                scripts[-1].append(Step(lineno, line[0], line[3:]))
                continue
            word, _, arg = line.strip().partition(" ")
            if word == "connection":
                if scripts[-1]:
                    scripts.append([])
            elif word in ACTIONS:
                if word == "DELAY":
                    float(arg)
                scripts[-1].append(Step(lineno, word, arg.strip()))
            else:
                raise ValueError("%s:%d: unknown line: %s" % (path, lineno, line))
    return [s for s in scripts if s]


TOKEN = re.compile(r"\{\{|\}\}|\{(\*|[A-Za-z_][A-Za-z0-9_]*)\}")


def compile_pattern(pattern):
    """A PATTERN as a regular expression with a named group per {NAME}."""
    out, pos, names = [], 0, set()
    for m in TOKEN.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        tok = m.group(0)
        if tok in ("{{", "}}"):
            out.append(re.escape(tok[0]))
        elif m.group(1) == "*":
            out.append(".*")
        elif m.group(1) in names:  # the same name twice: the same token both times
            out.append("(?P=%s)" % m.group(1))
        else:
            names.add(m.group(1))
            out.append("(?P<%s>[^ ]+)" % m.group(1))
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out) + r"\Z", re.S)


FILLER = re.compile(r"\{\{|\}\}|\{([@#]?)([^{}]+)\}")


class Deviation(Exception):
    pass


NOTHING = object()  # deviate(): no line to show as received


class Run:
    """The state of one transcript run, shared by the connections (one thread each)."""

    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        self.scripts = parse_transcript(path)
        self.lock = threading.Lock()
        self.next_script = 0
        self.finished = 0       # scripts run to their end
        self.deviated = False
        self.waiting = {}       # script index -> the step it waits at
        self.extra = 0

    def say(self, text):
        with self.lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def take_script(self):
        """(script index or None beyond the last, connection number from 1)"""
        with self.lock:
            i = self.next_script
            self.next_script += 1
            return (i if i < len(self.scripts) else None), i + 1

    def fill(self, text, values):
        def sub(m):
            if m.group(0) in ("{{", "}}"):
                return m.group(0)[0]
            kind, name = m.group(1), m.group(2)
            if kind:
                with open(os.path.join(self.dir, name), "rb") as f:
                    data = f.read().decode("latin-1")
                return ("{%d}\r\n%s" % (len(data), data)) if kind == "@" else str(len(data))
            if name not in values:
                raise Deviation("the script uses {%s} before the client sent it" % name)
            return values[name]
        return FILLER.sub(sub, text)

    def verdict(self):
        """0 when every script ran to its end without a deviation."""
        if self.deviated:
            return 1
        if self.finished < len(self.scripts):
            with self.lock:
                where = ["connection %d waiting at line %d (%s)" % (i + 1, s.lineno, s)
                         for i, s in sorted(self.waiting.items())]
                if self.next_script < len(self.scripts) and self.next_script not in self.waiting:
                    where.append("connection %d never came" % (self.next_script + 1))
            self.say("verdict: incomplete: " + "; ".join(where))
            return 1
        return 0


class Handler(socketserver.StreamRequestHandler):
    """One connection: follows its script. Protocol specifics come from the subclass."""

    run = None          # set by serve()

    def setup(self):
        super().setup()
        self.values = {}
        self.history = []   # the conversation of this connection, for the report

    def send(self, text):
        data = text.encode("latin-1")
        for part in text.split("\r\n"):
            self.note("< " + part)
        self.wfile.write(data + b"\r\n")
        self.wfile.flush()

    def note(self, text):
        self.history.append(text)
        self.run.say("[%d] %s" % (self.number, text))

    def receive(self):
        """One line without its CRLF, or None when the client closed the connection."""
        raw = self.rfile.readline()
        if not raw:
            return None
        line = raw.decode("latin-1")
        if line.endswith("\r\n"):
            line = line[:-2]
        elif line.endswith("\n"):
            line = line[:-1] + "\\n(bare LF)"
        self.note("> " + line)
        return line

    def drain(self, answer=False):
        """Reads until the client closes; answer: goodbyes are answered (after END)."""
        while True:
            line = self.receive()
            if line is None:
                return
            if answer:
                self.after_end(line)

    def after_end(self, line):
        """Answers a line received after END (the protocol's goodbye), or nothing."""

    def deviate(self, step, why, received=NOTHING):
        lines = ["verdict: deviation: %s, connection %d, line %d: %s" % (self.run.path, self.number, step.lineno, why),
                 "  expected: %s" % step]
        if received is not NOTHING:
            lines.append("  received: %s" % ("(connection closed)" if received is None else received))
        lines.append("  conversation so far:")
        lines += ["    " + h for h in self.history]
        with self.run.lock:
            self.run.deviated = True
        self.run.say("\n".join(lines))

    def body(self, step):
        """(SMTP) Reads a message up to its "." line; REGEX must match one line."""
        regex = re.compile(step.arg) if step.arg else None
        count, matched = 0, regex is None
        while True:
            raw = self.rfile.readline()
            if not raw:
                return self.deviate(step, "the connection closed in the middle of the message", None) or False
            if raw in (b".\r\n", b".\n"):
                break
            count += 1
            line = raw.decode("latin-1").rstrip("\r\n")
            if regex is not None and regex.search(line):
                matched = True
            if line.lower().startswith(("message-id:", "subject:", "to:")):
                self.note("> (message) " + line)
        self.note("> (message of %d lines, then \".\")" % count)
        if not matched:
            self.deviate(step, "no line of the message matches %s" % step.arg)
            return False
        return True

    def handle(self):
        index, self.number = self.run.take_script()
        if index is None:
            with self.run.lock:
                self.run.extra += 1
            self.note("= connection after the last script: kept open without a word, not judged")
            self.drain()
            return
        script = self.run.scripts[index]
        for step in script:
            with self.run.lock:
                self.run.waiting[index] = step
            if step.kind == "S":
                try:
                    self.send(self.run.fill(step.arg, self.values))
                except (BrokenPipeError, ConnectionResetError):
                    self.deviate(step, "the client closed the connection before this answer")
                    return
                except Deviation as e:
                    self.deviate(step, str(e))
                    return
            elif step.kind == "C":
                line = self.receive()
                if line is None:
                    self.deviate(step, "the client closed the connection", None)
                    self.history.append("(connection closed by the client)")
                    return
                m = compile_pattern(step.arg).match(line)
                if m is None:
                    self.deviate(step, "the client sent another line", line)
                    return
                self.values.update(m.groupdict())
            elif step.kind == "BODY":
                if not self.body(step):
                    return
            elif step.kind == "DELAY":
                self.note("= delay %s s" % step.arg)
                time.sleep(float(step.arg))
            elif step.kind == "CUT":
                self.note("= cut")
                break
            elif step.kind == "SILENT":
                self.note("= silent from here until the client closes the connection")
                self.drain()
                self.note("= closed by the client")
                break
            elif step.kind == "CLOSED":
                line = self.receive()
                if line is not None:
                    self.deviate(step, "the client sent a line instead of closing the connection", line)
                    return
                self.note("= closed by the client")
                break
            elif step.kind == "END":
                break
        self.finish_script(index, script[-1].kind == "END")

    def finish_script(self, index, hold):
        with self.run.lock:
            self.run.waiting.pop(index, None)
            self.run.finished += 1
            done = self.run.finished == len(self.run.scripts) and not self.run.deviated
        self.note("= end of script %d" % (index + 1))
        if done:
            self.run.say("verdict: transcript followed")
        if hold:
            self.drain(answer=True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(handler_class, description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("transcript")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before giving up (default 60)")
    args = parser.parse_args()
    try:
        run = Run(args.transcript)
    except (OSError, ValueError) as e:
        print("cannot read the transcript: %s" % e, file=sys.stderr)
        sys.exit(2)
    handler_class.run = run
    stop = threading.Event()
    # Before the port is printed: whoever reads it may stop the server at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = Server(("127.0.0.1", 0), handler_class)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait(args.timeout)
    server.shutdown()
    code = run.verdict()
    sys.stdout.flush()
    os._exit(code)
