#!/usr/bin/env python3
"""A scripted SMTP server for tests/integration/transcripts.sh: follows a transcript (format in
scripted.py) and says whether dialogd's smtp_sender (libcurl) followed it too.

    smtp_server.py TRANSCRIPT [--timeout SECONDS]

Prints its port (127.0.0.1) alone on the first line of stdout. After the client's DATA
and the server's 354, a BODY step reads the message up to its "." line (its Message-ID,
Subject and To lines are shown in the record).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scripted  # noqa: E402


class SmtpHandler(scripted.Handler):
    def after_end(self, line):
        if line.upper() == "QUIT":
            self.send("221 2.0.0 Bye")


if __name__ == "__main__":
    scripted.serve(SmtpHandler, "scripted SMTP server")
