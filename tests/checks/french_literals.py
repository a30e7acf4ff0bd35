#!/usr/bin/env python3
"""Fails when a string literal of daemon/*.c looks like French a user would read.

Every sentence users read lives in templates/ (checked at load time); C keeps English
log lines and the patterns that read French input. A literal is suspect when it holds a
French letter or sign (accents, ’, « », no-break spaces) or a French word a sentence
addressed to someone uses (vous, votre, merci…). The suspects that are not text to read
are listed in ALLOWED below, each with its reason, and PCRE2 patterns and text.c (the
French input patterns) are not checked; anything else fails, naming file and line. Usage: french_literals.py DAEMON_DIR
"""
import os
import re
import sys

# Words of sentences addressed to a user, which English log lines never hold.
FRENCH_WORDS = re.compile(
    r"\b(vous|votre|vos|nous|notre|nos|merci|bonjour|cordialement|veuillez|"
    r"demande|demandeur|conseiller|identifiant|message de|fil|dossier n|mot de passe|"
    r"n'a pas|n'est|ne peut|pas pu|est|sont|un|une|le|la|les|de|des|du|au|aux|et|ou|avec|pour|dans|sur|"
    r"texte|illisible|formation|contrat)\b",
    re.IGNORECASE,
)

# The one module made of French input patterns (quoted history, greetings, signatures,
# politeness formulas of incoming mail): dozens of them, none ever written to anyone.
INPUT_FILES = {"core/text.c"}

# A literal holding regular-expression syntax is a PCRE2 pattern: it reads input.
PATTERN = re.compile(r"\\\\[sbdw]|\(\?[:<!=]")
# Folded text (lower-case ASCII letters, digits, spaces: what text_fold makes of input) is
# a word compared with folded input ("pas du tout", "au revoir", "en cours de saisie"):
# its words are not checked, its letters are (a sentence with an accent is still caught).
FOLDED = re.compile(r"^[a-z0-9 ]+$")

# (file, literal as written in the source): French on purpose, each with its reason.
ALLOWED = {
    # Reply markers of incoming subjects.
    ("formats/mail_question.c", "réf"): "input: reply markers skipped at the start of a subject",
    ("formats/mail_question.c", "rép"): "input: reply markers skipped at the start of a subject",
    ("formats/mail_compose.c", "réf"): "input: a marker stripped from the subject replied to",
    # The default sender of [smtp] from: configuration, which the operator sets.
    ("core/config.c", "Dialoguer avec OCAPIAT <dialoguer@ocapiat.test>"): "a configuration default",
    # dialogctl chat's speaker label in a terminal, as "OCAPIAT > " is.
    ("dialogctl.c", "\\nVous > "): "a label of the operator's terminal tool",
    # The name of a form field (HTML), not a text.
    ("web/reset_page.c", '\\">\\n<input type=\\"text\\" name=\\"identifiant\\" value=\\"'): "a form field's name",
    # The console's paths: /console/fil/ID is a thread's address (issue 11), not text.
    ("web/console.c", "fil/"): "a URL path of the console",
    ("mail/setup.c", "%.*s/console/fil/"): "a URL path of the console (the notifications' link)",
    ("web/console_queue.c", 'fil/%lld\\" class=\\"sujet\\">'): "a URL path of the console",
    ("web/console_thread.c", "fil/%lld/"): "a URL path of the console",
    ("web/console_thread.c", "fil/%lld?%s=1"): "a URL path of the console",
}


def literals(src):
    """Yields (line, text) for every run of adjacent string literals, outside comments
    and character constants; escapes are left as written."""
    i, n, line = 0, len(src), 1
    run, run_line, last_end = None, 0, 0
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c == "'":
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            text = src[i + 1 : j]
            if run is not None and src[last_end:i].strip() == "":
                run += text
            else:
                if run is not None:
                    yield run_line, run
                run, run_line = text, line
            line += src.count("\n", i, j)
            i = last_end = j + 1
        else:
            i += 1
    if run is not None:
        yield run_line, run


# French letters and typography; not the dashes, arrows and ellipses of English logs.
FRENCH_CHARS = re.compile("[À-ÖØ-öø-ÿŒœ’«»\u00a0\u202f]")


def suspect(text):
    if PATTERN.search(text):
        return False
    if FRENCH_CHARS.search(text):
        return True
    if FOLDED.match(text):
        return False
    # A format's conversions and escapes are not words: "%s" must not read as "s".
    words = re.sub(r"%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[a-zA-Z]|\\.", " ", text)
    return FRENCH_WORDS.search(words) is not None and not _english(words)


# A literal with these English words is a log line, an SQL statement or a CLI text that
# happens to contain a word such as "est", "des" or "sur" (no such English words are
# expected in French sentences).
_ENGLISH = re.compile(r"\b(the|a|an|of|to|is|not|for|no|and|or|with|from|SELECT|INSERT|UPDATE|DELETE|CREATE|WHERE)\b")


def _english(words):
    return _ENGLISH.search(words) is not None


def main():
    folder = sys.argv[1]
    failures = 0
    scanned = 0
    names = sorted(os.path.relpath(os.path.join(top, f), folder)
                   for top, _, files in os.walk(folder) for f in files)
    for name in names:
        if not name.endswith(".c") or name in INPUT_FILES:
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            src = f.read()
        for line, text in literals(src):
            scanned += 1
            if suspect(text) and (name, text) not in ALLOWED:
                print("%s/%s:%d: French text in C: \"%s\"\n  move it to templates/ (template.c's table, Makefile.am's "
                      "dist_templates_DATA), or, if no user reads it (input patterns, a field name), add it to "
                      "ALLOWED in tests/checks/french_literals.py with the reason" % (folder, name, line, text))
                failures += 1
    if scanned == 0:
        print("no string literal found in %s: wrong folder?" % folder)
        return 1
    print("%d literals scanned, %d French" % (scanned, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
