#!/usr/bin/env python3
"""What an attacker measures by mail, through the real stack (issue 14): a password reset
or an identifier reminder asked from an address on file and from one that is not, 200
times each, each timed from its submission to Postfix to its reply's delivery in the
writer's Maildir (Dovecot). Prints the medians and two areas under the ROC curve of "on
file takes longer", folded around 0.5, and fails when either reaches 0.6:
- raw: the latencies as they are, what a writer sees;
- paired: each latency less the mean of its group and the mean of its place in the
  groups (see below), which takes away what the samples sent together share (the
  server's load at that moment) and is more sensitive than raw.

The requests go in groups of GROUP (half on file, half not, in a shuffled order), sent
back to back: Dovecot tells its IDLE clients of new mail about half a second after the
first delivery, so one request at a time would take 500 ms a sample. Within a group the
place of a request weighs on its time (sent first, read first), the same for both kinds
on average (shuffled), and "paired" takes it away. Every group holds as many requests on
file as not: the account work after a group's replies (conversation/deferred.h) and the
mails to the address on file ([security] secret_mail_delay later, through the same
servers) weigh the same on every group.

Usage: mail_timing.py ENV-FILE KIND HOLDER STRANGER [SAMPLES]   (KIND: reset or reminder)"""
import os
import random
import smtplib
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtool  # noqa: E402  (the servers' settings, their test client)

GROUP = 4
TIMEOUT = 30

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
PREFIX = b"In-Reply-To: <timing-"


def collect(arrived):
    """Reads the mails delivered since the last call (a Maildir file in new/ is complete:
    Dovecot writes it in tmp/ first); arrived[msgid] = when each reply was seen."""
    now = time.monotonic()
    for name in os.listdir(maildir_new):
        if name in seen_files:
            continue
        seen_files.add(name)  # read once: a reply, a link, or a reminder
        try:
            with open(os.path.join(maildir_new, name), "rb") as f:
                head = f.read(8192)
        except OSError:
            continue
        at = head.find(PREFIX)
        if at >= 0:
            end = head.find(b">", at)
            arrived[head[at + len("In-Reply-To: "):end + 1].decode()] = now


def run_group(tag, kinds):
    """Sends one request per entry of kinds (True: on file), back to back, and returns
    their latencies in ms, in the same order."""
    sent = []
    for k, on_file in enumerate(kinds):
        sender = holder if on_file else stranger
        msgid = f"<timing-{kind}-{tag}-{k}-{os.getpid()}@example.test>"
        data = (f"From: {sender}\r\nTo: {support}\r\nSubject: Question\r\nMessage-ID: {msgid}\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\n\r\n{question}\r\n").encode()
        t0 = time.monotonic()
        smtp.sendmail(sender, [support], data)
        sent.append((msgid, t0))
    arrived = {}
    deadline = time.monotonic() + TIMEOUT
    while not all(m in arrived for m, _ in sent):
        if time.monotonic() > deadline:
            raise SystemExit(f"not ok - no reply to a request of group {tag} within {TIMEOUT} s")
        time.sleep(0.001)
        collect(arrived)
    return [(arrived[m] - t0) * 1000 for m, t0 in sent]


def auc_of(hits, misses):
    """Area under the ROC curve of "on file takes longer", folded around 0.5."""
    wins = sum(1.0 if h > m else 0.5 if h == m else 0.0 for h in hits for m in misses)
    auc = wins / (len(hits) * len(misses))
    return max(auc, 1 - auc)


rng = random.Random(1234)
groups = []
for g in range(-(-2 * samples // GROUP)):
    kinds = [True] * (GROUP // 2) + [False] * (GROUP // 2)
    rng.shuffle(kinds)
    groups.append(kinds)
run_group("warm-up", [True, False])
started = time.monotonic()
measured = []  # (group, place, on file, latency)
for g, kinds in enumerate(groups):
    for place, (on_file, ms) in enumerate(zip(kinds, run_group(g, kinds))):
        measured.append((g, place, on_file, ms))
    time.sleep(0.05)  # the group's account work, right after its replies: let it end
smtp.quit()

group_mean = {g: statistics.fmean(ms for gg, _, _, ms in measured if gg == g) for g in range(len(groups))}
residual = [(p, on, ms - group_mean[g]) for g, p, on, ms in measured]
place_mean = {p: statistics.fmean(r for pp, _, r in residual if pp == p) for p in range(GROUP)}
paired = [(on, r - place_mean[p]) for p, on, r in residual]
hits = [ms for _, _, on, ms in measured if on]
misses = [ms for _, _, on, ms in measured if not on]
raw_auc = auc_of(hits, misses)
paired_auc = auc_of([r for on, r in paired if on], [r for on, r in paired if not on])
verdict = "ok" if raw_auc < 0.6 and paired_auc < 0.6 else "not ok"
print(f"{verdict} - {kind} by mail through Postfix and Dovecot, {len(hits)} + {len(misses)} samples in "
      f"{time.monotonic() - started:.0f} s: median {statistics.median(hits):.1f} ms (on file) vs "
      f"{statistics.median(misses):.1f} ms (not), AUC {raw_auc:.3f} raw, {paired_auc:.3f} paired")
sys.exit(0 if verdict == "ok" else 1)
