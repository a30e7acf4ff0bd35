#!/usr/bin/env python3
"""The chat's account actions end to end through `dialogctl chat` (issue 4): a visitor
asks where a dossier stands, gives the number and the address of the account, reads the
one-time code from the mail queued for that address, types it, and gets the status; the
replies for an address not on file and for an unknown dossier are byte-identical; wrong
codes run out; the code is nowhere in the history or the audit; the password reset and
the identifier reminder answer the same whatever exists.

Usage: chat_flow.py DIALOGCTL SRCDIR WORKDIR"""
import os
import re
import sqlite3
import subprocess
import sys
import time

DIALOGCTL, SRCDIR, WORK = sys.argv[1:4]
CONF = os.path.join(WORK, "dialogd.conf")
STORE = os.path.join(WORK, "store.sqlite")
HOLDER = "j.moreau@scierie-des-combes.example"
DOSSIER = "AF-2023-018745"
OTHER_HOLDER = "audrey.lemaire@serres-lemaire.example"
OTHER_DOSSIER = "CA-2023-0098412"
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def ctl(*args):
    return subprocess.run([DIALOGCTL, "-c", CONF, "--data", SRCDIR, *args], capture_output=True, text=True,
                          timeout=60)


def secret_count(holder=OTHER_HOLDER):
    with sqlite3.connect(STORE) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE kind = 'secret' AND recipient = ?",
                          (holder,)).fetchone()[0]


def mailed_code(since, holder=HOLDER):
    """The code in the newest secret mail to holder, waiting for it (after `since` mails)."""
    deadline = time.time() + 15
    while time.time() < deadline:
        with sqlite3.connect(STORE) as db:
            rows = db.execute("SELECT raw FROM outbox WHERE kind = 'secret' AND recipient = ? ORDER BY id",
                              (holder,)).fetchall()
        if len(rows) > since:
            m = re.search(r"^(\d{8})\r?$", rows[-1][0], re.M)
            return m.group(1) if m else None
        time.sleep(0.1)
    return None


class Chat:
    """One `dialogctl chat` process: lines in, the assistant's replies out."""

    def __init__(self):
        self.p = subprocess.Popen([DIALOGCTL, "-c", CONF, "--data", SRCDIR, "chat"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def say(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def replies(self):
        out, err = self.p.communicate(timeout=60)
        check(self.p.returncode == 0, "dialogctl chat exits 0 (stderr: %s)" % err.strip()[:200])
        # Each reply starts with "OCAPIAT > "; the first is the welcome, the last the goodbye.
        return [r.strip() for r in out.split("OCAPIAT > ")[1:]]


def conversation(lines, code_after=None, since=0):
    """Runs lines; when code_after is an index, the mailed code is typed after that line
    (as "1234 5678")."""
    c = Chat()
    code = None
    for i, line in enumerate(lines):
        c.say(line)
        if code_after == i:
            code = mailed_code(since)
            c.say(code[:4] + " " + code[4:] if code else "00000000")
    return c.replies(), code


# 1. The holder gets the status with the mailed code.
replies, code = conversation(["Bonjour, où en est mon dossier ?", "c'est le " + DOSSIER, HOLDER], code_after=2)
check(code is not None and len(code) == 8, "an 8-digit one-time code was mailed to the address on file")
check("Quel est son numéro" in replies[1], "the number is asked for")
check("adresse mail de votre compte" in replies[2], "the account's address is asked for")
check("8 chiffres vient d’y être envoyé" in replies[3], "the code is announced")
check("Votre dossier n° %s (action de formation) est en attente de pièces" % DOSSIER in replies[4],
      "the status is given after the code")
check("pièces justificatives" in replies[4], "with the next step from the FAQ")

# 2. Nothing tells an address on file from another, or a dossier from a made-up number.
runs = [
    ["où en est mon dossier %s ?" % DOSSIER, HOLDER, "00000000"],
    ["où en est mon dossier %s ?" % DOSSIER, "curieux@example.test", "00000000"],
    ["où en est mon dossier AF-2099-000001 ?", HOLDER, "00000000"],
]
seen = [conversation(r)[0] for r in runs]
check(seen[0] == seen[1] == seen[2], "replies identical for the holder, another address, an unknown dossier")

# 3. Five wrong codes void the code; the right one then opens nothing. (Another holder,
# whose address no wrong code was typed against.)
before = secret_count()
c = Chat()
c.say("où en est le contrat %s ?" % OTHER_DOSSIER)
c.say(OTHER_HOLDER)
good = mailed_code(before, OTHER_HOLDER)
wrong = "%08d" % ((int(good or "0") + 1) % 100000000)
for _ in range(5):
    c.say(wrong)
c.say(good or "00000000")
r = c.replies()
check(sum("n’est pas valable" in x for x in r) == 4 and "ne peut pas être accepté" in r[7], "five wrong codes void it")
check("en attente de pièces" not in r[8], "the right code after that reveals nothing")

# 4. No code in the history or the audit.
with sqlite3.connect(STORE) as db:
    bodies = " ".join(b or "" for (b,) in db.execute("SELECT body FROM messages"))
    audit = " ".join(" ".join(str(v) for v in row) for row in db.execute("SELECT * FROM audit"))
for secret in filter(None, [code, good]):
    check(secret not in bodies, "code %s not in the thread history" % secret)
    check(secret not in audit, "code %s not in the audit" % secret)
out = ctl("audit").stdout
check("one-time code sent to the address on file" in out and "wrong one-time code" in out,
      "dialogctl audit shows the code sent and the wrong attempts")

# 5. Password reset and identifier reminder: the same reply whatever exists.
known, _ = conversation(["mot de passe égaré", "JMOREAU01"])
unknown, _ = conversation(["mot de passe égaré", "PERSONNE99"])
check(known == unknown, "reset: same replies for a known and an unknown identifier")
check("toute première connexion" in known[2], "reset: the first connection's renewal is recalled")
with sqlite3.connect(STORE) as db:
    raw = db.execute("SELECT raw FROM outbox WHERE kind = 'secret' ORDER BY id DESC LIMIT 1").fetchone()[0]
check("reinitialisation?jeton=3D" in raw.replace("=\r\n", ""), "reset: the link went to the address on file")
known, _ = conversation(["j'ai oublié mon identifiant", "412 387 656 00025"])
unknown, _ = conversation(["j'ai oublié mon identifiant", "732 829 320 00074"])
check(known == unknown, "reminder: same replies for a known and an unknown SIRET")

# 6. Hostile input: refused cleanly, the directory intact.
hostile, _ = conversation(["'; DROP TABLE accounts; --", "x" * 10240, "identifiant est A'); DELETE FROM audit;--",
                           "mot de passe oublié", "a@b.example\r\nBcc: evil@example.test"])
check(len(hostile) >= 7 and all(hostile), "every hostile line got a reply")
with sqlite3.connect(STORE) as db:
    check(db.execute("SELECT count(*) FROM accounts").fetchone()[0] == 4, "the directory is intact")
p = subprocess.run([DIALOGCTL, "-c", CONF, "--data", SRCDIR, "chat"], input=b"mon code \xff\xfe 123456\n",
                   capture_output=True, timeout=60)
check(p.returncode == 0 and "n’a pas pu être lu".encode() in p.stdout, "invalid UTF-8 gets the polite refusal")

print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
