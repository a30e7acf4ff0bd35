#!/usr/bin/env python3
"""The website chat's WebSocket end to end (issue 10, the server's half): dialogd on a
temporary store, 127.0.0.1 and a free port, and a hand-rolled RFC 6455 client
(wsclient.py). A FAQ question answered; a client id sent twice answered once; a
dropped socket resumed with last_seq gets exactly what it missed; a correspondant's
reply (person_reply, another process, through the conversation layer) arrives live and
after a reconnect; kill -9 and a restart lose nothing and answer nothing twice (both
sides of a crash between a turn and its events); the session token is stored only
hashed and forgotten at the end; the upgrade refused (403) for a wrong Origin, no
Origin, no or a wrong subprotocol, another path, too many connections; closes 1009 for
an oversize message (whole or in fragments), 1007 for invalid UTF-8, 1003 for binary,
1008 after three junk frames (each answered with a polite French error); the message
rate; pings and the idle timeout.

Usage: chatws_flow.py DIALOGD PERSON_REPLY SRCDIR WORKDIR"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsclient  # noqa: E402

DIALOGD, PERSON_REPLY, SRCDIR, WORK = sys.argv[1:5]
CONF = os.path.join(WORK, "dialogd.conf")
STORE = os.path.join(WORK, "dialogd.sqlite")
ORIGIN = "http://127.0.0.1:8081"
passed = failures = 0


def check(ok, what):
    global passed, failures
    print(("ok - " if ok else "not ok - ") + what)
    if ok:
        passed += 1
    else:
        failures += 1
    return ok


with open(CONF, "w") as f:
    f.write("""[daemon]
allow_root = yes
[paths]
data = %s
[store]
path = %s
[web]
listen = 127.0.0.1:0
public_url = https://assistance.ocapiat.test
allowed_origins = https://www.ocapiat.fr %s
trusted_proxies = 127.0.0.1
[chat]
messages_per_minute = 8
connections_per_address = 12
ping_interval = 1
idle_timeout = 4
identity_secret_file = %s
identity_max_ttl = 600
""" % (SRCDIR, STORE, ORIGIN, os.path.join(WORK, "identity.key")))
IDENTITY_SECRET = "test-only secret shared with the extranet, 32+ bytes"
fd = os.open(os.path.join(WORK, "identity.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, (IDENTITY_SECRET + "\n").encode())
os.close(fd)
DIALOGCTL = os.path.join(os.path.dirname(DIALOGD), "dialogctl")
for table in ("companies", "accounts", "dossiers"):
    subprocess.run([DIALOGCTL, "-c", CONF, "import", table, os.path.join(SRCDIR, "tests/data/directory/%s.csv" % table)],
                   check=True, stdout=subprocess.DEVNULL)


def identity_token(sub, exp, jti, secret=IDENTITY_SECRET, alg="HS256"):
    """What the extranet does for a logged-in user (README: a JWT signed HS256)."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signed = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + \
        b64(json.dumps({"sub": sub, "exp": int(exp), "jti": jti}).encode())
    return signed + "." + b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


class Daemon:
    def __init__(self):
        path = os.path.join(WORK, "dialogd.log")
        start = os.path.getsize(path) if os.path.exists(path) else 0
        self.log = open(path, "a")
        self.proc = subprocess.Popen([DIALOGD, "-c", CONF], stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and self.port is None:
            time.sleep(0.1)
            with open(path) as f:
                f.seek(start)
                text = f.read()  # this run's lines only
            m = re.search(r"web: listening on 127\.0\.0\.1:(\d+) ", text)
            if m and "dialogd: ready" in text:
                self.port = int(m.group(1))
        if self.port is None:
            print(open(path).read())
            raise SystemExit("not ok - dialogd did not start")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=20)


def connect(d, **kw):
    kw.setdefault("origin", ORIGIN)
    return wsclient.Client(d.port, **kw)


def hello(c, session=None, last_seq=0, identity=None):
    frame = {"type": "hello", "session": session, "last_seq": last_seq}
    if identity is not None:
        frame["identity"] = identity
    c.send(frame)
    return c.recv()


def say(c, client_id, text):
    """Sends a message; returns what came up to the bot's answer (or the ack alone)."""
    c.send({"type": "message", "id": client_id, "text": text})
    return c.recv_until(lambda m: m.get("type") == "event" and m.get("from") == "bot" or m.get("type") == "error")


def events(msgs):
    return [m for m in msgs if m.get("type") == "event"]


def db(sql, *args):
    with sqlite3.connect(STORE) as conn:
        return conn.execute(sql, args).fetchall()


def refused(d, **kw):
    try:
        connect(d, **kw).close()
        return "open"
    except wsclient.Refused as r:
        return r.status


d = Daemon()

# ---- a FAQ question ----
a = connect(d)
check(a.protocol == "dialogd.chat.v1", "the upgrade to dialogd.chat.v1 is accepted from an allowed Origin")
w = hello(a)
check(w["type"] == "welcome" and w["resumed"] is False and len(w["session"]) == 43, "a first hello gets a new session")
token = w["session"]
got = say(a, "q1", "Où trouver le numéro DECA ?")
check(got[0] == {"type": "ack", "id": "q1"}, "the message is acknowledged first")
ev = events(got)
check([e["seq"] for e in ev] == [1, 2] and ev[0]["from"] == "visitor" and ev[0]["text"] == "Où trouver le numéro DECA ?",
      "the visitor's message comes back as event 1")
check("MonCompte" in ev[1]["text"] and ev[1]["quick_replies"] == ["Une entreprise", "Un organisme de formation"],
      "the answer depends on who asks: event 2 asks, with two quick replies")
got = say(a, "q1b", ev[1]["quick_replies"][1])
ev = events(got)
check([(e["seq"], e["from"], e["text"]) for e in ev[:1]] == [(3, "visitor", "Un organisme de formation")],
      "a quick reply clicked comes back as the visitor's message, event 3")
check(len(ev) == 2 and "Consulter mes contrats" in ev[1]["text"] and "Dossiers transmis" not in ev[1]["text"] and
      ev[1]["quick_replies"] == [], "the FAQ answer in the organisme's variant only is event 4")
thread = db("SELECT thread_id FROM chat_conversations")[0][0]
check(db("SELECT channel FROM threads WHERE id = ?", thread) == [("chat",)], "the conversation is a chat thread")
check(db("SELECT count(*) FROM chat_events WHERE conversation_id = 1") == [(4,)], "the four events are in the store")
check(db("SELECT choices FROM chat_events WHERE conversation_id = 1 AND seq = 2") ==
      [("Une entreprise\nUn organisme de formation",)], "... the quick replies with theirs")

# ---- the token is stored hashed, never as given ----
raw = b"".join(open(p, "rb").read() for p in (STORE, STORE + "-wal") if os.path.exists(p))
check(token.encode() not in raw and len(db("SELECT token_hash FROM chat_conversations")[0][0]) == 64,
      "the session token is nowhere in the store's files, only its hash")

# ---- the same client id twice: recorded and answered once ----
a.send({"type": "message", "id": "q2", "text": "Comment déposer une facture ?"})
a.send({"type": "message", "id": "q2", "text": "Comment déposer une facture ?"})
got = a.recv_until(lambda m: m.get("type") == "event" and m.get("from") == "bot")
got += a.quiet(1.0)
check([m for m in got if m["type"] == "ack"] == [{"type": "ack", "id": "q2"}] * 2, "a message sent twice gets two acks")
check(len([m for m in got if m.get("from") == "bot"]) == 1, "... and one answer")
check(db("SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'in' AND body LIKE 'Comment d%'", thread)
      == [(1,)], "... and is in the thread once")
last = max(e["seq"] for e in events(got))
check(last == 6, "the events are numbered 5 and 6")

# ---- dropped socket, a correspondant's reply meanwhile, resume with last_seq ----
a.drop()
time.sleep(0.3)
r = subprocess.run([PERSON_REPLY, STORE, str(thread), "agent", "Bonjour, je suis Claire, conseillère OCAPIAT."])
check(r.returncode == 0, "a correspondant answers in the thread from another process")
a = connect(d)
w = hello(a, token, last)
check(w["resumed"] is True and w["session"] == token and w["last_seq"] == 8, "the session resumes after a drop")
missed = a.recv_until(lambda m: m.get("seq") == 8)
check([(m["seq"], m["kind"], m.get("from"), m.get("state")) for m in missed] ==
      [(7, "message", "person", None), (8, "state", None, "person")], "exactly the missed events are replayed")
check(a.quiet(0.6) == [], "... and nothing else")

# ---- a correspondant's reply reaches an open socket live ----
t0 = time.time()
subprocess.run([PERSON_REPLY, STORE, str(thread), "agent", "Votre facture est bien arrivée."])
live = a.recv(5)
check(live.get("from") == "person" and live.get("seq") == 9 and live["text"] == "Votre facture est bien arrivée.",
      "a correspondant's reply arrives live (%.2f s)" % (time.time() - t0))
got = say(a, "q3", "Merci beaucoup")
check(any(m.get("from") == "bot" and "conseiller" in m.get("text", "") for m in got),
      "while a person holds the thread the visitor is told so (stored as an event too)")
last = max(m["seq"] for m in events(got))
b = connect(d)
w = hello(b, token, 0)
full = b.recv_until(lambda m: m.get("seq") == last)
check([m["seq"] for m in full] == list(range(1, last + 1)), "last_seq 0 replays the whole conversation in order")
b.close()

# ---- kill -9: nothing lost, nothing twice ----
a.send({"type": "ack", "seq": last})
time.sleep(0.3)
d.kill9()
# Both sides of a crash between a turn and its events, as the store holds them: an
# input whose turn ran (the thread has the visitor's message past its mark), and one
# whose turn never ran.
mark_before = db("SELECT max(id) FROM messages WHERE thread_id = ?", thread)[0][0]
with sqlite3.connect(STORE) as conn:
    conn.execute("INSERT INTO messages (thread_id, direction, body, decision, at) VALUES (?, 'in', 'ran before', 'answered', 0)",
                 (thread,))
    conn.execute("INSERT INTO chat_inputs (conversation_id, client_id, mark, done, at) VALUES (1, 'crash-ran', ?, 0, 0)",
                 (mark_before,))
    mark_now = conn.execute("SELECT max(id) FROM messages WHERE thread_id = ?", (thread,)).fetchone()[0]
    conn.execute("INSERT INTO chat_inputs (conversation_id, client_id, mark, done, at) VALUES (1, 'crash-not-run', ?, 0, 0)",
                 (mark_now,))
d = Daemon()
a = connect(d)
w = hello(a, token, last)
check(w["resumed"] is True, "after kill -9 and a restart the session resumes")
copied = a.recv_until(lambda m: m.get("text") == "ran before")
check(len(copied) == 1 and copied[0]["seq"] == last + 1, "what the thread got before the crash is copied once")
in_before = db("SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'in'", thread)[0][0]
a.send({"type": "message", "id": "crash-ran", "text": "ran before"})
got = a.recv_until(lambda m: m.get("type") == "ack")
got += a.quiet(0.8)
check(db("SELECT count(*) FROM messages WHERE thread_id = ? AND direction = 'in'", thread)[0][0] == in_before and
      not any(m.get("from") == "bot" for m in got), "a message whose turn ran before the crash is not answered again")
got = say(a, "crash-not-run", "Je voudrais parler à quelqu'un")
check(got[0] == {"type": "ack", "id": "crash-not-run"} and any(m.get("from") == "bot" for m in got),
      "a message whose turn never ran is answered once resent")
check(db("SELECT count(*) FROM chat_inputs WHERE done = 0") == [(0,)], "every input is done")
a.close()

# ---- the upgrade refused ----
check(refused(d, origin="https://evil.example") == 403, "a wrong Origin gets 403")
check(refused(d, origin=None) == 403, "no Origin gets 403")
check(refused(d, origin="https://www.ocapiat.fr") == "open", "the other allowed origin is accepted")
check(refused(d, origin="https://assistance.ocapiat.test") == "open",
      "dialogd's own origin ([web] public_url: its home page carries the widget) is accepted too")
check(refused(d, protocol=None) == 403, "no subprotocol gets 403")
check(refused(d, protocol="chat.v2") == 403, "a wrong subprotocol gets 403")
check(refused(d, path="/autre") == 403, "another path gets 403")

# ---- hostile frames ----
c = connect(d)
c.send_text("x" * 20000)
check(c.expect_close() == 1009, "a message over [chat] max_frame closes 1009")
c = connect(d)
c.frame(wsclient.OP_TEXT, b'{"type":"message","text":"' + b"a" * 9000, fin=False)
c.frame(wsclient.OP_CONT, b"a" * 9000, fin=True)
check(c.expect_close() == 1009, "... also in fragments")
c = connect(d)
hello(c)
c.send_text(b'{"type":"message","id":"u","text":"\xc3\x28"}')
check(c.expect_close() == 1007, "invalid UTF-8 closes 1007")
c = connect(d)
c.frame(wsclient.OP_BINARY, b"\x00\x01")
check(c.expect_close() == 1003, "a binary frame closes 1003")
c = connect(d)
hello(c)
c.send_text("bonjour")
e1 = c.recv()
check(e1["type"] == "error" and e1["code"] == "invalid_json" and "Merci" in e1["message"], "junk gets an error event in French")
c.send({"type": "bonjour"})
e2 = c.recv()
c.send({"type": "message", "id": "x y", "text": 3})
e3 = c.recv()
check((e2["code"], e3["code"]) == ("unknown_type", "invalid_field"), "an unknown type and a wrong field too")
check(c.expect_close() == 1008, "the third refused frame closes 1008")
c = connect(d)
c.send({"type": "message", "id": "early", "text": "bonjour"})
check(c.recv()["code"] == "hello_first", "a message before hello is refused")
c.close()

# ---- the message rate ----
c = connect(d)
hello(c)
for i in range(9):
    c.send({"type": "message", "id": "r%d" % i, "text": "bonjour"})
got = c.recv_until(lambda m: m.get("type") == "error", timeout=15)
check(len([m for m in got if m["type"] == "ack"]) == 8 and got[-1]["code"] == "rate_limited",
      "past [chat] messages_per_minute a message is refused (rate_limited), not acknowledged")
c.close()

# ---- connections per address ----
time.sleep(0.5)
held = [connect(d) for _ in range(12)]
check(refused(d) == 403, "past [chat] connections_per_address the upgrade gets 403")
for h in held:
    h.close()
time.sleep(0.5)
check(refused(d) == "open", "... and is accepted again once they are closed")

# ---- behind a trusted proxy, the client's address is X-Forwarded-For's last ----
def xff(value):
    return ("X-Forwarded-For: " + value,)


held = [connect(d, headers=xff("203.0.113.5")) for _ in range(12)]
check(refused(d, headers=xff("203.0.113.5")) == 403, "behind [web] trusted_proxies the limit counts X-Forwarded-For's address")
check(refused(d, headers=xff("198.51.100.9")) == "open", "... and another client behind the same proxy is not refused")
check(refused(d, headers=xff("198.51.100.9, 203.0.113.5")) == 403, "... whatever a client puts before the proxy's entry")
for h in held:
    h.close()
time.sleep(0.5)
c = connect(d, headers=xff("198.51.100.77"))
hello(c)
say(c, "x1", "bonjour")
c.close()
check(db("SELECT count(*) FROM threads WHERE channel = 'chat' AND requester = '198.51.100.77'") == [(1,)],
      "... and is the thread's requester")

# ---- pings and the idle timeout ----
deaf = connect(d, auto_pong=False)
hello(deaf)
alive = connect(d)
hello(alive)
t0 = time.time()
code = None
heard = []
# Both read side by side: the live one answers its pings while the deaf one waits.
while code is None and time.time() - t0 < 10:
    heard += alive.quiet(0.2)
    try:
        deaf.recv(0.2)
    except wsclient.Closed as closed:
        code = closed.code
    except socket.timeout:
        pass
check(code == 1001 and 3 <= time.time() - t0 <= 7, "a client answering no ping is closed 1001 after [chat] idle_timeout")
heard += alive.quiet(1.5)
check(heard == [], "a client answering the pings stays")
got = say(alive, "ping-ok", "bonjour")
check(any(m.get("from") == "bot" for m in got), "... and is still answered")
alive.close()

# ---- the end of a conversation ----
a = connect(d)
hello(a, token, 10 ** 6)
a.send({"type": "end"})
got = a.recv_until(lambda m: m.get("kind") == "state" and m.get("state") == "ended")
check(a.expect_close() == 1000, "end: the state event, then a normal close")
a = connect(d)
w = hello(a, token, 0)
check(w["resumed"] is False and w["session"] != token, "an ended session's token is forgotten")
check(db("SELECT count(*) FROM chat_conversations WHERE id = 1 AND token_hash IS NULL AND ended IS NOT NULL") == [(1,)],
      "... its hash is gone from the store")
a.close()

# ---- two tabs on one conversation; an expired session ----
c = connect(d)
tok = hello(c)["session"]
t1 = connect(d)
t2 = connect(d)
hello(t1, tok, 0)
hello(t2, tok, 0)
got1 = say(t1, "tab-1", "bonjour")
got2 = t2.recv_until(lambda m: m.get("from") == "bot")
check([m["seq"] for m in events(got1)] == [m["seq"] for m in got2] == [1, 2],
      "two sockets of one conversation (two tabs) both get every event")
for x in (c, t1, t2):
    x.close()
with sqlite3.connect(STORE) as conn:
    conn.execute("UPDATE chat_conversations SET expires = 1 WHERE token_hash IS NOT NULL AND id = (SELECT max(id) FROM chat_conversations)")
c = connect(d)
w = hello(c, tok, 2)
check(w["resumed"] is False and w["session"] != tok and w["last_seq"] == 0,
      "an expired session ([chat] session_ttl) gets a new one")
c.close()

# ---- a conversation purged while its socket is open ----
c = connect(d)
hello(c)
say(c, "p1", "bonjour")
conv = db("SELECT max(id) FROM chat_conversations")[0][0]
with sqlite3.connect(STORE) as conn:
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("DELETE FROM messages WHERE thread_id = (SELECT thread_id FROM chat_conversations WHERE id = ?)", (conv,))
    conn.execute("DELETE FROM threads WHERE id = (SELECT thread_id FROM chat_conversations WHERE id = ?)", (conv,))
check(db("SELECT count(*) FROM chat_events WHERE conversation_id = ?", conv) == [(0,)],
      "purging a thread removes its conversation's events")
c.send({"type": "message", "id": "p2", "text": "encore là ?"})
e = c.recv()
check(e.get("code") == "ended" and c.expect_close() == 1000, "a message to a purged conversation: error ended, close 1000")

# ---- a hand-over: when a person answers, the answer by mail to an address proven with a code ----
def outbox(sql_where, *args):
    """(kind, recipient, subject, text) of the outbox rows that match, the mail decoded."""
    import email
    import email.policy
    rows = []
    for kind, recipient, raw in db("SELECT kind, recipient, raw FROM outbox WHERE " + sql_where, *args):
        msg = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=email.policy.default)
        rows.append((kind, recipient, str(msg["Subject"]), msg.get_body(("plain",)).get_content()))
    return rows


def code_mailed_to(address):
    rows = outbox("recipient = ? AND kind = 'secret' ORDER BY id DESC LIMIT 1", address)
    m = re.search(r"\b(\d{8})\b", rows[0][3]) if rows else None
    return m.group(1) if m else None


c = connect(d, headers=xff("198.51.100.20"))
hello(c)
got = say(c, "h-1", "Je voudrais parler à un conseiller")
bot = [m for m in events(got) if m.get("from") == "bot"]
check(len(bot) == 1 and "Nos conseillers répondent du lundi au vendredi, de 9 h à 17 h" in bot[0]["text"] and
      bot[0]["quick_replies"] == ["Recevoir la réponse par mail"],
      "a hand-over says when a person answers and offers the answer by mail")
hthread = db("SELECT thread_id FROM chat_conversations WHERE id = (SELECT max(id) FROM chat_conversations)")[0][0]
got = say(c, "h-2", "Recevoir la réponse par mail")
check(any("code de vérification" in m.get("text", "") for m in events(got)), "... clicked: the address is asked for")
got = say(c, "h-3", "marie.dupont@example.test")
check(any("vient d’être envoyé à marie.dupont@example.test" in m.get("text", "") for m in events(got)),
      "an address typed gets a code, and the visitor is told so")
code = code_mailed_to("marie.dupont@example.test")
check(code is not None and code not in str(events(got)), "... mailed to that address only (the outbox)")
wrong = "%08d" % ((int(code) + 1) % 10**8)
got = say(c, "h-4", wrong)
check(any("n’est pas valable" in m.get("text", "") for m in events(got)), "a wrong code is refused")
got = say(c, "h-5", code)
check(any("adresse marie.dupont@example.test est vérifiée" in m.get("text", "") for m in events(got)) and
      not any(code in m.get("text", "") for m in events(got)), "the right code proves the address (and is not shown back)")
check(db("SELECT email, email_answers FROM chat_conversations WHERE thread_id = ?", hthread) ==
      [("marie.dupont@example.test", 1)], "... kept with the conversation")
r = subprocess.run([DIALOGCTL, "-c", CONF, "reply", str(hthread), "--as", "claire"], input="Bonjour, voici la réponse.".encode(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
check(r.returncode == 0, "a correspondant answers (dialogctl reply)")
live = c.recv_until(lambda m: m.get("from") == "person")
live += c.quiet(0.6)
check([m["text"] for m in live if m.get("from") == "person"] == ["Bonjour, voici la réponse."],
      "... the answer arrives live, once (%s)" % [(m.get("kind"), m.get("from"), m.get("state")) for m in live])
mails = outbox("thread_id = ? AND kind = 'person'", hthread)
check(len(mails) == 1 and mails[0][1] == "marie.dupont@example.test" and "Bonjour, voici la réponse." in mails[0][3],
      "... and by mail to the proven address")
c.send({"type": "transcript", "id": "tr-1"})
got = c.recv_until(lambda m: m.get("from") == "bot")
check(got[0] == {"type": "ack", "id": "tr-1"} and "vient d’être envoyée à marie.dupont@example.test" in got[-1]["text"],
      "the transcript frame: acknowledged, sent at once to the address proven in this conversation")
mails = outbox("thread_id = ? AND kind = 'action'", hthread)
check(len(mails) == 1 and "Vous : Je voudrais parler à un conseiller" in mails[0][3] and
      "Conseiller OCAPIAT : Bonjour, voici la réponse." in mails[0][3] and code not in mails[0][3],
      "... the conversation as the thread keeps it, without the code")
c.close()

c = connect(d, headers=xff("198.51.100.21"))
hello(c)
c.send({"type": "transcript", "id": "tr-2"})
got = c.recv_until(lambda m: m.get("from") == "bot")
check("adresse mail à laquelle envoyer cette conversation" in got[-1]["text"],
      "a transcript asked without a proven address: the address is asked for first")
sent = 0
for i in range(4):
    got = say(c, "a-%d" % i, "personne%d@example.test" % i)
    text = " ".join(m.get("text", "") for m in events(got))
    if "vient d’être envoyé" in text:
        sent += 1
        c.send({"type": "transcript", "id": "tr-2-%d" % i})  # asked again, for the next address
        c.recv_until(lambda m: m.get("from") == "bot")
    last_text = text
check(sent == 3 and "Trop de codes" in last_text, "at most 3 codes an hour to the addresses one visitor types")
check(outbox("recipient = 'personne3@example.test'") == [], "... the 4th address gets nothing")
check(outbox("kind = 'action' AND recipient LIKE 'personne%'") == [], "... and no transcript goes to an unproven address")
c.close()

# ---- a visitor the extranet vouches for (a signed identity token) ----
c = connect(d)
good = identity_token("JMOREAU01", time.time() + 300, "jti-1")
w = hello(c, None, 0, good)
check(w["identified"] is True and c.quiet(0.3) == [], "a valid identity token: welcome identified, no error")
tok = w["session"]
got = say(c, "id-1", "Où en est mon dossier AF-2023-018745 ?")
bot = [m for m in events(got) if m.get("from") == "bot"]
check(len(bot) == 1 and "AF-2023-018745" in bot[0]["text"] and "code" not in bot[0]["text"],
      "identified: a dossier of the account's company gets its status at once, no code")
conv = db("SELECT max(id) FROM chat_conversations")[0][0]
check(db("SELECT count(*) FROM outbox WHERE thread_id = (SELECT thread_id FROM chat_conversations WHERE id = ?)", conv)
      == [(0,)], "... and nothing is mailed")
got = say(c, "id-2", "Où en est mon dossier CA-2023-0098412 ?")
bot = [m for m in events(got) if m.get("from") == "bot"]
check(len(bot) == 1 and "parmi ceux des structures de votre compte" in bot[0]["text"] and "accord" not in bot[0]["text"],
      "... another company's dossier: the answer a dossier that does not exist gets")
got = say(c, "id-3", "Où en est le dossier AF-2099-000001 ?")
bot2 = [m for m in events(got) if m.get("from") == "bot"]
check(len(bot2) == 1 and bot2[0]["text"] == bot[0]["text"].replace("CA-2023-0098412", "AF-2099-000001"),
      "... word for word")
c.close()
c = connect(d)
w = hello(c, tok, 0)
check(w["identified"] is True, "a resumed session stays identified without a token")
c.close()
for what, token_text in (("replayed (its jti already used by another conversation)", good),
                         ("expired", identity_token("JMOREAU01", time.time() - 1, "jti-2")),
                         ("valid longer than [chat] identity_max_ttl", identity_token("JMOREAU01", time.time() + 3600, "jti-3")),
                         ("signed with another secret", identity_token("JMOREAU01", time.time() + 300, "jti-4", "x" * 40)),
                         ("signed with alg none", identity_token("JMOREAU01", time.time() + 300, "jti-5", alg="none"))):
    c = connect(d)
    w = hello(c, None, 0, token_text)
    e = c.recv(2)
    check(w["identified"] is False and e.get("type") == "error" and e.get("code") == "identity_refused",
          "an identity token %s is refused: unidentified, told politely" % what)
    got = say(c, "n-1", "Où en est mon dossier AF-2023-018745 ?")
    check(not any("attente" in m.get("text", "") for m in events(got)), "... and a dossier number gets no status")
    c.close()

check(d.stop() == 0, "dialogd stops with 0 on SIGTERM")
log = open(os.path.join(WORK, "dialogd.log")).read()
check("refused a connection from 127.0.0.1: Origin not in [web] allowed_origins (403)" in log,
      "a refused upgrade is logged with its reason")
check("identity token refused: replayed" in log and "identity token refused: expired" in log and
      "identity token refused: bad signature" in log and "identity token refused: not signed HS256" in log,
      "each refused identity token is logged with its reason")
check(IDENTITY_SECRET not in log, "the identity secret is in no log line")
print("%d passed, %d failed" % (passed, failures))
sys.exit(1 if failures else 0)
