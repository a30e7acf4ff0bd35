/* Tests of mail_policy: each rule fires, stays silent when switched off, and a normal mail
 * passes; the ServiceNow and Outlook cases; header names in any case. Mails are built by
 * hand (struct parsed_mail), independent of mail_parse. */
#include "autoconf.h"
#include "testutil.h"
#include "formats/mail_policy.h"

#include <stddef.h>

#define OWN_ADDRESS "dialoguer@ocapiat.test"
#define OWN_DOMAIN "ocapiat.test"

/* A mail written by a person, to which we may reply; fields point to literals. */
struct test_mail {
	struct parsed_mail m;
	struct mail_header h[16];
};

static void
tm_init(struct test_mail *t)
{
	memset(t, 0, sizeof(*t));
	t->m.headers = t->h;
	t->m.message_id = (char *)"CAF3xyz=Q@mail.gmail.com";
	t->m.from_address = (char *)"jean.dupont@example.fr";
	t->m.from_name = (char *)"Jean Dupont";
	t->m.return_path = (char *)"jean.dupont@example.fr";
	t->m.subject = (char *)"Mot de passe oublié";
	t->m.body = (char *)"Bonjour, j'ai oublié mon mot de passe.";
	static char *to[] = { (char *)OWN_ADDRESS };
	t->m.to_addresses = to;
	t->m.to_count = 1;
	/* The headers a parser would also have listed. */
	t->h[0] = (struct mail_header){ (char *)"From", (char *)"Jean Dupont <jean.dupont@example.fr>" };
	t->h[1] = (struct mail_header){ (char *)"To", (char *)OWN_ADDRESS };
	t->h[2] = (struct mail_header){ (char *)"Subject", (char *)"Mot de passe oubli=?UTF-8?Q?=C3=A9?=" };
	t->h[3] = (struct mail_header){ (char *)"Return-Path", (char *)"<jean.dupont@example.fr>" };
	t->m.header_count = 4;
}

static void
tm_header(struct test_mail *t, const char *name, const char *value)
{
	assert_true(t->m.header_count < sizeof(t->h) / sizeof(t->h[0]));
	t->h[t->m.header_count++] = (struct mail_header){ (char *)name, (char *)value };
}

static struct mail_policy
default_policy(void)
{
	struct mail_policy p;
	mail_policy_default(&p);
	p.own_address = OWN_ADDRESS;
	p.own_domain = OWN_DOMAIN;
	return p;
}

static void
test_defaults(void **state)
{
	(void)state;
	struct mail_policy p;
	memset(&p, 0xff, sizeof(p));
	mail_policy_default(&p);
	assert_null(p.own_address);
	assert_null(p.own_domain);
	assert_true(p.auto_submitted);
	assert_true(p.precedence);
	assert_true(p.list_headers);
	assert_true(p.autoreply_headers);
	assert_false(p.auto_response_suppress);
	assert_true(p.empty_return_path);
	assert_true(p.robot_senders);
	assert_true(p.reports);
	assert_true(p.own_mail);
}

static void
test_normal_mail_passes(void **state)
{
	(void)state;
	struct test_mail t;
	tm_init(&t);
	struct mail_policy p = default_policy();
	assert_null(mail_policy_refusal(&p, &t.m));
	/* Every switch on, including the one that is off by default. */
	p.auto_response_suppress = true;
	assert_null(mail_policy_refusal(&p, &t.m));
	/* Without our addresses configured. */
	p.own_address = NULL;
	p.own_domain = NULL;
	assert_null(mail_policy_refusal(&p, &t.m));
}

/* ---- one row per rule: the mail is normal except for what setup adds ---- */

static void
set_return_path_empty(struct test_mail *t)
{
	t->m.return_path = (char *)"";
}

static void
set_return_path_header_only(struct test_mail *t)
{
	t->m.return_path = NULL;
	t->h[3].value = (char *)"<>";
}

static void
set_is_report(struct test_mail *t)
{
	t->m.is_report = true;
}

static void
set_from_own(struct test_mail *t)
{
	t->m.from_address = (char *)"Dialoguer@OCAPIAT.test";
}

static void
set_reply_to_own(struct test_mail *t)
{
	t->m.reply_to_address = (char *)OWN_ADDRESS;
}

static void
set_message_id_own(struct test_mail *t)
{
	t->m.message_id = (char *)"6b0889.k3j2h@OCAPIAT.TEST";
}

static void
set_sender_robot(struct test_mail *t)
{
	t->m.sender_address = (char *)"bounces+123-abc@lists.example.org";
}

static void
set_reply_to_robot(struct test_mail *t)
{
	t->m.reply_to_address = (char *)"no-reply@example.fr";
}

struct rule_case {
	const char *header;             /* added header, or NULL */
	const char *value;
	void (*setup)(struct test_mail *t);
	size_t rule;                    /* offsetof the switch in struct mail_policy */
	const char *reason;             /* expected in the refusal */
};

#define RULE(f) offsetof(struct mail_policy, f)

static const struct rule_case rule_cases[] = {
	{ "Auto-Submitted", "auto-replied", NULL, RULE(auto_submitted), "Auto-Submitted: auto-replied" },
	{ "Auto-Submitted", "auto-replied (vacation)", NULL, RULE(auto_submitted), "Auto-Submitted: auto-replied" },
	{ "Auto-Submitted", "Auto-Generated", NULL, RULE(auto_submitted), "Auto-Submitted: auto-generated" },
	{ "Auto-Submitted", "auto-notified; owner-email=\"x@y\"", NULL, RULE(auto_submitted), "auto-notified" },
	{ "Auto-Submitted", "  AUTO-REPLIED  ", NULL, RULE(auto_submitted), "Auto-Submitted" },
	{ "Auto-Submitted", "yes", NULL, RULE(auto_submitted), "Auto-Submitted" },
	{ "Precedence", "bulk", NULL, RULE(precedence), "Precedence: bulk" },
	{ "Precedence", "List", NULL, RULE(precedence), "Precedence: list" },
	{ "Precedence", "junk", NULL, RULE(precedence), "Precedence: junk" },
	{ "Precedence", " auto_reply ", NULL, RULE(precedence), "Precedence: auto_reply" },
	{ "List-Id", "Adherents <adherents.lists.example.org>", NULL, RULE(list_headers), "List-Id" },
	{ "List-Unsubscribe", "<mailto:unsub@lists.example.org>", NULL, RULE(list_headers), "List-Unsubscribe" },
	{ "X-Autoreply", "yes", NULL, RULE(autoreply_headers), "X-Autoreply" },
	{ "X-Autoreply", "", NULL, RULE(autoreply_headers), "X-Autoreply" },
	{ "X-Autorespond", "Absent jusqu'au 3 mai", NULL, RULE(autoreply_headers), "X-Autorespond" },
	{ "X-Loop", "Dialoguer@Ocapiat.test", NULL, RULE(autoreply_headers), "X-Loop" },
	{ "X-Auto-Response-Suppress", "All", NULL, RULE(auto_response_suppress), "X-Auto-Response-Suppress" },
	{ "X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply", NULL, RULE(auto_response_suppress),
	  "X-Auto-Response-Suppress" },
	{ "X-Auto-Response-Suppress", "autoreply", NULL, RULE(auto_response_suppress), "X-Auto-Response-Suppress" },
	{ NULL, NULL, set_return_path_empty, RULE(empty_return_path), "Return-Path" },
	{ NULL, NULL, set_return_path_header_only, RULE(empty_return_path), "Return-Path" },
	{ NULL, NULL, set_is_report, RULE(reports), "report" },
	{ NULL, NULL, set_sender_robot, RULE(robot_senders), "no-reply" },
	{ NULL, NULL, set_reply_to_robot, RULE(robot_senders), "no-reply" },
	{ NULL, NULL, set_from_own, RULE(own_mail), "our own address" },
	{ NULL, NULL, set_reply_to_own, RULE(own_mail), "our own address" },
	{ NULL, NULL, set_message_id_own, RULE(own_mail), "our own domain" },
};

static void
test_each_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];
		struct test_mail t;
		tm_init(&t);
		if (c->header != NULL)
			tm_header(&t, c->header, c->value);
		if (c->setup != NULL)
			c->setup(&t);
		struct mail_policy p = default_policy();
		*(bool *)((char *)&p + c->rule) = true;
		const char *why = mail_policy_refusal(&p, &t.m);
		if (why == NULL)
			fail_msg("case %zu (%s: %s): accepted", i, c->header ? c->header : "field",
				 c->value ? c->value : "");
		if (strstr(why, c->reason) == NULL)
			fail_msg("case %zu: reason \"%s\", expected \"%s\"", i, why, c->reason);
		/* The same mail with that rule switched off. */
		*(bool *)((char *)&p + c->rule) = false;
		why = mail_policy_refusal(&p, &t.m);
		if (why != NULL)
			fail_msg("case %zu (%s: %s): refused with the rule off: %s", i, c->header ? c->header : "field",
				 c->value ? c->value : "", why);
	}
}

/* Header values that look like the rules but must not stop a reply. */
static void
test_not_automatic(void **state)
{
	(void)state;
	static const struct {
		const char *header;
		const char *value;
	} cases[] = {
		{ "Auto-Submitted", "no" },
		{ "Auto-Submitted", "No (written by a person)" },
		{ "Auto-Submitted", " NO ; reason=x" },
		{ "Precedence", "normal" },
		{ "Precedence", "first-class" },
		{ "Precedence", "bulky" },
		{ "X-Autoreply", "no" },
		{ "X-Autoreply", "NO" },
		{ "X-Loop", "someone-else@example.org" },
		{ "X-Auto-Response-Suppress", "All" },          /* Outlook on mail people write */
		{ "X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply" },
		{ "Return-Path", "<jean.dupont@example.fr>" },
		{ "X-Mailer", "Microsoft Outlook 16.0" },
		{ "List-Idx", "not a list header" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		tm_header(&t, cases[i].header, cases[i].value);
		struct mail_policy p = default_policy();
		const char *why = mail_policy_refusal(&p, &t.m);
		if (why != NULL)
			fail_msg("%s: %s refused: %s", cases[i].header, cases[i].value, why);
	}
	/* X-Loop naming us only counts when we know our address. */
	struct test_mail t;
	tm_init(&t);
	tm_header(&t, "X-Loop", OWN_ADDRESS);
	struct mail_policy p = default_policy();
	p.own_address = NULL;
	assert_null(mail_policy_refusal(&p, &t.m));
}

static void
test_robot_senders(void **state)
{
	(void)state;
	static const char *const robots[] = {
		"MAILER-DAEMON@mx.example.fr", "mailer-daemon@example.fr", "postmaster@example.fr",
		"Postmaster@Example.fr", "no-reply@example.fr", "noreply@example.fr", "NoReply@example.fr",
		"no_reply@example.fr", "donotreply@example.fr", "do-not-reply@example.fr",
		"DoNotReply@example.fr", "ne-pas-repondre@example.fr", "nepasrepondre@example.fr",
		"Ne_Pas_Repondre@example.fr", "bounce@example.fr", "bounces@example.fr", "mailer@example.fr",
		"noreply+abc123@example.fr", "no-reply.factures@example.fr", "alertes-noreply@example.fr",
		"bounces-1234-jean=example.fr@lists.example.org", "bounce.x7@mail.example.org",
	};
	for (size_t i = 0; i < sizeof(robots) / sizeof(robots[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.from_address = (char *)robots[i];
		struct mail_policy p = default_policy();
		const char *why = mail_policy_refusal(&p, &t.m);
		if (why == NULL || strstr(why, "no-reply") == NULL)
			fail_msg("%s: %s", robots[i], why ? why : "accepted");
		p.robot_senders = false;
		assert_null(mail_policy_refusal(&p, &t.m));
		/* As Sender, too. */
		tm_init(&t);
		t.m.sender_address = (char *)robots[i];
		p.robot_senders = true;
		if (mail_policy_refusal(&p, &t.m) == NULL)
			fail_msg("Sender %s accepted", robots[i]);
	}
	static const char *const people[] = {
		"bouncer@example.fr", "mailerjean@example.fr", "reply@example.fr", "marie.noreau@example.fr",
		"jean.postmaster-fan@example.fr", "daemon@example.fr", "contact@noreply-free.example.fr",
		"repondre@example.fr",
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.from_address = (char *)people[i];
		struct mail_policy p = default_policy();
		const char *why = mail_policy_refusal(&p, &t.m);
		if (why != NULL)
			fail_msg("%s refused: %s", people[i], why);
	}
}

static void
test_no_sender(void **state)
{
	(void)state;
	struct mail_policy p = default_policy();
	struct test_mail t;
	tm_init(&t);
	t.m.from_address = NULL;
	const char *why = mail_policy_refusal(&p, &t.m);
	assert_non_null(why);
	assert_string_equal(why, "no sender address");
	/* Not a rule that can be switched off. */
	p.auto_submitted = p.precedence = p.list_headers = p.autoreply_headers = false;
	p.empty_return_path = p.robot_senders = p.reports = p.own_mail = false;
	assert_string_equal(mail_policy_refusal(&p, &t.m), "no sender address");
	/* Unusable addresses are no better. */
	static const char *const unusable[] = { "", "jean", "jean dupont@example.fr", "@example.fr",
						"Jean <jean@example.fr>", "jean@example.fr\r\nBcc: x@y" };
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		t.m.from_address = (char *)unusable[i];
		why = mail_policy_refusal(&p, &t.m);
		if (why == NULL || strcmp(why, "no sender address") != 0)
			fail_msg("From \"%s\": %s", unusable[i], why ? why : "accepted");
	}
	/* A Reply-To is enough to answer. */
	p = default_policy();
	t.m.from_address = NULL;
	t.m.reply_to_address = (char *)"jean.dupont@example.fr";
	assert_null(mail_policy_refusal(&p, &t.m));
}

/* ServiceNow stamps Auto-Submitted: auto-generated on every mail its users write. */
static void
test_servicenow(void **state)
{
	(void)state;
	struct test_mail t;
	tm_init(&t);
	t.m.from_address = (char *)"marie.martin@entreprise.example";
	t.m.message_id = (char *)"SN-12345.ABCDEF@entreprise.service-now.com";
	tm_header(&t, "Auto-Submitted", "auto-generated");
	tm_header(&t, "X-ServiceNow-Generated", "true");
	struct mail_policy p = default_policy();
	assert_string_equal(mail_policy_refusal(&p, &t.m), "Auto-Submitted: auto-generated");
	p.auto_submitted = false;
	assert_null(mail_policy_refusal(&p, &t.m));
}

/* Outlook stamps X-Auto-Response-Suppress on mail people write. */
static void
test_outlook_suppress(void **state)
{
	(void)state;
	struct test_mail t;
	tm_init(&t);
	tm_header(&t, "X-MS-Has-Attach", "");
	tm_header(&t, "X-Auto-Response-Suppress", "All");
	tm_header(&t, "Thread-Index", "AdoAbCdEfGh");
	struct mail_policy p = default_policy();
	assert_null(mail_policy_refusal(&p, &t.m));
	p.auto_response_suppress = true;
	assert_string_equal(mail_policy_refusal(&p, &t.m), "X-Auto-Response-Suppress");
	/* Only All, AutoReply and OOF ask us to be quiet. */
	tm_init(&t);
	tm_header(&t, "X-Auto-Response-Suppress", "DR, RN, NRN");
	assert_null(mail_policy_refusal(&p, &t.m));
}

static void
test_header_name_case(void **state)
{
	(void)state;
	static const struct {
		const char *header;
		const char *value;
	} cases[] = {
		{ "AUTO-SUBMITTED", "auto-replied" },
		{ "auto-submitted", "auto-replied" },
		{ "precedence", "BULK" },
		{ "PRECEDENCE", "junk" },
		{ "list-id", "<x.lists.example.org>" },
		{ "LIST-UNSUBSCRIBE", "<https://example.org/u>" },
		{ "x-autoreply", "yes" },
		{ "X-AUTORESPOND", "1" },
		{ "x-loop", OWN_ADDRESS },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		tm_header(&t, cases[i].header, cases[i].value);
		struct mail_policy p = default_policy();
		if (mail_policy_refusal(&p, &t.m) == NULL)
			fail_msg("%s: %s accepted", cases[i].header, cases[i].value);
	}
	struct test_mail t;
	tm_init(&t);
	tm_header(&t, "auto-submitted", "No");
	struct mail_policy p = default_policy();
	assert_null(mail_policy_refusal(&p, &t.m));
	/* The first header of that name counts, as with mail_header_get(). */
	tm_header(&t, "Auto-Submitted", "auto-replied");
	assert_null(mail_policy_refusal(&p, &t.m));
	/* A header without a value (as a parser may leave it) is tolerated. */
	tm_init(&t);
	tm_header(&t, "List-Id", NULL);
	assert_non_null(mail_policy_refusal(&p, &t.m));
}

/* A typical bounce trips several rules; whichever is reported, it is refused. */
static void
test_bounce(void **state)
{
	(void)state;
	struct test_mail t;
	tm_init(&t);
	t.m.from_address = (char *)"MAILER-DAEMON@mx.example.fr";
	t.m.return_path = (char *)"";
	t.m.is_report = true;
	t.m.subject = (char *)"Undelivered Mail Returned to Sender";
	tm_header(&t, "Auto-Submitted", "auto-replied");
	struct mail_policy p = default_policy();
	assert_non_null(mail_policy_refusal(&p, &t.m));
	p.auto_submitted = false;
	p.empty_return_path = false;
	p.reports = false;
	assert_string_equal(mail_policy_refusal(&p, &t.m), "sender is a no-reply address");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_normal_mail_passes),
		cmocka_unit_test(test_each_rule),
		cmocka_unit_test(test_not_automatic),
		cmocka_unit_test(test_robot_senders),
		cmocka_unit_test(test_no_sender),
		cmocka_unit_test(test_servicenow),
		cmocka_unit_test(test_outlook_suppress),
		cmocka_unit_test(test_header_name_case),
		cmocka_unit_test(test_bounce),
	};
	return cmocka_run_group_tests_name("mail_policy", tests, NULL, NULL);
}
