/* Tests of mail_policy: each rule fires, stays silent when switched off, and a normal mail
 * passes; the ServiceNow and Outlook cases; header names in any case; robot Return-Paths,
 * list software, spam verdicts and the subject markers of intents/autoreply.tsv, each
 * with mails of people that look alike and must still be answered. Mails are built by
 * hand (struct parsed_mail), independent of mail_parse. */
#include "autoconf.h"
#include "testutil.h"
#include "formats/mail_markers.h"
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
	assert_true(p.list_senders);
	assert_true(p.autoreply_markers);
	assert_true(p.spam_verdicts);
	assert_null(p.markers);
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

/* A mail without a usable sender is no rule's business: the channel gives it to a person
 * (nobody to acknowledge to). Once the policy refused it as "no sender address", and the
 * channel dropped it: a person never saw it. */
static void
test_no_sender(void **state)
{
	(void)state;
	struct mail_policy p = default_policy();
	struct test_mail t;
	tm_init(&t);
	static const char *const unusable[] = { "", "jean", "jean dupont@example.fr", "@example.fr",
						"Jean <jean@example.fr>", "jean@example.fr\r\nBcc: x@y" };
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		t.m.from_address = (char *)unusable[i];
		struct mail_policy_verdict v;
		mail_policy_check(&p, &t.m, &v);
		if (v.action != MAIL_POLICY_REPLY)
			fail_msg("From \"%s\": %s", unusable[i], v.reason);
	}
	t.m.from_address = NULL;
	t.m.return_path = NULL;
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
	assert_string_equal(mail_policy_refusal(&p, &t.m), "Auto-Submitted: auto-generated [rules] auto_submitted");
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
	assert_string_equal(mail_policy_refusal(&p, &t.m), "X-Auto-Response-Suppress [rules] auto_response_suppress");
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
	assert_string_equal(mail_policy_refusal(&p, &t.m), "sender is a no-reply address [rules] robot_senders");
}

/* ---- the rules that guess: a person sees what they stop ---- */

static void
expect_verdict(const struct mail_policy *p, const struct parsed_mail *m, enum mail_policy_action action,
	       const char *rule, const char *what)
{
	struct mail_policy_verdict v;
	mail_policy_check(p, m, &v);
	if (v.action != action)
		fail_msg("%s: action %d (%s), expected %d", what, (int)v.action, v.reason ? v.reason : "reply", (int)action);
	if (action == MAIL_POLICY_REPLY) {
		assert_null(v.rule);
		assert_null(v.reason);
		return;
	}
	if (v.rule == NULL || strcmp(v.rule, rule) != 0)
		fail_msg("%s: rule %s, expected %s", what, v.rule ? v.rule : "(none)", rule);
	assert_non_null(v.reason);
	/* The text logged and shown names the rule's key. */
	char *text = xasprintf("%s [rules] %s", v.reason, v.rule);
	assert_string_equal(mail_policy_refusal(p, m), text);
	free(text);
}

/* The rules known before are certain: ignored, as they were. */
static void
test_certain_rules_ignore(void **state)
{
	(void)state;
	struct test_mail t;
	tm_init(&t);
	tm_header(&t, "Auto-Submitted", "auto-replied");
	struct mail_policy p = default_policy();
	expect_verdict(&p, &t.m, MAIL_POLICY_IGNORE, "auto_submitted", "Auto-Submitted");
	tm_init(&t);
	t.m.from_address = (char *)"MAILER-DAEMON@mx.example.fr";
	expect_verdict(&p, &t.m, MAIL_POLICY_IGNORE, "robot_senders", "From MAILER-DAEMON");
	tm_init(&t);
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "a person's mail");
}

static void
test_return_path_robots(void **state)
{
	(void)state;
	static const char *const robots[] = {
		"MAILER-DAEMON@mx.example.fr", "postmaster@example.fr", "bounces@lists.example.org",
		"noreply@news.example.com", "no-reply@example.fr", "bounce-1234-jean=example.fr@mailer.example.com",
		"news+bounce-42-jean=example.fr@lists.example.org", "list+bounces=jean=example.fr@lists.example.org",
		"abc123@bounce.example.net", "x7.y@bounces.mailer.example.com", "q@bounce-eu.example.com",
		"q@em.bounce42.example.com",
	};
	for (size_t i = 0; i < sizeof(robots) / sizeof(robots[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.return_path = (char *)robots[i];
		struct mail_policy p = default_policy();
		expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "robot_senders", robots[i]);
		p.robot_senders = false;
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, robots[i]);
	}
	/* People's envelopes: BATV and SRS tags, forwarders, names that only look alike. */
	static const char *const people[] = {
		"jean.dupont@example.fr", "prvs=0123abcd=jean.dupont@example.fr",
		"SRS0=abcd=EF=example.fr=jean.dupont@forwarder.example.org", "bouncer@example.fr",
		"marie@bouncycastle.example.org", "paul@rebounce.example.fr", "jean+factures@example.fr",
		"contact@bounceback-formation.example.fr",
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.return_path = (char *)people[i];
		struct mail_policy p = default_policy();
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, people[i]);
	}
}

static void
set_sender(struct test_mail *t, const char *a)
{
	t->m.sender_address = (char *)a;
}

static void
set_return_path(struct test_mail *t, const char *a)
{
	t->m.return_path = (char *)a;
}

static void
set_from(struct test_mail *t, const char *a)
{
	t->m.from_address = (char *)a;
}

static void
test_list_senders(void **state)
{
	(void)state;
	static const struct {
		void (*set)(struct test_mail *t, const char *a);
		const char *address;
		bool list;
	} cases[] = {
		{ set_sender, "owner-rh-agri@listes.example.fr", true },       /* LISTSERV, Majordomo */
		{ set_sender, "rh-agri-owner@listes.example.fr", true },
		{ set_sender, "rh-agri-request@listes.example.fr", true },
		{ set_sender, "rh-agri-bounces@listes.example.fr", true },     /* Mailman 2 */
		{ set_return_path, "neko-admin@example.org", true },             /* fml */
		{ set_return_path, "owner-formation@listserv.example.edu", true },
		{ set_from, "LISTSERV@listserv.example.edu", true },
		{ set_from, "Majordomo@lists.example.org", true },
		{ set_from, "owner-rh-agri@listes.example.fr", true },
		/* people: an HR admin mailbox writes questions; "owner" alone is a name */
		{ set_from, "rh-admin@entreprise.example.fr", false },
		{ set_from, "formation-request@entreprise.example.fr", false },
		{ set_sender, "owner@entreprise.example.fr", false },
		{ set_sender, "assistante.owner-x@entreprise.example.fr", false },
		{ set_sender, "-admin@entreprise.example.fr", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		cases[i].set(&t, cases[i].address);
		struct mail_policy p = default_policy();
		if (cases[i].list) {
			expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "list_senders", cases[i].address);
			p.list_senders = false;
		}
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, cases[i].address);
	}
}

/* List headers beyond RFC 2369/2919, as list software writes them. */
static void
test_list_software_headers(void **state)
{
	(void)state;
	static const char *const names[] = {
		"List-Post", "List-Owner", "List-Help", "List-Subscribe", "List-Archive", "X-BeenThere",
		"X-Mailman-Version", "Mailing-List", "X-Mailing-List", "X-ML-Name", "X-Listserver",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		tm_header(&t, names[i], "rh-agri");
		struct mail_policy p = default_policy();
		expect_verdict(&p, &t.m, MAIL_POLICY_IGNORE, "list_headers", names[i]);
		assert_contains(mail_policy_refusal(&p, &t.m), names[i]);
		p.list_headers = false;
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, names[i]);
	}
}

static void
test_spam_verdicts(void **state)
{
	(void)state;
	static const struct {
		const char *header, *value;
		bool spam;
	} cases[] = {
		{ "X-Spam-Flag", "YES", true },
		{ "X-Spam-Flag", " yes", true },
		{ "X-Spam-Status", "Yes, score=12.3 required=5.0 tests=BAYES_99,URIBL_BLACK autolearn=spam", true },
		{ "X-Spam", "Yes", true },
		{ "X-Rspamd-Action", "reject", true },
		{ "X-Rspamd-Action", "add header", true },
		{ "X-Rspamd-Action", "Rewrite Subject", true },
		{ "X-Spam-Flag", "NO", false },
		{ "X-Spam-Status", "No, score=-0.1 required=5.0 tests=DKIM_SIGNED autolearn=ham", false },
		{ "X-Spam", "No", false },
		{ "X-Rspamd-Action", "no action", false },
		{ "X-Rspamd-Action", "greylist", false },
		{ "X-Rspamd-Action", "soft reject", false },
		{ "X-Spam-Level", "***", false },
		{ "X-Spam-Score", "12.3", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		tm_header(&t, cases[i].header, cases[i].value);
		struct mail_policy p = default_policy();
		char *what = xasprintf("%s: %s", cases[i].header, cases[i].value);
		if (cases[i].spam) {
			expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "spam_verdicts", what);
			assert_contains(mail_policy_refusal(&p, &t.m), "spam");
			p.spam_verdicts = false;
		}
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, what);
		free(what);
	}
	/* The verdict our MTA put on top counts; a "Yes" the sender wrote below it does not
	 * (and a "No" below ours changes nothing either). */
	struct test_mail t;
	tm_init(&t);
	tm_header(&t, "X-Spam-Flag", "NO");
	tm_header(&t, "X-Spam-Flag", "YES");
	struct mail_policy p = default_policy();
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "ours NO above theirs YES");
	tm_init(&t);
	tm_header(&t, "X-Spam-Flag", "YES");
	tm_header(&t, "X-Spam-Flag", "NO");
	expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "spam_verdicts", "ours YES above theirs NO");
}

static struct mail_markers *
load_markers(void)
{
	char *err = NULL;
	struct mail_markers *mm = mail_markers_load(DIALOGD_SOURCE_DIR "/intents/autoreply.tsv", &err);
	if (mm == NULL)
		fail_msg("intents/autoreply.tsv: %s", err);
	return mm;
}

/* Subjects of auto-replies, receipts and notices in the shapes they really take (issue
 * 14's list, Outlook's localisations, Lotus Notes), and people's subjects close to them. */
static void
test_marker_subjects(void **state)
{
	(void)state;
	static const char *const automated[] = {
		"Réponse automatique : Votre demande",
		"Réponse automatique\xC2\xA0: Votre demande",      /* NBSP before the colon (Outlook) */
		"RÉPONSE AUTOMATIQUE: Re: Votre demande",
		"Reponse automatique : Votre demande",
		"Absent(e) du bureau",
		"Absente du bureau jusqu'au 3 mai",
		"Absent du bureau : Re: Mot de passe",
		"Automatische Antwort: Ihre Anfrage",
		"Automatyczna odpowiedź: Pytanie",
		"AUTO: Jean Dupont is out of the office (returning 05/03/2024)",
		"Auto reply: Votre demande",
		"Auto-reply: Votre demande",
		"Out of Office: Votre demande",
		"Out of Office AutoReply: Votre demande",
		"Automatic reply: Votre demande",
		"תשובה אוטומטית: Votre demande",
		"自动回复：您的问题",                                  /* full-width colon */
		"Respuesta automática: Su solicitud",
		"Read: Votre demande",
		"Lu : Votre demande",
		"Lu\xC2\xA0: Votre demande",
		"Gelesen: Ihre Anfrage",
		"Non remis : Votre demande",
		"Undeliverable: Votre demande",
		"Undelivered Mail Returned to Sender",
		"Please confirm your message",
	};
	struct mail_markers *mm = load_markers();
	struct mail_policy p = default_policy();
	p.markers = mm;
	for (size_t i = 0; i < sizeof(automated) / sizeof(automated[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.subject = (char *)automated[i];
		expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "autoreply_markers", automated[i]);
		/* The reason names the marker's line, for the operator who would remove it. */
		assert_contains(mail_policy_refusal(&p, &t.m), "autoreply.tsv:");
	}
	static const char *const people[] = {
		"Réponse à votre demande",
		"Re: Réponse automatique ?",
		"TR: Réponse automatique : Votre demande",      /* a person forwarding one to ask about it */
		"RE: Automatic reply: Votre demande",
		"Question sur la réponse automatique reçue",
		"Lu et approuvé : convention de formation",
		"Lucie : question sur mon dossier",
		"Auto-entrepreneur : facture",
		"Absences du bureau et contrat d'apprentissage",
		"Read the FAQ?",
		"Remis : dossier complet",
		"Mot de passe oublié",
		"",
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct test_mail t;
		tm_init(&t);
		t.m.subject = (char *)people[i];
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, people[i]);
	}
	/* Switched off, or no markers loaded: nothing. */
	struct test_mail t;
	tm_init(&t);
	t.m.subject = (char *)"Réponse automatique : Votre demande";
	p.autoreply_markers = false;
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "rule off");
	p.autoreply_markers = true;
	p.markers = NULL;
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "no markers");
	mail_markers_free(&mm);
	assert_null(mm);
}

/* Auto-replies whose subject is the original one: only the body tells. */
static void
test_marker_bodies(void **state)
{
	(void)state;
	struct mail_markers *mm = load_markers();
	struct mail_policy p = default_policy();
	p.markers = mm;
	struct test_mail t;
	tm_init(&t);
	t.m.subject = (char *)"Re: Votre demande";
	t.m.body = (char *)"Bonjour,\n\nCeci est une réponse automatique : je suis absente jusqu'au 3 mai.\n";
	expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "autoreply_markers", "French vacation body");
	t.m.body = (char *)"I am out of the office until Monday\nwith limited access to e-mail.\n";
	expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "autoreply_markers", "English vacation body");
	/* A person who mentions an absence. */
	t.m.body = (char *)"Bonjour, je serai absent du bureau demain : pouvez-vous me rappeler ? Mon mot de passe ne marche plus.";
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "a person's absence");
	/* A person who forwards an automatic notice or quotes an auto-reply to ask about it. */
	static const char *const forwards[] = {
		"Bonjour, j'ai reçu ce message, que dois-je faire pour mon dossier ?\n\n"
		"-----Message d'origine-----\nDe : noreply@ocapiat.example\nEnvoyé : lundi 6 mars 2023 10:00\n"
		"À : jean.dupont@example.fr\nObjet : Votre dossier\n\n"
		"Ceci est un message automatique, merci de ne pas y répondre.\n",
		"Bonjour, votre collègue m'a répondu ceci, à qui m'adresser ?\n\n"
		"Le lun. 6 mars 2023 à 10:12, Marie Martin <marie@example.fr> a écrit :\n"
		"> Ceci est une réponse automatique : je suis absente jusqu'au 3 mai.\n",
	};
	for (size_t i = 0; i < sizeof(forwards) / sizeof(forwards[0]); i++) {
		t.m.body = (char *)forwards[i];
		expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, forwards[i]);
	}
	/* Only the start of a long body is read: a person quoting an auto-reply far below. */
	struct strbuf b = { 0 };
	strbuf_adds(&b, "Bonjour, j'ai reçu ceci en réponse, que dois-je faire ?\n");
	for (int i = 0; i < 100; i++)
		strbuf_adds(&b, "Mon dossier est en attente depuis des semaines, merci de m'aider.\n");
	strbuf_adds(&b, "> Ceci est une réponse automatique.\n");
	t.m.body = b.data;
	expect_verdict(&p, &t.m, MAIL_POLICY_REPLY, NULL, "a quote far down");
	strbuf_free(&b);
	mail_markers_free(&mm);
}

/* Every bad line is reported with its file and line; a good file loads. */
static void
test_marker_file_errors(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	write_file(dir, "bad.tsv",
		   "# comment\n"
		   "autoreply\tsubject\tRéponse automatique :*\tOutlook fr\n"
		   "vacation\tsubject\tx*\tsomewhere\n"
		   "autoreply\theader\tx*\tsomewhere\n"
		   "autoreply\tsubject\t**\tsomewhere\n"
		   "autoreply\tsubject\tx*\t \n"
		   "autoreply\tsubject\tonly three fields\n"
		   "\n");
	char *path = xasprintf("%s/bad.tsv", dir);
	char *err = NULL;
	assert_null(mail_markers_load(path, &err));
	assert_non_null(err);
	for (int line = 3; line <= 7; line++) {
		char *where = xasprintf("%s:%d: ", path, line);
		assert_contains(err, where);
		free(where);
	}
	assert_lacks(err, ":2: ");
	assert_contains(err, "unknown kind");
	assert_contains(err, "where must be subject or body");
	assert_contains(err, "matches everything");
	assert_contains(err, "source is missing");
	free(err);
	free(path);
	write_file(dir, "good.tsv", "autoreply\tsubject\tAbwesend:*\tGMX\r\nreceipt\tbody\t*was read on*\tsomewhere\r\n");
	path = xasprintf("%s/good.tsv", dir);
	struct mail_markers *mm = mail_markers_load(path, &err);
	assert_non_null(mm);
	assert_int_equal(mail_markers_count(mm), 2);
	assert_non_null(mail_markers_match(mm, "ABWESEND : bis Montag", NULL));
	assert_non_null(mail_markers_match(mm, NULL, "Your message was read on Monday."));
	assert_null(mail_markers_match(mm, "Abwesenheit", "nothing"));
	mail_markers_free(&mm);
	free(path);
	/* A missing file is an error too. */
	assert_null(mail_markers_load("/nonexistent/autoreply.tsv", &err));
	assert_contains(err, "/nonexistent/autoreply.tsv");
	free(err);
	rm_rf(dir);
	free(dir);
	/* The installed file loads, every line with its source. */
	mm = load_markers();
	assert_true(mail_markers_count(mm) >= 50);
	mail_markers_free(&mm);
}

/* The certain rules come first: a bounce is ignored, not escalated, even when its
 * subject and Return-Path also match the guessing rules. */
static void
test_rule_order(void **state)
{
	(void)state;
	struct mail_markers *mm = load_markers();
	struct mail_policy p = default_policy();
	p.markers = mm;
	struct test_mail t;
	tm_init(&t);
	t.m.return_path = (char *)"";
	t.m.subject = (char *)"Undelivered Mail Returned to Sender";
	expect_verdict(&p, &t.m, MAIL_POLICY_IGNORE, "empty_return_path", "bounce");
	p.empty_return_path = false;
	expect_verdict(&p, &t.m, MAIL_POLICY_ESCALATE, "autoreply_markers", "bounce, rule off");
	mail_markers_free(&mm);
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
		cmocka_unit_test(test_certain_rules_ignore),
		cmocka_unit_test(test_return_path_robots),
		cmocka_unit_test(test_list_senders),
		cmocka_unit_test(test_list_software_headers),
		cmocka_unit_test(test_spam_verdicts),
		cmocka_unit_test(test_marker_subjects),
		cmocka_unit_test(test_marker_bodies),
		cmocka_unit_test(test_marker_file_errors),
		cmocka_unit_test(test_rule_order),
	};
	return cmocka_run_group_tests_name("mail_policy", tests, NULL, NULL);
}
