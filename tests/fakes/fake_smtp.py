#!/usr/bin/env python3
"""An SMTP server on 127.0.0.1 that refuses recipients for good (550), to test what
dialogd does with replies that can never be delivered (Postfix accepts everything here).

  fake_smtp.py PORTFILE [ADDRESS...]
      Listens on a free port, writes it to PORTFILE, serves until killed. Every recipient
      is refused except the ADDRESSes, whose mail is accepted (and discarded) with the lines
      "accepted: ADDRESS: SUBJECT-HEADER" and "line endings: N lines, K not ending in a
      single CRLF" on stdout.
"""
import socketserver
import sys


class Refuser(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 refuser.test ESMTP test server")
        accepted = []
        for raw in self.rfile:
            line = raw.decode("latin-1").strip()
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-refuser.test")
                self.reply("250 8BITMIME")
            elif verb == "RCPT":
                address = line[line.find("<") + 1:line.rfind(">")].lower()
                if address in ACCEPT:
                    accepted.append(address)
                    self.reply("250 2.1.5 Ok")
                else:
                    self.reply("550 5.1.1 <%s>: Recipient address rejected: User unknown" % address)
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            elif verb == "DATA" and not accepted:
                self.reply("554 5.5.1 Error: no valid recipients")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                subject, lines, bad = "", 0, 0
                for data in self.rfile:
                    if data in (b".\r\n", b".\n"):
                        break
                    lines += 1
                    # Every line must end in exactly one CRLF (no bare CR or LF).
                    if not data.endswith(b"\r\n") or b"\r" in data[:-2]:
                        bad += 1
                    if data.lower().startswith(b"subject:") and not subject:
                        subject = data.decode("latin-1").strip()
                for address in accepted:
                    print("accepted: %s: %s" % (address, subject), flush=True)
                    print("line endings: %d lines, %d not ending in a single CRLF" % (lines, bad), flush=True)
                accepted = []
                self.reply("250 2.0.0 Ok: queued")
            else:  # MAIL, RSET, NOOP...
                if verb in ("MAIL", "RSET"):
                    accepted = []
                self.reply("250 2.0.0 Ok")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


ACCEPT = set()


def main():
    ACCEPT.update(a.lower() for a in sys.argv[2:])
    with Server(("127.0.0.1", 0), Refuser) as server:
        with open(sys.argv[1], "w") as f:
            f.write(str(server.server_address[1]))
        server.serve_forever()


if __name__ == "__main__":
    main()
