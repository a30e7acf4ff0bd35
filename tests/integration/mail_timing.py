#!/usr/bin/env python3
"""What an attacker measures by mail, through the real stack (issue 14): a password reset
or an identifier reminder asked from an address on file and from one that is not, 200
times each in a shuffled order, each timed from its submission to Postfix to its reply's delivery
in the writer's Maildir (Dovecot). Prints the medians and the area under the ROC curve of
"on file takes longer", folded around 0.5, and fails when it reaches 0.6.

Usage: mail_timing.py ENV-FILE KIND HOLDER STRANGER [SAMPLES]   (KIND: reset or reminder)"""
import os
import random
import smtplib
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtool  # noqa: E402  (the servers' settings, their test client)

env_file, kind, holder, stranger = sys.argv[1:5]
samples = int(sys.argv[5]) if len(sys.argv) > 5 else 200
env = mailtool.load_env(env_file)
questions = {
    "reset": "Bonjour, j'ai égaré mon mot de passe, pouvez-vous m'aider ?",
    "reminder": "Bonjour, j'ai oublié mon identifiant de connexion.",
}
question = questions[kind]
support = mailtool.setting(env, "SUPPORT_ADDRESS")

smtp = mailtool.smtp_connect(env)


maildir_new = os.path.join(mailtool.setting(env, "CATCHALL_MAILDIR"), "new")
seen_files = set(os.listdir(maildir_new))


def reply_in_maildir(msgid):
    """Whether the reply to msgid has been delivered: a new file of the writer's Maildir
    with it in In-Reply-To (read on disk, as the delivery leaves it: an IMAP session
    would wait for the mailbox's index, which the link's delivery to the same test
    mailbox may hold)."""
    needle = f"In-Reply-To: {msgid}".encode()
    for name in os.listdir(maildir_new):
        if name in seen_files:
            continue
        try:
            with open(os.path.join(maildir_new, name), "rb") as f:
                head = f.read(8192)
        except OSError:
            continue
        if needle in head:
            seen_files.add(name)
            return True
        if b"In-Reply-To: <timing-" in head or b"nouveau mot de passe" in head:
            seen_files.add(name)  # another sample's reply, or a link: never looked at again
    return False


def round_trip(i, on_file):
    sender = holder if on_file else stranger
    msgid = f"<timing-{kind}-{i}-{os.getpid()}@example.test>"
    data = (f"From: {sender}\r\nTo: {support}\r\nSubject: Question\r\nMessage-ID: {msgid}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{question}\r\n").encode()
    t0 = time.monotonic()
    smtp.sendmail(sender, [support], data)
    deadline = t0 + 30
    while time.monotonic() < deadline:
        if reply_in_maildir(msgid):
            return (time.monotonic() - t0) * 1000
        time.sleep(0.002)
    raise SystemExit(f"not ok - no reply to {msgid} within 30 s")


order = [True] * samples + [False] * samples
random.Random(1234).shuffle(order)
for i in range(4):  # warm-up
    round_trip(-1 - i, i % 2 == 0)
hits, misses = [], []
for i, on_file in enumerate(order):
    (hits if on_file else misses).append(round_trip(i, on_file))
    # The link for an account on file leaves right after its reply, through these same
    # servers (in life, the holder's are elsewhere): let it pass before the next sample,
    # whichever kind this one was, so that it weighs on no other sample's reply.
    time.sleep(0.15)
smtp.quit()

wins = sum(1.0 if h > m else 0.5 if h == m else 0.0 for h in hits for m in misses)
auc = wins / (len(hits) * len(misses))
auc = max(auc, 1 - auc)
verdict = "ok" if auc < 0.6 else "not ok"
print(f"{verdict} - {kind} by mail through Postfix and Dovecot, {samples} + {samples} samples: median "
      f"{statistics.median(hits):.1f} ms (on file) vs {statistics.median(misses):.1f} ms (not), AUC {auc:.3f}")
sys.exit(0 if auc < 0.6 else 1)
