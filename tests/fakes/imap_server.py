#!/usr/bin/env python3
"""A scripted IMAP server for tests/integration/transcripts.sh: follows a transcript (format in
scripted.py) and says whether dialogd's imap_reader followed it too.

    imap_server.py TRANSCRIPT [--timeout SECONDS]

Prints its port (127.0.0.1) alone on the first line of stdout. Server lines are sent as
written; {@FILE} sends FILE as a literal (a message body), {#FILE} its size.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scripted  # noqa: E402


class ImapHandler(scripted.Handler):
    def after_end(self, line):
        tag, _, command = line.partition(" ")
        if command.upper() == "LOGOUT":
            self.send("* BYE Logging out")
            self.send("%s OK Logout completed" % tag)
    def body(self, step):
        self.deviate(step, "BODY is an SMTP step: an IMAP client sends no message")
        return False


if __name__ == "__main__":
    scripted.serve(ImapHandler, "scripted IMAP server")
