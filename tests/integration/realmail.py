#!/usr/bin/env python3
"""The real-mail regression set (tests/data/realmail/MANIFEST.tsv) through the real stack.

  realmail.py send ENV MANIFEST.tsv DIR
      Submits every file to the private Postfix (SMTP_PORT of ENV), each as its own sender
      sent it: the envelope sender is the file's Return-Path (MAIL FROM:<> for <>), else
      its From address, since Postfix drops a Return-Path header and Dovecot writes the
      envelope's. An mbox "From " line is taken off. A file without Message-ID gets one (Postfix would add its own, which the
      check could not know), and a file whose manifest names an mta_verdict gets that
      header on top, as the spam filter in front of the mailbox (SpamAssassin, rspamd)
      writes it.
  realmail.py check MANIFEST.tsv DIR DUMP.jsonl STORE.sqlite CORRESPONDANTS
      DUMP.jsonl: every mail of the catch-all (mailtool.py dump). Checks that each file
      has its thread in the store with a decision (none dropped silently), that an
      automated one got no mail at all and a reason naming its [rules] key, that a human one got exactly one mail
      in reply (an answer or an acknowledgement). Prints one line per file that fails
      and the figures; exit 1 on any failure.
"""

import csv
import email
import email.policy
import email.utils
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailtool  # noqa: E402  (the same SMTP client as the other tests)


def rows_of(manifest):
    with open(manifest, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def strip_id(value):
    return (value or "").strip().strip("<>").strip()


def header_block_end(data):
    m = re.search(rb"\r?\n\r?\n", data)
    return m.start() if m else len(data)


def prepared(row, data):
    """The bytes to submit (verdict and Message-ID added when needed), the envelope
    sender, the Message-ID and the writer's address."""
    if data.startswith(b"From "):
        # An mbox separator is what a mailbox file adds, never what SMTP carries.
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    added = b""
    if row["mta_verdict"] != "-":
        added += row["mta_verdict"].encode() + b"\n"
    mid = strip_id(msg.get("Message-ID"))
    if not mid:
        mid = "realmail-" + row["file"] + "@dialogd.test"
        added += b"Message-ID: <" + mid.encode() + b">\n"
    rp = msg.get("Return-Path")
    if rp is not None:
        sender = email.utils.parseaddr(str(rp))[1]
    else:
        sender = email.utils.parseaddr(str(msg.get("From") or ""))[1]
    writer = email.utils.parseaddr(str(msg.get("Reply-To") or msg.get("From") or ""))[1].lower()
    return added + data, sender, mid, writer


def cmd_send(env_path, manifest, folder):
    env = mailtool.load_env(env_path)
    recipient = mailtool.setting(env, "SUPPORT_ADDRESS")
    smtp = mailtool.smtp_connect(env)
    try:
        for row in rows_of(manifest):
            with open(os.path.join(folder, row["file"]), "rb") as f:
                data, sender, _, _ = prepared(row, f.read())
            # Postfix would refuse a local part without a domain ("MAILER-DAEMON"): it
            # qualifies it as a real MTA would have written it, @ its own domain.
            if sender and "@" not in sender:
                sender += "@" + recipient.split("@", 1)[1]
            try:
                mailtool.submit(smtp, sender, [recipient], mailtool.crlf(data))
            except mailtool.Failure as e:
                raise mailtool.Failure(f"{row['file']}: {e}")
    finally:
        smtp.quit()


def inbound(db, mid):
    """(thread state, thread reason, decision) of the inbound message with that id, or None."""
    return db.execute(
        "SELECT t.state, coalesce(t.reason, ''), m.decision FROM messages m JOIN threads t ON t.id = m.thread_id"
        " WHERE m.direction = 'in' AND m.message_id = ?", (mid,)).fetchone()


def cmd_check(manifest, folder, dump_path, store, correspondants):
    with open(dump_path, encoding="utf-8") as f:
        dump = [json.loads(line) for line in f if line.strip()]
    db = sqlite3.connect(store)
    problems = []
    figures = {"automated": 0, "human": 0, "replies to automated": 0, "humans answered once": 0,
               "dropped silently": 0}
    for row in rows_of(manifest):
        with open(os.path.join(folder, row["file"]), "rb") as f:
            _, _, mid, writer = prepared(row, f.read())
        label = row["label"]
        figures[label] += 1
        # Every mail the daemon sent about this one, except the correspondants' notices.
        out = [m for m in dump if strip_id(m.get("in_reply_to")) == mid
               and correspondants not in (m.get("to") or "").lower()]
        seen = inbound(db, mid)
        if seen is None:
            figures["dropped silently"] += 1
            problems.append(f"{row['file']}: no thread in the store (dropped silently?)")
            continue
        state, reason, decision = seen
        if label == "automated":
            figures["replies to automated"] += len(out)
            if out:
                problems.append(f"{row['file']}: automated ({row['kind']}), got {len(out)} mail(s): "
                                f"{[m.get('subject') for m in out]}")
            elif state == "answered" or ("[rules] " not in reason and "no usable reply address" not in reason):
                # A silence names the [rules] key that decided it, so that it can be undone.
                problems.append(f"{row['file']}: automated, thread {state} with reason {reason!r}")
        else:
            to_writer = [m for m in out if writer and writer in (m.get("to") or "").lower()]
            if len(out) == 1 and len(to_writer) == 1:
                figures["humans answered once"] += 1
            else:
                problems.append(f"{row['file']}: human, expected one mail to {writer} in reply to <{mid}>, "
                                f"got {len(out)} ({len(to_writer)} to the writer); thread {state}: {reason}")
    for p in problems:
        print(p)
    print("# " + ", ".join(f"{k}: {v}" for k, v in figures.items()))
    return 1 if problems else 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "send":
        try:
            cmd_send(*sys.argv[2:5])
        except mailtool.Failure as e:
            print(f"realmail.py: {e}", file=sys.stderr)
            return 1
        return 0
    if len(sys.argv) == 7 and sys.argv[1] == "check":
        return cmd_check(*sys.argv[2:7])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
