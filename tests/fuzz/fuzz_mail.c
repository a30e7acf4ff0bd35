/* Fuzz target: any bytes as a raw e-mail, through what dialogd does with one before the
 * store: mail_key, mail_parse (libetpan MIME, charsets, HTML), mail_question_text, the
 * dossier number finder and the no-reply rules (with intents/autoreply.tsv's markers). Must never crash, leak or read out of bounds; every string out
 * must be valid UTF-8 without CR.
 * Build: ./configure --enable-fuzzers CC=clang CFLAGS=-fsanitize=fuzzer-no-link,address,undefined
 *        && make tests/fuzz/fuzz_mail
 * Run:   tests/fuzz/fuzz_mail -max_total_time=300 $(srcdir)/tests/data/mail */
#include "autoconf.h"
#include "formats/dossier_number.h"
#include "mail/mail_channel.h"
#include "formats/mail_parse.h"
#include "formats/mail_policy.h"
#include "directory/request_fields.h"
#include "core/text.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once and kept for the whole run, as dialogd keeps them. */
static struct mail_markers *markers;

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	char *err = NULL;
	if (text_validate(s, strlen(s), &err) < 0 || strchr(s, '\r') != NULL)
		abort();  /* the parser promised valid UTF-8 without CR */
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	free(mail_key(raw, size));
	struct parsed_mail mail;
	char *err = NULL;
	if (mail_parse(raw, size, &mail, &err) == 0) {
		check_text(mail.subject);
		check_text(mail.body);
		check_text(mail.from_name);
		char *q = mail_question_text(&mail);
		check_text(q);
		char *numbers[4];
		size_t n = dossier_numbers(q, numbers, 4);
		for (size_t i = 0; i < n; i++)
			free(numbers[i]);
		/* What the account actions read in the writer's words. */
		char siret[15], code[9];
		free(field_email(q));
		free(field_identifier(q, false));
		free(field_identifier(q, true));
		(void)field_siret(q, siret);
		(void)field_code(q, code);
		free(q);
		struct mail_policy policy;
		mail_policy_default(&policy);
		policy.own_address = "dialoguer@ocapiat.test";
		policy.own_domain = "ocapiat.test";
		if (markers == NULL) {
			char *merr = NULL;
			markers = mail_markers_load(DIALOGD_SOURCE_DIR "/intents/autoreply.tsv", &merr);
			if (markers == NULL)
				abort();  /* the installed markers must load */
		}
		policy.markers = markers;
		(void)mail_policy_refusal(&policy, &mail);
	}
	free(err);
	parsed_mail_clear(&mail);
	return 0;
}
