#!/usr/bin/env python3
"""A fake of the extranet's directory API, for tests/unit/test_directory_http.c (stdlib only).

    fake_extranet.py DATA_DIR [--api-key KEY] [--user USER --password PASSWORD]

Serves DATA_DIR/{companies,accounts,dossiers}.csv (the files of `dialogctl import`) with
the API of README.md ("Directory API") on 127.0.0.1, on a free port printed alone on the
first line of stdout. With --api-key or --user, every API call must carry
"Authorization: Bearer KEY" or Basic USER:PASSWORD (either, when both are given), else 401.

Test controls (never authenticated, never logged):
    POST /_next?status=200&type=application/json&count=1   body = the raw bytes to answer
         the next `count` API calls with, whatever they ask
    POST /_mode?name=NAME&count=1&seconds=3   the next `count` API calls:
         slow         sleep `seconds`, then answer normally
         redirect     302 to /accounts (the client must not follow)
         huge         a valid 2 MiB JSON answer with Content-Length
         huge_stream  the same without Content-Length (ends when the connection closes)
         drop         close the connection without answering
    GET  /_log     the API calls received: [{"method", "target" (raw, as sent), "client_port",
         "user_agent", "accept", "authorized"}]
    POST /_clear   forget the log and any pending /_next or /_mode
"""

import base64
import csv
import decimal
import json
import os
import sys
import threading
import time
import unicodedata
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The closed lists of directory_import.c: canonical value <- accepted folded spellings.
KINDS = {"entreprise": ["entreprise"], "organisme": ["organisme", "organisme de formation", "of"]}
ACCOUNT_STATES = {"active": ["active", "actif"], "pending": ["pending", "en attente d activation", "en attente"]}
DOSSIER_TYPES = {
    "action_formation": ["action formation", "action de formation"],
    "contrat_pro": ["contrat pro", "contrat de professionnalisation"],
    "contrat_apprentissage": ["contrat apprentissage", "contrat d apprentissage"],
}
DOSSIER_STATES = {
    "en_cours_de_saisie": ["en cours de saisie"],
    "transmis": ["transmis"],
    "en_attente_de_pieces": ["en attente de pieces"],
    "accorde": ["accorde"],
    "refuse": ["refuse"],
    "paye": ["paye"],
    "clos": ["clos"],
}


def fold(text):
    """Lower case, no accents, words of letters and digits joined by single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def choose(value, choices):
    for canonical, accepted in choices.items():
        if value == canonical or fold(value) in accepted:
            return canonical
    raise ValueError("%r is not one of %s" % (value, ", ".join(choices)))


def cents(amount):
    amount = amount.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not amount:
        return None
    return int((decimal.Decimal(amount) * 100).to_integral_value(decimal.ROUND_HALF_UP))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


class Directory:
    def __init__(self, folder):
        companies = {r["siret"]: r["name"] for r in read_csv(os.path.join(folder, "companies.csv"))}
        self.accounts = {}  # identifier -> account object, in file order
        for r in read_csv(os.path.join(folder, "accounts.csv")):
            a = self.accounts.setdefault(r["identifier"], {"identifier": r["identifier"], "structures": []})
            a.update(email=r["email"], kind=choose(r["kind"], KINDS), state=choose(r["state"], ACCOUNT_STATES))
            if all(s["siret"] != r["siret"] for s in a["structures"]):
                a["structures"].append({"siret": r["siret"], "name": companies.get(r["siret"]) or None})
        self.dossiers = {}
        for r in read_csv(os.path.join(folder, "dossiers.csv")):
            self.dossiers[r["number"]] = {
                "number": r["number"],
                "type": choose(r["type"], DOSSIER_TYPES),
                "state": choose(r["state"], DOSSIER_STATES),
                "siret": r["siret"],
                "training_org_siret": r.get("training_org_siret") or None,
                "deca_number": r.get("deca_number") or None,
                "start_date": r.get("start_date") or None,
                "amount_cents": cents(r.get("amount", "")),
            }

    def by_email(self, email):
        return [a for a in self.accounts.values() if a["email"].lower() == email.lower()]

    def by_siret(self, siret):
        return [a for a in self.accounts.values() if any(s["siret"] == siret for s in a["structures"])]

    def account(self, identifier):
        for a in self.accounts.values():
            if a["identifier"].lower() == identifier.lower():
                return a
        return None

    def dossier(self, number):
        d = self.dossiers.get(number)
        if d is None:
            return None
        acting = {d["siret"], d["training_org_siret"]} - {None}
        contacts = sorted({a["email"].lower() for a in self.accounts.values()
                           if a["state"] == "active" and any(s["siret"] in acting for s in a["structures"])})
        return dict(d, contacts=contacts)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self.pending = []  # ("next", status, type, body) or ("mode", name, seconds), one per call

    def take(self):
        with self.lock:
            return self.pending.pop(0) if self.pending else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-extranet/1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, content_type="application/json", extra=()):
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def authorized(self):
        opts = self.server.options
        if not opts["api_key"] and not opts["user"]:
            return True
        got = self.headers.get("Authorization", "")
        if opts["api_key"] and got == "Bearer " + opts["api_key"]:
            return True
        if opts["user"]:
            basic = base64.b64encode(("%s:%s" % (opts["user"], opts["password"] or "")).encode()).decode()
            if got == "Basic " + basic:
                return True
        return False

    # ---- controls ----

    def control(self, method):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        body = self.read_body() if method == "POST" else b""
        count = int(q.get("count", "1"))
        if method == "POST" and url.path == "/_next":
            with state.lock:
                state.pending += [("next", int(q.get("status", "200")), q.get("type", "application/json"), body)] * count
        elif method == "POST" and url.path == "/_mode":
            with state.lock:
                state.pending += [("mode", q["name"], float(q.get("seconds", "3")))] * count
        elif method == "POST" and url.path == "/_clear":
            with state.lock:
                state.log.clear()
                state.pending.clear()
        elif method == "GET" and url.path == "/_log":
            with state.lock:
                return self.send(200, list(state.log))
        else:
            return self.send(404, {"error": "no such control"})
        self.send(204, b"")

    # ---- the API ----

    def api(self, method):
        state = self.server.state
        with state.lock:
            state.log.append({"method": method, "target": self.path, "client_port": self.client_address[1],
                              "user_agent": self.headers.get("User-Agent"),
                              "accept": self.headers.get("Accept"), "authorized": self.authorized()})
        if method == "POST":
            self.read_body()
        override = state.take()
        if override and override[0] == "next":
            return self.send(override[1], override[3], override[2])
        if override and override[0] == "mode":
            name = override[1]
            if name == "slow":
                time.sleep(override[2])
            elif name == "redirect":
                return self.send(302, {"error": "moved"}, extra=[("Location", "/accounts?email=x%40y.example")])
            elif name in ("huge", "huge_stream"):
                body = b'{"accounts":[],"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
                if name == "huge":
                    return self.send(200, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i:i + 65536])
                return None
            elif name == "drop":
                self.close_connection = True
                return None
        if not self.authorized():
            return self.send(401, {"error": "unauthorized"}, extra=[("WWW-Authenticate", 'Bearer realm="directory"')])
        return self.route(method)

    def route(self, method):
        directory = self.server.directory
        url = urllib.parse.urlsplit(self.path)
        try:
            # Segments and values are decoded strictly: what the client encoded must be UTF-8.
            parts = [urllib.parse.unquote_to_bytes(p).decode("utf-8") for p in url.path.split("/")[1:]]
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True, strict_parsing=bool(url.query),
                                          errors="strict")
        except (UnicodeDecodeError, ValueError):
            return self.send(400, {"error": "bad_request"})
        not_found = (404, {"error": "not_found"})
        if method == "GET" and parts == ["accounts"]:
            if list(query) == ["email"] and len(query["email"]) == 1:
                return self.send(200, {"accounts": directory.by_email(query["email"][0])})
            if list(query) == ["siret"] and len(query["siret"]) == 1:
                return self.send(200, {"accounts": directory.by_siret(query["siret"][0])})
            return self.send(400, {"error": "bad_request"})
        if url.query:
            return self.send(400, {"error": "bad_request"})
        if method == "GET" and len(parts) == 2 and parts[0] == "accounts":
            account = directory.account(parts[1])
            return self.send(200, account) if account else self.send(*not_found)
        if method == "GET" and len(parts) == 2 and parts[0] == "dossiers":
            dossier = directory.dossier(parts[1])
            return self.send(200, dossier) if dossier else self.send(*not_found)
        if method == "POST" and len(parts) == 3 and parts[0] == "accounts" and parts[2] == "password-reset":
            return self.send(202, {"status": "accepted"}) if directory.account(parts[1]) else self.send(*not_found)
        return self.send(*not_found)

    def handle_method(self, method):
        try:
            if self.path.startswith("/_"):
                return self.control(method)
            return self.api(method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return None

    def do_GET(self):
        self.handle_method("GET")

    def do_POST(self):
        self.handle_method("POST")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a timeout, a refused huge answer) is what the tests do.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main(argv):
    args = list(argv[1:])
    if not args:
        sys.exit("usage: fake_extranet.py DATA_DIR [--api-key KEY] [--user USER --password PASSWORD]")
    folder = args.pop(0)
    options = {"api_key": None, "user": None, "password": None}
    while args:
        flag = args.pop(0)
        key = {"--api-key": "api_key", "--user": "user", "--password": "password"}.get(flag)
        if key is None or not args:
            sys.exit("fake_extranet.py: bad argument %s" % flag)
        options[key] = args.pop(0)
    server = Server(("127.0.0.1", 0), Handler)
    server.directory = Directory(folder)
    server.state = State()
    server.options = options
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
