/* Tests of mail_compose: the message is CRLF, 7-bit, folded within limits; no header value
 * carries a line break from the input; encoded words and quoted-printable decode back to
 * the input; reply subjects, ids, addresses, quoting and IMAP modified UTF-7. */
#include "autoconf.h"
#include "testutil.h"
#include "formats/mail_compose.h"
#include "core/text.h"

#include <ctype.h>
#include <locale.h>
#include <strings.h>

/* ---- helpers: a small independent reader of what mail_compose writes ---- */

/* Every line ends in CRLF, no bare CR or LF, 7-bit only, header lines ≤ 78, body lines
 * ≤ 76; returns the offset of the body. */
static size_t
check_wire_format(const char *msg)
{
	size_t len = strlen(msg);
	assert_true(len >= 2);
	assert_memory_equal(msg + len - 2, "\r\n", 2);
	bool in_body = false;
	size_t body = 0;
	for (const char *line = msg; *line != '\0';) {
		const char *crlf = strstr(line, "\r\n");
		assert_non_null(crlf);
		size_t n = (size_t)(crlf - line);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];
			if (c == '\r' || c == '\n' || c >= 0x80 || (c < 0x20 && c != '\t'))
				fail_msg("byte 0x%02x in line \"%.*s\"", c, (int)n, line);
		}
		if (!in_body && n == 0) {
			in_body = true;
			body = (size_t)(crlf + 2 - msg);
		} else if (!in_body) {
			if (n > 78)
				fail_msg("header line of %zu characters: %.*s", n, (int)n, line);
			/* A continuation line is never blank. */
			if (line[0] == ' ' || line[0] == '\t')
				assert_true(strspn(line, " \t") < n);
		} else if (n > 76) {
			fail_msg("body line of %zu characters: %.*s", n, (int)n, line);
		}
		line = crlf + 2;
	}
	assert_true(in_body);
	return body;
}

/* Number of header lines (not continuations) named name. */
static size_t
count_headers(const char *msg, const char *name)
{
	size_t count = 0, nlen = strlen(name);
	for (const char *line = msg; *line != '\0' && strncmp(line, "\r\n", 2) != 0;) {
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':')
			count++;
		line = strstr(line, "\r\n") + 2;
	}
	return count;
}

/* The unfolded value of the first header named name (CRLF before WSP removed, leading
 * spaces dropped), or NULL. Caller frees. */
static char *
header_value(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *line = msg; *line != '\0' && strncmp(line, "\r\n", 2) != 0;) {
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			struct strbuf sb = { 0 };
			const char *p = line + nlen + 1;
			if (*p == ' ')
				p++;
			for (;;) {
				const char *crlf = strstr(p, "\r\n");
				strbuf_add(&sb, p, (size_t)(crlf - p));
				if (crlf[2] != ' ' && crlf[2] != '\t')
					break;
				p = crlf + 2;
			}
			char *v = strbuf_detach(&sb);
			size_t lead = strspn(v, " ");
			memmove(v, v + lead, strlen(v + lead) + 1);
			return v;
		}
		line = strstr(line, "\r\n") + 2;
	}
	return NULL;
}

static int
b64_val(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(a, c);
	return c != '\0' && p != NULL ? (int)(p - a) : -1;
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes an unfolded unstructured value made of RFC 2047 encoded words (space between two
 * encoded words ignored) or plain text. Each word must be ≤ 75 characters and hold whole
 * UTF-8 characters. phrase: Q words use only the characters §5(3) allows. Caller frees. */
static char *
decode_words(const char *v, bool phrase)
{
	struct strbuf out = { 0 };
	bool prev_word = false;
	const char *p = v;
	while (*p != '\0') {
		if (strncmp(p, "=?UTF-8?", 8) != 0) {
			const char *next = strstr(p, "=?UTF-8?");
			size_t n = next != NULL ? (size_t)(next - p) : strlen(p);
			bool only_space = strspn(p, " ") == n;
			if (!(prev_word && only_space && next != NULL))
				strbuf_add(&out, p, n);
			p += n;
			prev_word = false;
			continue;
		}
		const char *end = strstr(p + 10, "?=");
		assert_non_null(end);
		size_t wlen = (size_t)(end + 2 - p);
		if (wlen > 75)
			fail_msg("encoded word of %zu characters", wlen);
		char enc = p[8];
		assert_true(enc == 'B' || enc == 'Q');
		assert_int_equal(p[9], '?');
		struct strbuf w = { 0 };
		const char *q = p + 10;
		if (enc == 'Q') {
			for (; q < end; q++) {
				if (*q == '_') {
					strbuf_addc(&w, ' ');
				} else if (*q == '=') {
					int hi = hex_val(q[1]), lo = hex_val(q[2]);
					assert_true(hi >= 0 && lo >= 0);
					strbuf_addc(&w, (char)(hi << 4 | lo));
					q += 2;
				} else {
					assert_true(*q > 0x20 && *q < 0x7f && *q != '?');
					if (phrase && !isalnum((unsigned char)*q))
						assert_non_null(strchr("!*+-/", *q));
					strbuf_addc(&w, *q);
				}
			}
		} else {
			assert_int_equal((end - q) % 4, 0);
			for (; q < end; q += 4) {
				int v0 = b64_val(q[0]), v1 = b64_val(q[1]), v2 = b64_val(q[2]), v3 = b64_val(q[3]);
				assert_true(v0 >= 0 && v1 >= 0);
				strbuf_addc(&w, (char)(v0 << 2 | v1 >> 4));
				if (q[2] != '=') {
					assert_true(v2 >= 0);
					strbuf_addc(&w, (char)((v1 & 15) << 4 | v2 >> 2));
					if (q[3] != '=') {
						assert_true(v3 >= 0);
						strbuf_addc(&w, (char)((v2 & 3) << 6 | v3));
					}
				}
			}
		}
		char *err = NULL;
		if (w.len > 0 && text_validate(w.data, w.len, &err) < 0)
			fail_msg("encoded word %.*s splits a character: %s", (int)wlen, p, err);
		if (w.len > 0)
			strbuf_add(&out, w.data, w.len);
		strbuf_free(&w);
		p = end + 2;
		prev_word = true;
	}
	return strbuf_detach(&out);
}

/* Decodes a quoted-printable body back to LF text. Caller frees. */
static char *
decode_qp(const char *body)
{
	struct strbuf out = { 0 };
	for (const char *p = body; *p != '\0';) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			int hi = hex_val(p[1]), lo = hex_val(p[2]);
			assert_true(hi >= 0 && lo >= 0);
			strbuf_addc(&out, (char)(hi << 4 | lo));
			p += 3;
		} else if (p[0] == '\r' && p[1] == '\n') {
			strbuf_addc(&out, '\n');
			p += 2;
		} else {
			strbuf_addc(&out, *p++);
		}
	}
	return strbuf_detach(&out);
}

static struct outgoing_mail
sample_mail(void)
{
	struct outgoing_mail m = { 0 };
	m.from_name = "Assistance OCAPIAT";
	m.from_address = "dialoguer@ocapiat.test";
	m.to_name = "Jean Dupont";
	m.to_address = "jean.dupont@example.fr";
	m.subject = "Re: Mot de passe";
	m.message_id = "abc.123@ocapiat.test";
	m.body = "Bonjour,\n\nVoici la réponse.\n";
	m.date = 1700000000; /* Tue, 14 Nov 2023 22:13:20 +0000 */
	return m;
}

/* ---- mail_compose ---- */

static void
test_compose_basic(void **state)
{
	(void)state;
	/* Day and month names must not follow the locale. */
	if (setlocale(LC_ALL, "fr_FR.UTF-8") == NULL)
		setlocale(LC_ALL, "C.UTF-8");
	struct outgoing_mail m = sample_mail();
	const char *refs[] = { "first@example.fr", "second@example.fr" };
	m.in_reply_to = "second@example.fr";
	m.references = refs;
	m.reference_count = 2;
	char *msg = mail_compose(&m);
	setlocale(LC_ALL, "C");
	assert_non_null(msg);
	size_t body = check_wire_format(msg);
	const char *expected_head =
		"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
		"From: Assistance OCAPIAT <dialoguer@ocapiat.test>\r\n"
		"To: Jean Dupont <jean.dupont@example.fr>\r\n"
		"Subject: Re: Mot de passe\r\n"
		"Message-ID: <abc.123@ocapiat.test>\r\n"
		"In-Reply-To: <second@example.fr>\r\n"
		"References: <first@example.fr> <second@example.fr>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n";
	assert_int_equal(body, strlen(expected_head));
	assert_memory_equal(msg, expected_head, body);
	assert_string_equal(msg + body, "Bonjour,\r\n\r\nVoici la r=C3=A9ponse.\r\n");
	assert_int_equal(count_headers(msg, "Auto-Submitted"), 0);
	free(msg);

	/* Without a name, without threading, as an automatic reply. */
	m.from_name = NULL;
	m.to_name = NULL;
	m.in_reply_to = NULL;
	m.references = NULL;
	m.auto_replied = 1;
	msg = mail_compose(&m);
	check_wire_format(msg);
	assert_non_null(strstr(msg, "\r\nFrom: <dialoguer@ocapiat.test>\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: <jean.dupont@example.fr>\r\n"));
	assert_int_equal(count_headers(msg, "In-Reply-To"), 0);
	assert_int_equal(count_headers(msg, "References"), 0);
	char *v = header_value(msg, "Auto-Submitted");
	assert_string_equal(v, "auto-replied");
	free(v);
	free(msg);

	m.auto_replied = 0;
	m.auto_generated = 1;
	msg = mail_compose(&m);
	v = header_value(msg, "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	free(v);
	free(msg);
}

static void
test_compose_header_injection(void **state)
{
	(void)state;
	struct outgoing_mail m = sample_mail();
	m.subject = "Bonjour\r\nBcc: victim@x";
	m.to_name = "Jean\r\nCc: other@x";
	m.from_name = "Support\nX-Evil: 1\x1b[31m";
	m.in_reply_to = "id@x\r\nBcc: victim@x";
	const char *refs[] = { "ok@x", "bad\r\nBcc: v@x", "<also.ok@x>" };
	m.references = refs;
	m.reference_count = 3;
	char *msg = mail_compose(&m);
	assert_non_null(msg);
	check_wire_format(msg);
	assert_int_equal(count_headers(msg, "Subject"), 1);
	assert_int_equal(count_headers(msg, "Bcc"), 0);
	assert_int_equal(count_headers(msg, "Cc"), 0);
	assert_int_equal(count_headers(msg, "X-Evil"), 0);
	assert_int_equal(count_headers(msg, "In-Reply-To"), 0);
	char *v = header_value(msg, "Subject");
	assert_string_equal(v, "Bonjour Bcc: victim@x");
	free(v);
	v = header_value(msg, "References");
	assert_string_equal(v, "<ok@x> <also.ok@x>");
	free(v);
	v = header_value(msg, "To");
	assert_string_equal(v, "\"Jean Cc: other@x\" <jean.dupont@example.fr>");
	free(v);
	free(msg);

	/* Addresses and our own id are refused outright. */
	const char *bad_addresses[] = { "victim@x\r\nBcc: y@z", "no-at-sign", "a b@c.fr", "<a@b.fr>",
					"a@b.fr>", "@b.fr", "a@", "a@b\x01.fr", "" };
	for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]); i++) {
		m = sample_mail();
		m.to_address = bad_addresses[i];
		assert_null(mail_compose(&m));
		m = sample_mail();
		m.from_address = bad_addresses[i];
		assert_null(mail_compose(&m));
	}
	m = sample_mail();
	m.message_id = "x@y\r\nBcc: v@x";
	assert_null(mail_compose(&m));
	m.message_id = NULL;
	assert_null(mail_compose(&m));
}

static void
test_compose_encoded_subject(void **state)
{
	(void)state;
	static const char *const subjects[] = {
		"Re: Problème de connexion à mon espace",
		"Re: Demande d’aide concernant la prise en charge de la formation « Conducteur d’engins » "
		"pour un salarié en CDI — dossier n° 2024-000123, relance après trois semaines sans réponse",
		"Привет, мир! Это очень длинная тема письма, чтобы проверить перенос строк и кодировку B",
		"emoji \xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80 fin",
		"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
		"Looks encoded =?UTF-8?B?SGk=?= but is not",
		"A_single_ASCII_word_that_is_far_too_long_to_fit_on_one_folded_header_line_of_seventy_eight",
		"Question sur (parenthèses) \"guillemets\" ? = _ et deux  espaces",
	};
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		struct outgoing_mail m = sample_mail();
		m.subject = subjects[i];
		char *msg = mail_compose(&m);
		check_wire_format(msg);
		assert_int_equal(count_headers(msg, "Subject"), 1);
		char *v = header_value(msg, "Subject");
		char *d = decode_words(v, false);
		/* Runs of spaces become one: the only change. */
		char *want = xstrdup(subjects[i]);
		char *o = want;
		for (const char *p = want; *p != '\0'; p++)
			if (!(*p == ' ' && o > want && o[-1] == ' '))
				*o++ = *p;
		*o = '\0';
		if (strcmp(d, want) != 0)
			fail_msg("subject %zu: got \"%s\" from \"%s\"", i, d, v);
		if (i > 0)
			assert_non_null(strstr(v, "=?UTF-8?"));
		free(want);
		free(d);
		free(v);
		free(msg);
	}

	/* Long plain ASCII is folded at its spaces and unfolds to itself. */
	const char *ascii = "Re: a rather long English subject line that goes on and on about nothing in "
			    "particular until it has to be folded twice over three lines";
	struct outgoing_mail m = sample_mail();
	m.subject = ascii;
	char *msg = mail_compose(&m);
	check_wire_format(msg);
	assert_non_null(strstr(msg, "\r\n "));
	char *v = header_value(msg, "Subject");
	assert_string_equal(v, ascii);
	free(v);
	free(msg);
}

static void
test_compose_display_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *wire;       /* the To value as written, or NULL: only check the decoding */
	} cases[] = {
		{ "Jean Dupont", "Jean Dupont <jean.dupont@example.fr>" },
		{ "Dupont, Jean", "\"Dupont, Jean\" <jean.dupont@example.fr>" },
		{ "Jean \"JD\" Dupont", "\"Jean \\\"JD\\\" Dupont\" <jean.dupont@example.fr>" },
		{ "Dupont (RH)", "\"Dupont (RH)\" <jean.dupont@example.fr>" },
		{ "back\\slash", "\"back\\\\slash\" <jean.dupont@example.fr>" },
		{ "Hélène Dupont-Lefèvre", NULL },
		{ "Élodie, service « formation », Société Générale des Transports et de la Logistique", NULL },
		{ "", "<jean.dupont@example.fr>" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outgoing_mail m = sample_mail();
		m.to_name = cases[i].name;
		char *msg = mail_compose(&m);
		check_wire_format(msg);
		char *v = header_value(msg, "To");
		if (cases[i].wire != NULL) {
			assert_string_equal(v, cases[i].wire);
		} else {
			const char *lt = strrchr(v, '<');
			assert_string_equal(lt, "<jean.dupont@example.fr>");
			char *phrase = xstrndup(v, (size_t)(lt - 1 - v));
			char *d = decode_words(phrase, true);
			assert_string_equal(d, cases[i].name);
			free(d);
			free(phrase);
		}
		free(v);
		free(msg);
	}
}

static void
test_compose_references_folded(void **state)
{
	(void)state;
	const char *refs[12];
	char *ids[12];
	for (size_t i = 0; i < 12; i++) {
		ids[i] = xasprintf("CAHxyz%zu-a-rather-long-message-id-from-a-webmail.%zu@mail.example.com", i, i * 7);
		refs[i] = ids[i];
	}
	struct outgoing_mail m = sample_mail();
	m.references = refs;
	m.reference_count = 12;
	m.in_reply_to = refs[11];
	char *msg = mail_compose(&m);
	check_wire_format(msg);
	char *v = header_value(msg, "References");
	struct strbuf want = { 0 };
	for (size_t i = 0; i < 12; i++)
		strbuf_addf(&want, "%s<%s>", i > 0 ? " " : "", ids[i]);
	assert_string_equal(v, want.data);
	strbuf_free(&want);
	free(v);
	free(msg);
	for (size_t i = 0; i < 12; i++)
		free(ids[i]);
}

static void
test_compose_body_qp(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"Bonjour,\n\nVotre identifiant est jean=dupont.\nMerci   \n.\nFrom here on\n"
		"Ligne avec tabulation\t\n\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
		/* Long lines: plain, all encoded, a soft break landing next to an escape. */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\n"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx= \n"
		"exactly seventy-six characters long, no soft break is needed for this lin\n"
		"ends with space after exactly seventy-five chars...........................  \n",
		"no final newline",
		"CRLF\r\nalready\r\n",
		"",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct outgoing_mail m = sample_mail();
		m.body = bodies[i];
		char *msg = mail_compose(&m);
		size_t body = check_wire_format(msg);
		char *d = decode_qp(msg + body);
		/* Back to LF endings, with a final newline when there is text. */
		struct strbuf want = { 0 };
		for (const char *p = bodies[i]; *p != '\0'; p++)
			if (*p != '\r')
				strbuf_addc(&want, *p);
		if (want.len > 0 && want.data[want.len - 1] != '\n')
			strbuf_addc(&want, '\n');
		assert_string_equal(d, want.len > 0 ? want.data : "");
		/* No line of the encoded body ends in a space or tab. */
		assert_null(strstr(msg + body, " \r\n"));
		assert_null(strstr(msg + body, "\t\r\n"));
		assert_null(strstr(msg + body, "\r\nFrom "));
		strbuf_free(&want);
		free(d);
		free(msg);
	}
	/* Invalid UTF-8 is replaced, so that charset=utf-8 stays true. */
	struct outgoing_mail m = sample_mail();
	m.body = "caf\xe9\n";
	char *msg = mail_compose(&m);
	size_t body = check_wire_format(msg);
	assert_string_equal(msg + body, "caf=EF=BF=BD\r\n");
	free(msg);
}

/* ---- mail_encode_header ---- */

static void
test_encode_header(void **state)
{
	(void)state;
	char *s = mail_encode_header("Plain ASCII, (with) \"specials\"");
	assert_string_equal(s, "Plain ASCII, (with) \"specials\"");
	free(s);
	s = mail_encode_header("two\r\nlines\tand\x7f" "del");
	assert_string_equal(s, "two lines and del");
	free(s);
	s = mail_encode_header("Problème");
	assert_string_equal(s, "=?UTF-8?Q?Probl=C3=A8me?=");
	free(s);
	s = mail_encode_header("Demande d’aide concernant la prise en charge de la formation « Conducteur d’engins »");
	assert_non_null(strstr(s, "?=\r\n =?UTF-8?"));
	/* Each line fits after "Subject: ". */
	size_t col = strlen("Subject: ");
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\r') {
			assert_true(col <= 76);
			col = 0;
			p++;
		} else {
			col++;
		}
	}
	assert_true(col <= 76);
	free(s);
}

/* ---- mail_reply_subject ---- */

static void
test_reply_subject(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "Mot de passe oublié", "Re: Mot de passe oublié" },
		{ "Re: Mot de passe", "Re: Mot de passe" },
		{ "RE: Mot de passe", "Re: Mot de passe" },
		{ "re: Mot de passe", "Re: Mot de passe" },
		{ "RE : Mot de passe", "Re: Mot de passe" },
		{ "RE\xc2\xa0: Mot de passe", "Re: Mot de passe" },
		{ "RE\xe2\x80\xaf: Mot de passe", "Re: Mot de passe" },
		{ "Réf. : dossier 12", "Re: dossier 12" },
		{ "RÉF : dossier 12", "Re: dossier 12" },
		{ "Ref: dossier 12", "Re: dossier 12" },
		{ "AW: Frage", "Re: Frage" },
		{ "SV: Fråga", "Re: Fråga" },
		{ "TR: Tr: Fwd: Fw: WG: document", "Re: document" },
		{ "RE[2]: suite", "Re: suite" },
		{ "Re: RE : Re: re: TR : question", "Re: question" },
		{ "  Re:Re:   collé", "Re: collé" },
		{ "Fwd: ", "Re: Votre demande" },
		{ "", "Re: Votre demande" },
		{ "   ", "Re: Votre demande" },
		{ "Re:", "Re: Votre demande" },
		{ "Réponse attendue", "Re: Réponse attendue" },
		{ "Retard de paiement", "Re: Retard de paiement" },
		{ "Tr\xc3\xa8s urgent", "Re: Tr\xc3\xa8s urgent" },
		{ "Ref 12: numéro", "Re: Ref 12: numéro" },
		{ "Question: Re: inside", "Re: Question: Re: inside" },
		{ "Bonjour\r\nBcc: x@y", "Re: Bonjour Bcc: x@y" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = mail_reply_subject(cases[i].in, "Votre demande");
		if (strcmp(s, cases[i].out) != 0)
			fail_msg("\"%s\": got \"%s\", expected \"%s\"", cases[i].in, s, cases[i].out);
		free(s);
	}
	char *s = mail_reply_subject(NULL, "Votre demande");
	assert_string_equal(s, "Re: Votre demande");
	free(s);
}

/* ---- mail_new_message_id ---- */

static int
compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_message_id(void **state)
{
	(void)state;
	enum { N = 2000 };
	char *ids[N];
	for (size_t i = 0; i < N; i++) {
		ids[i] = mail_new_message_id("ocapiat.test");
		const char *at = strrchr(ids[i], '@');
		assert_non_null(at);
		assert_string_equal(at, "@ocapiat.test");
		const char *dot = strchr(ids[i], '.');
		assert_true(dot != NULL && dot < at);
		/* 32 base32 characters: 160 random bits. */
		assert_int_equal(at - dot - 1, 32);
		for (const char *p = ids[i]; p < at; p++)
			assert_true(isalnum((unsigned char)*p) || *p == '.');
	}
	qsort(ids, N, sizeof(ids[0]), compare_str);
	for (size_t i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	for (size_t i = 0; i < N; i++)
		free(ids[i]);
	/* A domain that cannot be a msg-id's right side is not copied. */
	char *id = mail_new_message_id("bad domain>\r\n");
	assert_non_null(strstr(id, "@dialogd.invalid"));
	free(id);
	id = mail_new_message_id(NULL);
	assert_non_null(strstr(id, "@dialogd.invalid"));
	free(id);
}

/* ---- addresses ---- */

static void
test_address_split(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ret;
		const char *name;
		const char *address;
	} cases[] = {
		{ "jean@example.fr", 0, NULL, "jean@example.fr" },
		{ "  jean@example.fr  ", 0, NULL, "jean@example.fr" },
		{ "<jean@example.fr>", 0, NULL, "jean@example.fr" },
		{ "Jean Dupont <jean@example.fr>", 0, "Jean Dupont", "jean@example.fr" },
		{ "\"Dupont, Jean\" <jean@example.fr>", 0, "Dupont, Jean", "jean@example.fr" },
		{ "\"Jean <JD> \\\"D\\\"\" <jean@example.fr>", 0, "Jean <JD> \"D\"", "jean@example.fr" },
		{ "Hélène <h.lefevre+support@sub.example.fr>", 0, "Hélène", "h.lefevre+support@sub.example.fr" },
		{ "jean", -1, NULL, NULL },
		{ "Jean <jean>", -1, NULL, NULL },
		{ "jean dupont@example.fr", -1, NULL, NULL },
		{ "Jean <jean @example.fr>", -1, NULL, NULL },
		{ "Jean <jean@example.fr", -1, NULL, NULL },
		{ "Jean <je<an@example.fr>", -1, NULL, NULL },
		{ "Jean <jean@exa>mple.fr>", -1, NULL, NULL },
		{ "jean@example.fr\r\nBcc: x@y", -1, NULL, NULL },
		{ "jean\x01@example.fr", -1, NULL, NULL },
		{ "@example.fr", -1, NULL, NULL },
		{ "jean@", -1, NULL, NULL },
		{ "", -1, NULL, NULL },
		{ "<>", -1, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = (char *)"unset", *address = (char *)"unset";
		int ret = mail_address_split(cases[i].in, &name, &address);
		if (ret != cases[i].ret)
			fail_msg("\"%s\": returned %d", cases[i].in, ret);
		if (cases[i].name == NULL)
			assert_null(name);
		else
			assert_string_equal(name, cases[i].name);
		if (cases[i].address == NULL)
			assert_null(address);
		else
			assert_string_equal(address, cases[i].address);
		free(name);
		free(address);
	}
	char *name, *address;
	assert_int_equal(mail_address_split(NULL, &name, &address), -1);

	char *d = mail_address_domain("Jean.Dupont@Example.FR");
	assert_string_equal(d, "example.fr");
	free(d);
	assert_null(mail_address_domain("jean"));
	assert_null(mail_address_domain("jean@"));
	assert_null(mail_address_domain(NULL));
	assert_null(mail_address_domain("jean@exa mple.fr"));
}

/* ---- IMAP modified UTF-7 ---- */

static void
test_imap_utf7(void **state)
{
	(void)state;
	static const struct {
		const char *utf8;
		const char *mutf7;
	} cases[] = {
		{ "INBOX", "INBOX" },
		{ "Traités", "Trait&AOk-s" },
		{ "&", "&-" },
		{ "A&B", "A&-B" },
		{ "Éléments envoyés", "&AMk-l&AOk-ments envoy&AOk-s" },
		{ "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		{ "été", "&AOk-t&AOk-" },
		{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
		{ "a\xf0\x9f\x98\x80\xc3\xa9z", "a&2D3eAADp-z" },
		{ "Dossiers/Réclamations & litiges", "Dossiers/R&AOk-clamations &- litiges" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = imap_utf7_encode(cases[i].utf8);
		if (strcmp(s, cases[i].mutf7) != 0)
			fail_msg("encode \"%s\": got \"%s\", expected \"%s\"", cases[i].utf8, s, cases[i].mutf7);
		free(s);
		s = imap_utf7_decode(cases[i].mutf7);
		assert_non_null(s);
		assert_string_equal(s, cases[i].utf8);
		free(s);
	}
	static const char *const malformed[] = {
		"&AOk",         /* unterminated */
		"&AO!-",        /* not base64 */
		"&2D0-",        /* lone high surrogate */
		"&3gA-",        /* lone low surrogate */
		"&AEE-",        /* "A" encoded: must be written as itself */
		"&AOl-",        /* non-zero padding bits */
		"Trait\xc3\xa9s", /* raw 8-bit */
		"&AOk/-",       /* '/' is ',' in modified base64 */
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		char *s = imap_utf7_decode(malformed[i]);
		if (s != NULL)
			fail_msg("decode \"%s\" accepted as \"%s\"", malformed[i], s);
	}
	/* Round trip of every BMP character class we may meet in a folder name. */
	char *s = imap_utf7_encode("a\x01" "b");
	assert_string_equal(s, "a&AAE-b");
	char *back = imap_utf7_decode(s);
	assert_string_equal(back, "a\x01" "b");
	free(back);
	free(s);
}

/* Our own Message-IDs in a delivery report: found wherever the returned mail names them,
 * not those of other domains, nor a look-alike in a longer domain. */
static void
test_own_message_ids(void **state)
{
	(void)state;
	char *mine = mail_new_message_id("ocapiat.test");
	char *raw = xasprintf("In-Reply-To: <%s>\r\nReferences: <a.b@ocapiat.test.evil.example> <x1@other.example>\r\n\r\n"
			      "Original-Message-ID: <%s>\r\nMessage-ID: <12ab.cdef@OCAPIAT.TEST>\r\n"
			      "Message-ID: <nodot@ocapiat.test> <%s>\r\n",
			      mine, mine, mine);
	char *ids[4];
	size_t n = mail_own_message_ids(raw, strlen(raw), "ocapiat.test", ids, 4);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], mine);  /* once, although named three times */
	assert_string_equal(ids[1], "12ab.cdef@ocapiat.test");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	/* At most max; none without a domain. */
	assert_int_equal(mail_own_message_ids(raw, strlen(raw), "ocapiat.test", ids, 1), 1);
	free(ids[0]);
	assert_int_equal(mail_own_message_ids(raw, strlen(raw), "", ids, 4), 0);
	assert_int_equal(mail_own_message_ids("@ocapiat.test", 13, "ocapiat.test", ids, 4), 0);
	free(raw);
	free(mine);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_basic),
		cmocka_unit_test(test_compose_header_injection),
		cmocka_unit_test(test_compose_encoded_subject),
		cmocka_unit_test(test_compose_display_names),
		cmocka_unit_test(test_compose_references_folded),
		cmocka_unit_test(test_compose_body_qp),
		cmocka_unit_test(test_encode_header),
		cmocka_unit_test(test_reply_subject),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_own_message_ids),
		cmocka_unit_test(test_address_split),
		cmocka_unit_test(test_imap_utf7),
	};
	return cmocka_run_group_tests_name("mail_compose", tests, NULL, NULL);
}
