#!/usr/bin/env python3
"""Checks what dialogd did with a set of sample mails, against expectations.

  mail_expect.py manifest MANIFEST.tsv SAMPLES_DIR DATA_DIR DUMP.jsonl THREADS.jsonl
      MANIFEST.tsv: file, expect (reply|escalate|ignore), intent. DUMP.jsonl: every mail
      that reached the catch-all (mailtool.py dump). THREADS.jsonl: dialogctl threads --json.
      For "reply": exactly one reply to the writer, threaded (In-Reply-To, References,
      "Re: " subject once), Auto-Submitted: auto-replied, whose text holds the FAQ answer of
      the expected intent (or, for an action the assistant cannot do yet, an
      acknowledgement); the thread's intent is the expected one. For "escalate": one
      acknowledgement to the writer, one notification to the correspondants, thread
      escalated. For "ignore": nothing sent, thread ignored.
  mail_expect.py headers DUMP.jsonl MESSAGE-ID HEADER...
      The replies to MESSAGE-ID have none of the HEADERs, and no value on several lines.
  mail_expect.py once IDS.txt DUMP.jsonl [--allow-duplicates N]
      Every Message-ID of IDS.txt got exactly one reply (In-Reply-To), except at most N
      that got two (an SMTP transaction cut by a kill). Prints the figures.
Exit 1 with one line per failed expectation.
"""

import collections
import email
import email.policy
import email.utils
import json
import os
import re
import sys

ACK = "transmise à un conseiller"


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# The account actions' replies, recognised by a sentence of their template.
ACTION_REPLIES = {
    "password_reset": "un lien pour choisir un nouveau mot de passe",
    "identifier_reminder": "Si un compte utilisateur est associé à votre adresse mail",
}


def strip_id(value):
    return (value or "").strip().strip("<>").strip()


def faq_question(data_dir, intent):
    """The FAQ question an intent's answer starts with, or None for an action without one."""
    faq = None
    with open(os.path.join(data_dir, "intents", intent + ".intent"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("faq:"):
                faq = line.split(":", 1)[1].strip()
    if faq is None:
        return None
    with open(os.path.join(data_dir, "faq-data", faq + ".faq"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("question:"):
                return line.split(":", 1)[1].strip()
    return None


def sample_facts(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    mid = strip_id(msg.get("Message-ID") or msg.get("Message-id"))
    reply_to = email.utils.parseaddr(str(msg.get("Reply-To") or msg.get("From") or ""))[1].lower()
    return mid, reply_to


def check_manifest(manifest, samples, data_dir, dump_path, threads_path):
    dump = load_jsonl(dump_path)
    threads = load_jsonl(threads_path)
    problems = []
    by_reply_to = collections.defaultdict(list)
    for m in dump:
        by_reply_to[strip_id(m.get("in_reply_to"))].append(m)
    rows = []
    with open(manifest, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3:
                rows.append(cols[:3])
    ok = 0
    for name, expect, intent in rows:
        mid, writer = sample_facts(os.path.join(samples, name))
        got = by_reply_to.get(mid, [])
        to_writer = [m for m in got if writer and writer in (m.get("to") or "").lower()]
        notices = [m for m in dump if "correspondants@" in (m.get("to") or "")
                   and writer and f"demandeur : {writer}" in (m.get("body") or "").lower()]
        before = len(problems)
        if expect == "ignore":
            if got:
                problems.append(f"{name}: expected no reply, got {len(got)}")
        elif len(to_writer) != 1:
            problems.append(f"{name}: expected one mail to {writer} in reply to <{mid}>, got {len(to_writer)}")
        else:
            reply = to_writer[0]
            body = reply.get("body") or ""
            subject = reply.get("subject") or ""
            if not subject.startswith("Re: ") or re.match(r"(?i)re\s*:\s*re\s*:", subject):
                problems.append(f"{name}: reply subject {subject!r}")
            if (reply.get("auto_submitted") or "").lower() != "auto-replied":
                problems.append(f"{name}: reply without Auto-Submitted: auto-replied")
            if mid not in (reply.get("references") or ""):
                problems.append(f"{name}: reply References lack <{mid}>")
            if expect == "reply":
                question = faq_question(data_dir, intent)
                if intent in ACTION_REPLIES:
                    # An account action answers with its own text (the same whatever matched).
                    if ACTION_REPLIES[intent] not in body:
                        problems.append(f"{name}: {intent}: reply lacks « {ACTION_REPLIES[intent]} »: {body[:300]!r}")
                elif question is None:
                    if ACK not in body:
                        problems.append(f"{name}: {intent}: expected an acknowledgement")
                elif f"« {question} »" not in body:
                    problems.append(f"{name}: reply lacks the answer « {question} »: {body[:300]!r}")
            else:
                if ACK not in body:
                    problems.append(f"{name}: acknowledgement text missing: {body[:200]!r}")
        if expect == "escalate" and not notices:
            problems.append(f"{name}: no notification to the correspondants")
        ok += len(problems) == before
    # Threads: one per sample, in the state its expectation implies.
    states = collections.Counter(t["state"] for t in threads)
    want = collections.Counter()
    for _, expect, intent in rows:
        if expect == "ignore":
            want["ignored"] += 1
        elif expect == "escalate" or faq_question(data_dir, intent) is None:
            want["escalated"] += 1
        else:
            want["answered"] += 1
    if states != want:
        problems.append(f"threads by state {dict(states)}, expected {dict(want)}")
    print(f"manifest: {ok}/{len(rows)} samples as expected; threads by state: {dict(states)}")
    return problems


def check_once(ids_path, dump_path, allow):
    with open(ids_path, encoding="utf-8") as f:
        ids = [strip_id(line) for line in f if line.strip()]
    counts = collections.Counter(strip_id(m.get("in_reply_to")) for m in load_jsonl(dump_path))
    missing = [i for i in ids if counts[i] == 0]
    doubles = [i for i in ids if counts[i] > 1]
    print(f"exactly-once: {len(ids)} questions, {len(ids) - len(missing)} answered, "
          f"{len(missing)} unanswered, {len(doubles)} answered twice (allowed: {allow})")
    problems = [f"no reply to <{i}>" for i in missing[:10]]
    if len(doubles) > allow:
        problems += [f"{counts[i]} replies to <{i}>" for i in doubles[:10]]
    return problems


def check_headers(dump_path, mid, forbidden):
    """The replies to mid carry none of the forbidden headers and one-line values."""
    replies = [m for m in load_jsonl(dump_path) if strip_id(m.get("in_reply_to")) == mid]
    problems = [] if replies else [f"no reply to <{mid}>"]
    for m in replies:
        names = {k.lower() for k in (m.get("headers") or {})}
        problems += [f"reply to <{mid}> has a {h} header" for h in forbidden if h.lower() in names]
        for k, v in (m.get("headers") or {}).items():
            values = v if isinstance(v, list) else [v]
            if any("\r" in x or "\n" in x for x in values if isinstance(x, str)):
                problems.append(f"reply to <{mid}>: header {k} spans lines after unfolding")
    return problems


def main(argv):
    if len(argv) >= 7 and argv[1] == "manifest":
        problems = check_manifest(*argv[2:7])
    elif len(argv) >= 4 and argv[1] == "headers":
        problems = check_headers(argv[2], strip_id(argv[3]), argv[4:])
    elif len(argv) >= 4 and argv[1] == "once":
        allow = int(argv[5]) if len(argv) >= 6 and argv[4] == "--allow-duplicates" else 0
        problems = check_once(argv[2], argv[3], allow)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
