#!/usr/bin/env python3
"""Test client for the private mail servers of tests/integration/mailservers.sh (standard library only).

Every subcommand takes --env DIR/env (the file written by `mailservers.sh start`); without
it, the values are read from the environment (after `. DIR/env`). Exit status 0 on
success, 1 with a message on stderr on failure.

  send [--from ADDR] [--to ADDR]... FILE.eml...
      Submits each file as is over one SMTP connection. Envelope: MAIL FROM = --from or
      the address of the From header (<> if none), RCPT TO = every --to or
      SUPPORT_ADDRESS. Line endings are made CRLF (SMTP's; the stored message is the same).
  generate --count N [--to ADDR] [--from-pattern 'user{i}@example.test'] [--senders K]
           [--subject-pattern 'Question {i}'] [--body-file FILE] [--start I] [--print-ids]
      Sends N distinct plain UTF-8 questions over one connection; the body of message i is
      line i (cyclically) of --body-file. Sender i % K when --senders K is given.
      --print-ids prints each Message-ID.
  dump --user U --password P [--mailbox M]
      One JSON object per message (see message_json).
  raw --user U --password P --uid N [--mailbox M]      the message's bytes, as stored
  count --user U --password P [--mailbox M]
  wait-count --user U --password P --at-least N [--timeout S] [--mailbox M]
  list-mailboxes --user U --password P                 one decoded name per line
  create-mailbox --user U --password P --mailbox M
  flags --user U --password P [--mailbox M]            "UID FLAG FLAG..." per message
  append --user U --password P [--mailbox M] FILE.eml...  IMAP APPEND, bypassing SMTP

Mailbox names are given and printed decoded ("Traités"); a pure-ASCII name containing
"&" is taken as already in modified UTF-7 ("Trait&AOk-s"). The default mailbox is INBOX.
Nothing is flagged: the mailbox is opened read-only (EXAMINE) and read with BODY.PEEK.
"""

import argparse
import base64
import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import imaplib
import json
import os
import re
import shlex
import smtplib
import sys
import time

HOST = "127.0.0.1"  # IPv4 loopback, never "localhost"


class Failure(Exception):
    pass


# ------------------------------------------------------------------------------------
# Settings


def load_env(path):
    """The KEY=value settings of a file written by mailservers.sh, or of os.environ."""
    if path is None:
        return dict(os.environ)
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = shlex.split(line, comments=True)
                if words and words[0] == "export":
                    words = words[1:]
                for w in words:
                    if "=" in w:
                        k, v = w.split("=", 1)
                        values[k] = v
    except OSError as e:
        raise Failure(f"cannot read {path}: {e.strerror}")
    return values


def setting(env, name):
    if not env.get(name):
        raise Failure(f"{name} is not set (give --env DIR/env or source it)")
    return env[name]


# ------------------------------------------------------------------------------------
# Modified UTF-7 (RFC 3501 5.1.3) for mailbox names


def utf7_decode(name):
    def repl(m):
        s = m.group(1)
        if s == "":
            return "&"
        s = s.replace(",", "/")
        s += "=" * (-len(s) % 4)
        return base64.b64decode(s).decode("utf-16-be")

    return re.sub(r"&([A-Za-z0-9+,]*)-", repl, name)


def utf7_encode(name):
    if name.isascii() and re.fullmatch(r"([^&]|&[A-Za-z0-9+,]*-)*", name) and "&" in name:
        return name  # already encoded
    out, pending = [], []

    def flush():
        if pending:
            b = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for c in name:
        if 0x20 <= ord(c) <= 0x7E:
            flush()
            out.append("&-" if c == "&" else c)
        else:
            pending.append(c)
    flush()
    return "".join(out)


def quoted(name):
    return '"' + utf7_encode(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------------
# SMTP


def smtp_connect(env):
    port = int(setting(env, "SMTP_PORT"))
    try:
        s = smtplib.SMTP(HOST, port, timeout=60)
        s.ehlo("mailtool.test")
        return s
    except (OSError, smtplib.SMTPException) as e:
        raise Failure(f"cannot connect to SMTP {HOST}:{port}: {e}")


def crlf(data):
    """LF or CRLF line endings to CRLF (bare CRs are left alone)."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def header_address(data, name):
    """The first address of a header of a raw message, '' if none."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    return email.utils.parseaddr(value)[1]


def submit(smtp, sender, recipients, data):
    """One transaction; BODY=8BITMIME for 8-bit data, SMTPUTF8 for UTF-8 addresses."""
    options = []
    if any(b >= 0x80 for b in data):
        options.append("BODY=8BITMIME")
    if not all(a.isascii() for a in [sender] + recipients):
        options.append("SMTPUTF8")
        smtp.command_encoding = "utf-8"
    else:
        smtp.command_encoding = "ascii"
    try:
        refused = smtp.sendmail(sender, recipients, data, mail_options=options)
    except smtplib.SMTPException as e:
        raise Failure(f"SMTP refused the message: {e}")
    if refused:
        raise Failure(f"SMTP refused recipients: {refused}")


def cmd_send(args, env):
    recipients = args.to or [setting(env, "SUPPORT_ADDRESS")]
    smtp = smtp_connect(env)
    try:
        for path in args.files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise Failure(f"cannot read {path}: {e.strerror}")
            sender = args.sender if args.sender is not None else header_address(data, "From")
            try:
                submit(smtp, sender, recipients, crlf(data))
            except Failure as e:
                raise Failure(f"{path}: {e}")
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass


def cmd_generate(args, env):
    to = args.to or setting(env, "SUPPORT_ADDRESS")
    lines = ["Bonjour, quels sont vos horaires d'ouverture ?"]
    if args.body_file:
        with open(args.body_file, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()] or lines
    senders = args.senders or args.count
    stamp = f"{int(time.time() * 1000)}.{os.getpid()}"
    smtp = smtp_connect(env)
    t0 = time.monotonic()
    try:
        for n in range(args.count):
            i = args.start + n
            sender = args.from_pattern.format(i=args.start + n % senders)
            msg = email.message.EmailMessage()
            msg["From"] = sender
            msg["To"] = to
            msg["Subject"] = args.subject_pattern.format(i=i)
            msg["Date"] = email.utils.formatdate(localtime=True)
            msg["Message-ID"] = f"<gen{i}.{stamp}@example.test>"
            msg.set_content(lines[n % len(lines)] + "\n", charset="utf-8", cte="8bit")
            data = msg.as_bytes(policy=email.policy.SMTP)
            submit(smtp, sender, [to], data)
            if args.print_ids:
                print(msg["Message-ID"], flush=True)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    print(f"generate: {args.count} messages sent in {time.monotonic() - t0:.2f} s", file=sys.stderr)


# ------------------------------------------------------------------------------------
# IMAP


def imap_login(env, args):
    port = int(setting(env, "IMAP_PORT"))
    try:
        m = imaplib.IMAP4(HOST, port, timeout=60)
    except OSError as e:
        raise Failure(f"cannot connect to IMAP {HOST}:{port}: {e}")
    try:
        m.login(args.user, args.password)
    except imaplib.IMAP4.error as e:
        raise Failure(f"IMAP login of {args.user} refused: {e}")
    return m


def examine(m, mailbox):
    """Opens the mailbox read-only; returns its number of messages."""
    typ, data = m.select(quoted(mailbox), readonly=True)
    if typ != "OK":
        raise Failure(f"cannot open mailbox {mailbox}: {data[0].decode(errors='replace')}")
    return int(data[0])


def fetch(m, what):
    """UID FETCH 1:* WHAT: a list of (uid, {item: value}) in uid order, where literal
    items (BODY[]) are bytes and FLAGS a list of str."""
    typ, data = m.uid("FETCH", "1:*", what)
    if typ != "OK":
        raise Failure(f"UID FETCH failed: {data}")
    out, cur = [], None
    for part in data:
        # imaplib gives (prefix, literal) tuples, then the rest of the line as bytes.
        text = part[0] if isinstance(part, tuple) else part
        if text is None:
            continue
        if re.match(rb"^\d+ \(", text):
            cur = {}
            out.append(cur)
        if cur is None:
            continue
        u = re.search(rb"UID (\d+)", text)
        if u:
            cur["uid"] = int(u.group(1))
        fl = re.search(rb"FLAGS \(([^)]*)\)", text)
        if fl:
            # \Recent only says which session saw the message first: left out.
            cur["flags"] = [f for f in fl.group(1).decode().split() if f != "\\Recent"]
        if isinstance(part, tuple):
            cur["body"] = part[1]
    out.sort(key=lambda x: x.get("uid", 0))
    return out


def decode_header(value):
    """RFC 2047 decoded, unfolded text of a header value (robust to broken input)."""
    if value is None:
        return None
    if isinstance(value, email.header.Header):
        value = str(value)
    value = re.sub(r"\r?\n[ \t]", " ", value)
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def part_text(part):
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, "replace")
    except LookupError:
        text = payload.decode("utf-8", "replace")
    # IMAP gives CRLF line endings; tests compare with ordinary text.
    return text.replace("\r\n", "\n")


def message_json(uid, flags, raw):
    """uid, flags, from, to, cc, subject, date, message_id, in_reply_to, references,
    auto_submitted, delivered_to (decoded header values, null when absent), body (the
    first text/plain part that is not an attachment, decoded to UTF-8 text with LF line
    endings), html (same for text/html), parts (content_type and filename of every leaf part), size (bytes),
    headers (all headers: lower-case name -> decoded value, a list when repeated)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = {}
    for name, value in msg.items():
        key, v = name.lower(), decode_header(value)
        if key in headers:
            if not isinstance(headers[key], list):
                headers[key] = [headers[key]]
            headers[key].append(v)
        else:
            headers[key] = v
    body = html = None
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        parts.append({"content_type": ctype, "filename": decode_header(filename)})
        attached = (part.get("Content-Disposition") or "").lower().startswith("attachment")
        if ctype == "text/plain" and body is None and not attached:
            body = part_text(part)
        elif ctype == "text/html" and html is None and not attached:
            html = part_text(part)
    h = lambda n: decode_header(msg.get(n))
    return {
        "uid": uid,
        "flags": flags,
        "from": h("From"),
        "to": h("To"),
        "cc": h("Cc"),
        "subject": h("Subject"),
        "date": h("Date"),
        "message_id": h("Message-ID"),
        "in_reply_to": h("In-Reply-To"),
        "references": h("References"),
        "auto_submitted": h("Auto-Submitted"),
        "delivered_to": h("Delivered-To"),
        "body": body,
        "html": html,
        "parts": parts,
        "size": len(raw),
        "headers": headers,
    }


def cmd_dump(args, env):
    m = imap_login(env, args)
    if examine(m, args.mailbox) == 0:
        return
    flags = {x["uid"]: x.get("flags", []) for x in fetch(m, "(UID FLAGS)")}
    for x in fetch(m, "(UID BODY.PEEK[])"):
        obj = message_json(x["uid"], flags.get(x["uid"], []), x.get("body", b""))
        print(json.dumps(obj, ensure_ascii=False))
    m.logout()


def cmd_raw(args, env):
    m = imap_login(env, args)
    examine(m, args.mailbox)
    typ, data = m.uid("FETCH", str(args.uid), "(BODY.PEEK[])")
    bodies = [p[1] for p in data if isinstance(p, tuple)]
    if typ != "OK" or not bodies:
        raise Failure(f"no message of uid {args.uid} in {args.mailbox}")
    sys.stdout.buffer.write(bodies[0])
    m.logout()


def cmd_count(args, env):
    m = imap_login(env, args)
    print(examine(m, args.mailbox))
    m.logout()


def status_count(m, mailbox):
    """Messages in the mailbox, 0 if it does not exist (yet)."""
    typ, data = m.status(quoted(mailbox), "(MESSAGES)")
    if typ != "OK":
        return 0
    found = re.search(rb"MESSAGES (\d+)", data[0])
    return int(found.group(1)) if found else 0


def cmd_wait_count(args, env):
    # One connection, STATUS polls; reconnects if the server goes away (restart-imap).
    end = time.monotonic() + args.timeout
    m, seen = None, 0
    while True:
        try:
            if m is None:
                m = imap_login(env, args)
            seen = status_count(m, args.mailbox)
            if seen >= args.at_least:
                m.logout()
                return
        except (OSError, imaplib.IMAP4.abort, Failure):
            m = None
        if time.monotonic() >= end:
            raise Failure(f"{args.mailbox} of {args.user}: {seen} messages after "
                          f"{args.timeout:g} s, expected at least {args.at_least}")
        time.sleep(0.05)


def cmd_list_mailboxes(args, env):
    m = imap_login(env, args)
    typ, data = m.list('""', "*")
    if typ != "OK":
        raise Failure(f"LIST failed: {data}")
    for line in data:
        if isinstance(line, tuple):  # a name sent as a literal
            name = line[1].decode("utf-8", "replace")
        else:
            found = re.match(rb'\([^)]*\) (?:"[^"]*"|NIL) (.*)$', line)
            if not found:
                continue
            name = found.group(1).decode("utf-8", "replace")
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        print(utf7_decode(name))
    m.logout()


def cmd_create_mailbox(args, env):
    m = imap_login(env, args)
    typ, data = m.create(quoted(args.mailbox))
    if typ != "OK":
        raise Failure(f"CREATE {args.mailbox} failed: {data[0].decode(errors='replace')}")
    m.logout()


def cmd_flags(args, env):
    m = imap_login(env, args)
    if examine(m, args.mailbox) > 0:
        for x in fetch(m, "(UID FLAGS)"):
            print(" ".join([str(x["uid"])] + x.get("flags", [])))
    m.logout()


def cmd_append(args, env):
    m = imap_login(env, args)
    for path in args.files:
        with open(path, "rb") as f:
            data = crlf(f.read())
        typ, resp = m.append(quoted(args.mailbox), None, None, data)
        if typ != "OK":
            raise Failure(f"APPEND {path} failed: {resp}")
    m.logout()


# ------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description="Test client of the private mail servers.")
    p.add_argument("--env", help="DIR/env written by mailservers.sh start")
    sub = p.add_subparsers(dest="cmd", required=True)

    def command(name, func, imap=True, mailbox=True):
        s = sub.add_parser(name)
        s.add_argument("--env", dest="env_sub", help="DIR/env written by mailservers.sh start")
        s.set_defaults(func=func)
        if imap:
            s.add_argument("--user", required=True)
            s.add_argument("--password", required=True)
        if mailbox:
            s.add_argument("--mailbox", default="INBOX")
        return s

    s = command("send", cmd_send, imap=False, mailbox=False)
    s.add_argument("--from", dest="sender")
    s.add_argument("--to", action="append")
    s.add_argument("files", nargs="+")
    s = command("generate", cmd_generate, imap=False, mailbox=False)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--to")
    s.add_argument("--from-pattern", default="user{i}@example.test")
    s.add_argument("--senders", type=int, help="cycle over this many senders")
    s.add_argument("--subject-pattern", default="Question {i}")
    s.add_argument("--body-file")
    s.add_argument("--start", type=int, default=1)
    s.add_argument("--print-ids", action="store_true")
    command("dump", cmd_dump)
    s = command("raw", cmd_raw)
    s.add_argument("--uid", type=int, required=True)
    command("count", cmd_count)
    s = command("wait-count", cmd_wait_count)
    s.add_argument("--at-least", type=int, required=True)
    s.add_argument("--timeout", type=float, default=30)
    command("list-mailboxes", cmd_list_mailboxes, mailbox=False)
    s = command("create-mailbox", cmd_create_mailbox, mailbox=False)
    s.add_argument("--mailbox", required=True)
    command("flags", cmd_flags)
    s = command("append", cmd_append)
    s.add_argument("files", nargs="+")

    args = p.parse_args()
    sys.stdout.reconfigure(encoding="utf-8")
    try:
        env = load_env(args.env_sub or args.env)
        args.func(args, env)
    except Failure as e:
        print(f"mailtool {args.cmd}: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, smtplib.SMTPException, imaplib.IMAP4.error) as e:
        print(f"mailtool {args.cmd}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
