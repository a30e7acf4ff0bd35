"""A small RFC 6455 WebSocket client for the chat's tests (Python 3 standard library
only: Debian 12 has no WebSocket client in Node 20 or Python by default). It does what a
browser would not let a test do on purpose: send any Origin or none, any subprotocol,
oversize or fragmented frames, invalid UTF-8, binary frames, and not answer pings. Every
frame it sends is masked, as RFC 6455 section 5.3 requires of a client."""

import base64
import json
import os
import socket
import struct
import time

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class Refused(Exception):
    """The upgrade was answered with something else than 101."""

    def __init__(self, status, head):
        super().__init__("HTTP %s" % status)
        self.status = status
        self.head = head


class Closed(Exception):
    """The server closed: its close code (None when the connection just ended)."""

    def __init__(self, code, reason=b""):
        super().__init__("closed %s %r" % (code, reason))
        self.code = code
        self.reason = reason


class Client:
    def __init__(self, port, origin="http://127.0.0.1", protocol="dialogd.chat.v1", path="/chat",
                 host="127.0.0.1", timeout=10, auto_pong=True, headers=()):
        self.auto_pong = auto_pong
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append("Origin: " + origin)
        if protocol is not None:
            lines.append("Sec-WebSocket-Protocol: " + protocol)
        lines.extend(headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n")[0].decode("latin-1")
        parts = status_line.split(" ")
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.head = head.decode("latin-1")
        if self.status != 101:
            self.sock.close()
            raise Refused(self.status, self.head)
        self.protocol = None
        for line in self.head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-protocol":
                self.protocol = value.strip()

    # ---- frames out ----
    def frame(self, opcode, payload, fin=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self.frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send(self, obj):
        self.send_text(json.dumps(obj))

    def close(self, code=1000):
        try:
            self.frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self.sock.close()

    def drop(self):
        """Ends the TCP connection without a close frame (a network that went away)."""
        self.sock.close()

    # ---- frames in ----
    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(None)
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv_frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        return b0 & 0x0F, bool(b0 & 0x80), self._read(n)

    def recv(self, timeout=10):
        """The next text message as JSON; pings answered; Closed on a close frame."""
        end = time.time() + timeout
        while True:
            # The deadline holds across pings (each would restart a socket timeout).
            left = end - time.time()
            if left <= 0:
                raise socket.timeout("no message within %s s" % timeout)
            self.sock.settimeout(left)
            opcode, _fin, payload = self.recv_frame()
            if opcode == OP_PING:
                if self.auto_pong:
                    self.frame(OP_PONG, payload)
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:])
            if opcode == OP_TEXT:
                return json.loads(payload.decode("utf-8"))

    def recv_until(self, pred, timeout=10):
        """Every message up to and including the first for which pred is true."""
        end = time.time() + timeout
        got = []
        while True:
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("waited %s s; got %r" % (timeout, got))
            m = self.recv(left)
            got.append(m)
            if pred(m):
                return got

    def expect_close(self, timeout=10):
        """The close code the server sends (messages before it are skipped)."""
        try:
            while True:
                self.recv(timeout)
        except Closed as c:
            return c.code
        except (socket.timeout, TimeoutError):
            return "timeout"

    def quiet(self, seconds):
        """The messages that come within seconds (none expected, usually)."""
        got = []
        end = time.time() + seconds
        try:
            while time.time() < end:
                got.append(self.recv(max(0.01, end - time.time())))
        except (socket.timeout, TimeoutError):
            pass
        return got
