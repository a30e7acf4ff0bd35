/* dialogctl — the command-line companion of dialogd, for operators and for measuring
 * the assistant: ask, classify, eval, check, chat, and a person's reply in a thread. Same engine as the daemon.
 * `classify` prints one JSON object per input line: a contract used by tools. */
#include "autoconf.h"
#include "core/config.h"
#include "chat/chat_session.h"
#include "ctl_eval.h"
#include "ctl_reply.h"
#include "ctl_correspondant.h"
#include "ctl_backup.h"
#include "ctl_examples.h"
#include "ctl_store.h"
#include "directory/directory.h"
#include "directory/directory_import.h"
#include "mail/setup.h"
#include "store/store.h"
#include "engine/dialog.h"
#include "engine/engine.h"
#include "engine/faq.h"
#include "engine/intent.h"
#include "engine/lexicon.h"
#include "mail/mail_channel.h"
#include "formats/mail_parse.h"
#include "engine/template.h"
#include "core/text.h"
#include "core/util.h"

#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A classify line longer than this gets an error object, not an answer. */
#define CLASSIFY_MAX_LINE (4u * 1024 * 1024)

struct options {
	const char *config_file;
	const char *data_dir;
	struct dialog_settings settings;
};

static void
usage(FILE *out)
{
	fputs("Usage: dialogctl [-c FILE] [--data DIR] [--min-confidence X] [--min-margin X] COMMAND\n"
	      "\n"
	      "Commands:\n"
	      "  ask [--chat] TEXT   show intent, confidence, audience, runner-up and the reply\n"
	      "  classify            one message per stdin line (\\n = line break) -> one JSON line each\n"
	      "  classify --eml FILE...  each raw e-mail read as dialogd reads it -> one JSON line each\n"
	      "  eval FILE.tsv       measure on labelled messages (text, intent, audience)\n"
	      "      [--min-precision P] [--min-coverage P] [--min-unknown-recall P]\n"
	      "      [--min-audience P] [--show-errors]     (P in percent; exit 1 below)\n"
	      "  check               validate intents/, faq-data/, templates/ (and -c FILE with its secret files)\n"
	      "  chat                an interactive conversation with the assistant\n"
	      "  config [--man]      print every configuration key with its default (--man: as dialogd.conf(5))\n"
	      "  threads [--json] [--state answered|escalated|ignored|open]   threads, newest first\n"
	      "  thread ID           one thread with its messages\n"
	      "  reply ID [--as NAME] [--take-over]   answer in a thread as a person (the text on stdin)\n"
	      "  outbox [--state pending|sent|failed]   outbound mail and its delivery\n"
	      "  correspondant add EMAIL [--name NAME] [--admin] [--password-stdin]   a console account (invited by mail)\n"
	      "  correspondant list | invite|password|disable|enable|reset-2fa EMAIL   the console's accounts\n"
	      "  status              the mailbox and SMTP connections, threads and outbox in figures\n"
	      "  import companies|accounts|dossiers FILE.csv   fill the directory (all or nothing)\n"
	      "  audit [--json]      the account actions, newest first\n"
	      "  examples export [FILE]    the messages marked with their intent, as dev.tsv\n"
	      "  examples mark THREAD[:N] INTENT [AUDIENCE] --as NAME   mark one\n"
	      "  backup FILE               a copy of the store in a new FILE, dialogd running or not\n"
	      "  restore FILE              put a backup back (dialogd stopped; migrated if older)\n"
	      "  purge [--older-than DAYS] remove old threads and audit rows (one transaction;\n"
	      "                            default: [store] retention_days)\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE   configuration file (the one dialogd reads)\n"
	      "  --data DIR          folder holding intents/, faq-data/, templates/\n"
	      "  --min-confidence X  answer only from this confidence (0 to 1)\n"
	      "  --min-margin X      below this lead over the second intent, cover both\n", out);
}

static int
parse_fraction(const char *s, double max, double *out)
{
	char *end;
	double d = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(d) || d < 0 || d > max)
		return -1;
	*out = d;
	return 0;
}

static struct engine *
open_engine(const struct options *o)
{
	const char *dir = o->data_dir ? o->data_dir : engine_default_data_dir();
	char *err = NULL;
	struct engine *e = engine_load(dir, &err);
	if (e == NULL) {
		fprintf(stderr, "dialogctl: cannot load %s:\n%s\n", dir, err);
		free(err);
	}
	return e;
}

static void
print_candidate_line(const char *label, const struct intent_candidate *c)
{
	printf("%-12s %s (confidence %.2f, score %.1f)\n", label, c->intent->id, c->confidence, c->score);
}

static const char *
decision_name(enum decision d)
{
	switch (d) {
	case DECISION_ANSWER: return "answer";
	case DECISION_ANSWER_TWO: return "answer-two";
	case DECISION_SMALL_TALK: return "small-talk";
	case DECISION_CLARIFY: return "clarify";
	default: return "escalate";
	}
}

static int
cmd_ask(const struct engine *e, const struct options *o, int argc, char **argv)
{
	int chat = 0;
	int i = 0;
	if (i < argc && strcmp(argv[i], "--chat") == 0) {
		chat = 1;
		i++;
	}
	if (i >= argc) {
		fputs("dialogctl ask: missing TEXT\n", stderr);
		return 2;
	}
	struct strbuf text = {0};
	for (; i < argc; i++) {
		if (text.len > 0)
			strbuf_addc(&text, ' ');
		strbuf_adds(&text, argv[i]);
	}
	text_unescape_newlines(text.data);
	struct intent_scratch *scratch = intent_scratch_new();
	struct analysis a;
	char *err = NULL;
	int rc = 0;
	if (dialog_analyze(e, scratch, &o->settings, text.data, strlen(text.data), &a, &err) < 0) {
		fprintf(stderr, "dialogctl: cannot read the message: %s\n", err);
		free(err);
		rc = 1;
	} else {
		printf("intent:      %s\n", analysis_intent_id(&a));
		printf("confidence:  %.2f\n", analysis_confidence(&a));
		printf("decision:    %s\n", decision_name(a.decision));
		printf("audience:    %s%s%s%s\n", audience_name(a.match.audience),
		       a.match.audience_cue[0] ? " (cue: \"" : "", a.match.audience_cue,
		       a.match.audience_cue[0] ? "\")" : "");
		if (a.match.candidate_count > 0)
			print_candidate_line("best:", &a.match.candidates[0]);
		if (a.match.candidate_count > 1)
			print_candidate_line("runner-up:", &a.match.candidates[1]);
		else
			printf("runner-up:   none\n");
		printf("matched on:  %s\n", a.folded);
		if (a.corrections[0])
			printf("corrected:   %s\n", a.corrections);
		char *reply = dialog_reply(e, &a, chat ? CHANNEL_CHAT : CHANNEL_MAIL, OUTPUT_TEXT);
		printf("\n--- reply (%s) ---\n%s\n", chat ? "chat" : "e-mail", reply);
		free(reply);
		analysis_clear(&a);
	}
	intent_scratch_free(&scratch);
	strbuf_free(&text);
	return rc;
}

static double
rounded(double x)
{
	return round(x * 10000) / 10000;
}

static json_object *
classify_json(const struct analysis *a)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "intent", json_object_new_string(analysis_intent_id(a)));
	json_object_object_add(o, "confidence", json_object_new_double(rounded(analysis_confidence(a))));
	json_object_object_add(o, "audience", json_object_new_string(audience_name(a->match.audience)));
	json_object_object_add(o, "audience_cue", json_object_new_string(a->match.audience_cue));
	json_object_object_add(o, "decision", json_object_new_string(decision_name(a->decision)));
	json_object *cands = json_object_new_array();
	for (size_t i = 0; i < a->match.candidate_count && i < 3; i++) {
		const struct intent_candidate *c = &a->match.candidates[i];
		json_object *co = json_object_new_object();
		json_object_object_add(co, "intent", json_object_new_string(c->intent->id));
		json_object_object_add(co, "score", json_object_new_double(rounded(c->score)));
		json_object_object_add(co, "confidence", json_object_new_double(rounded(c->confidence)));
		json_object_array_add(cands, co);
	}
	json_object_object_add(o, "candidates", cands);
	if (a->second != NULL)
		json_object_object_add(o, "also", json_object_new_string(a->second->id));
	return o;
}

static void
print_json_line(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static json_object *
error_json(unsigned lineno, const char *message)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "line", json_object_new_int((int)lineno));
	json_object_object_add(o, "error", json_object_new_string(message));
	return o;
}

static const char *
policy_action_name(enum mail_policy_action action)
{
	switch (action) {
	case MAIL_POLICY_IGNORE: return "ignore";
	case MAIL_POLICY_ESCALATE: return "escalate-silently";
	default: return "reply";
	}
}

/* What the no-reply rules say, as dialogd applies them before the engine: "policy"
 * (reply, ignore, escalate-silently), with "rule" and "reason" when it is not reply. */
static void
add_policy_json(json_object *out, const struct mail_policy *policy, const struct parsed_mail *mail)
{
	struct mail_policy_verdict v;
	mail_policy_check(policy, mail, &v);
	json_object_object_add(out, "policy", json_object_new_string(policy_action_name(v.action)));
	if (v.action != MAIL_POLICY_REPLY) {
		json_object_object_add(out, "rule", json_object_new_string(v.rule));
		json_object_object_add(out, "reason", json_object_new_string(v.reason));
	}
}

/* One file of classify --eml: read as bytes (a NUL byte included, as IMAP delivers
 * them), then mail_parse_received as dialogd reads a mail (max_message_size included),
 * the rules and the analysis. Returns 1 when the file cannot be read, else 0. */
static int
classify_one_eml(const struct engine *e, const struct options *o, const struct config *cfg,
		 const struct mail_policy *policy, struct intent_scratch *scratch, const char *path)
{
	char *err = NULL;
	size_t len = 0;
	char *raw = file_read_bytes(path, 64u * 1024 * 1024, &len, &err);
	struct parsed_mail mail = {0};
	struct analysis a;
	json_object *out;
	int rc = 0;
	if (raw == NULL) {
		out = error_json(0, err);
		rc = 1;
	} else if ((err = mail_parse_received(raw, len, cfg->max_message_size, &mail)) != NULL) {
		/* dialogd hands such a mail to a person, after the same rules */
		out = error_json(0, err);
		add_policy_json(out, policy, &mail);
	} else if (mail_analyze(e, scratch, &o->settings, &mail, &a, &err) < 0) {
		out = error_json(0, err);
		add_policy_json(out, policy, &mail);
	} else {
		out = classify_json(&a);
		json_object_object_add(out, "subject", json_object_new_string(mail.subject));
		add_policy_json(out, policy, &mail);
		analysis_clear(&a);
	}
	json_object_object_del(out, "line");
	json_object_object_add(out, "file", json_object_new_string(path));
	print_json_line(out);
	fflush(stdout);
	free(err);
	free(raw);
	parsed_mail_clear(&mail);
	return rc;
}

/* The no-reply rules of -c FILE (else the defaults) with their markers. Returns 0, or -1
 * with the reason printed. */
static int
open_rules(const struct engine *e, const struct config *cfg, struct mail_setup *rules)
{
	char *err = NULL;
	if (mail_setup_rules(rules, cfg, e->data_dir, &err) < 0) {
		fprintf(stderr, "dialogctl: %s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

/* classify --eml: the same path as dialogd (MIME, charsets, HTML, "cf objet", quoted
 * history, the no-reply rules), one JSON line per file, with "file" added. */
static int
cmd_classify_eml(const struct engine *e, const struct options *o, const struct config *cfg, int argc, char **argv)
{
	if (argc == 0) {
		fputs("dialogctl classify --eml: missing FILE\n", stderr);
		return 2;
	}
	struct mail_setup rules;
	if (open_rules(e, cfg, &rules) < 0) {
		mail_setup_clear(&rules);
		return 1;
	}
	struct intent_scratch *scratch = intent_scratch_new();
	int rc = 0;
	for (int i = 0; i < argc; i++)
		rc |= classify_one_eml(e, o, cfg, &rules.mail.policy, scratch, argv[i]);
	intent_scratch_free(&scratch);
	mail_setup_clear(&rules);
	return rc;
}

static int
cmd_classify(const struct engine *e, const struct options *o)
{
	struct intent_scratch *scratch = intent_scratch_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		size_t len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		char *err = NULL;
		if (len > CLASSIFY_MAX_LINE) {
			char *msg = xasprintf("message too long (%zu bytes, limit %u)", len, CLASSIFY_MAX_LINE);
			print_json_line(error_json(lineno, msg));
			free(msg);
			continue;
		}
		if (text_validate(line, len, &err) < 0) {
			print_json_line(error_json(lineno, err));
			free(err);
			continue;
		}
		len = text_unescape_newlines(line);
		struct analysis a;
		if (dialog_analyze(e, scratch, &o->settings, line, len, &a, &err) < 0) {
			print_json_line(error_json(lineno, err));
			free(err);
			continue;
		}
		print_json_line(classify_json(&a));
		analysis_clear(&a);
		fflush(stdout);
	}
	free(line);
	intent_scratch_free(&scratch);
	return 0;
}

static int
parse_percent(const char *s, double *out)
{
	if (parse_fraction(s, 100, out) < 0)
		return -1;
	*out /= 100;
	return 0;
}

static int
cmd_eval(const struct engine *e, const struct options *o, int argc, char **argv)
{
	struct eval_thresholds t = {0};
	const char *file = NULL;
	for (int i = 0; i < argc; i++) {
		double *target = strcmp(argv[i], "--min-precision") == 0 ? &t.min_precision :
				 strcmp(argv[i], "--min-coverage") == 0 ? &t.min_coverage :
				 strcmp(argv[i], "--min-unknown-recall") == 0 ? &t.min_unknown_recall :
				 strcmp(argv[i], "--min-audience") == 0 ? &t.min_audience : NULL;
		if (target != NULL) {
			if (i + 1 >= argc || parse_percent(argv[i + 1], target) < 0) {
				fprintf(stderr, "dialogctl eval: %s needs a percentage from 0 to 100\n", argv[i]);
				return 2;
			}
			i++;
		} else if (strcmp(argv[i], "--show-errors") == 0) {
			t.show_errors = true;
		} else if (file == NULL && argv[i][0] != '-') {
			file = argv[i];
		} else {
			fprintf(stderr, "dialogctl eval: unexpected argument \"%s\"\n", argv[i]);
			return 2;
		}
	}
	if (file == NULL) {
		fputs("dialogctl eval: missing FILE.tsv\n", stderr);
		return 2;
	}
	return ctl_eval(e, &o->settings, file, &t, stdout);
}

static int
cmd_check(const struct engine *e, const struct config *cfg)
{
	struct mail_setup rules;
	int bad = open_rules(e, cfg, &rules);
	size_t markers = mail_markers_count(rules.markers);
	mail_setup_clear(&rules);
	if (bad < 0)
		return 1;
	printf("%s: OK\n", e->data_dir);
	printf("  intents:   %zu (%zu patterns and cues), lexicon: %zu entries, %zu known words\n",
	       intent_set_count(e->intents), intent_set_pattern_count(e->intents),
	       lexicon_entry_count(e->lexicon), lexicon_known_word_count(e->lexicon));
	printf("  faq-data:  %zu entries\n", faq_count(e->faq));
	printf("  templates: %zu\n", templates_count(e->templates));
	printf("  autoreply markers: %zu\n", markers);
	return 0;
}

static bool
is_goodbye(const char *line)
{
	char *f = text_fold(line, strlen(line), NULL);
	bool bye = strcmp(f, "quit") == 0 || strcmp(f, "exit") == 0 || strcmp(f, "au revoir") == 0 ||
		   strcmp(f, "bye") == 0 || strcmp(f, "quitter") == 0;
	free(f);
	return bye;
}

/* chat: a conversation in the terminal, as the website's chat has it. With -c, on the
 * daemon's store and directory (account actions included: mails wait in the outbox for
 * the daemon to send); without, on a throw-away store. */
/* The chat lines of a thread past the first seen ones, printed (counted in count); the
 * quick replies of the last one. */
struct chat_lines {
	size_t seen, count;
	char *choices;
};

static int
print_new_lines(const struct message_row *m, int64_t at, void *user)
{
	(void)at;
	struct chat_lines *c = user;
	if (strcmp(m->direction, "out") != 0 || m->decision == NULL || strcmp(m->decision, "chat") != 0)
		return 0;
	free(c->choices);
	c->choices = m->choices ? xstrdup(m->choices) : NULL;
	if (c->count++ >= c->seen)
		printf("\nOCAPIAT > %s\n", m->body ? m->body : "");
	return 0;
}

/* The buttons the widget would show, one per line as "  [label]". */
static void
print_quick_replies(const char *choices)
{
	for (const char *p = choices; p != NULL && *p;) {
		size_t n = strcspn(p, "\n");
		printf("  [%.*s]\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int
cmd_chat(const struct engine *e, const struct options *o, const struct config *cfg)
{
	struct mail_setup setup;
	char *err = NULL;
	struct store *store = NULL;
	struct directory *dir = NULL;
	if (mail_setup_init(&setup, cfg, &err) < 0 ||
	    (store = store_open(o->config_file ? cfg->store_path : ":memory:", &err)) == NULL ||
	    (dir = directory_open_for(setup.mail.directory_http, store, &err)) == NULL) {
		fprintf(stderr, "dialogctl: chat: %s\n", err);
		free(err);
		store_close(&store);
		mail_setup_clear(&setup);
		return 1;
	}
	bool tty = isatty(STDIN_FILENO);
	struct intent_scratch *scratch = intent_scratch_new();
	struct chat_session *cs = chat_session_new(&setup.mail.actions, store, dir, "dialogctl");
	char *welcome = template_render(e->templates, "chat_welcome", OUTPUT_TEXT, NULL, 0);
	printf("OCAPIAT > %s\n", welcome);
	free(welcome);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (;;) {
		if (tty) {
			fputs("\nVous > ", stdout);
			fflush(stdout);
		}
		if ((n = getline(&line, &cap, stdin)) < 0)
			break;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (is_goodbye(line))
			break;
		char *reply = chat_session_turn(cs, e, scratch, &o->settings, line, (size_t)n, &err);
		if (reply == NULL) {
			fprintf(stderr, "dialogctl: chat: %s\n", err);
			free(err);
			err = NULL;
			reply = template_render(e->templates, "chat_store_failed", OUTPUT_TEXT, NULL, 0);
		}
		struct chat_lines lines = { .seen = SIZE_MAX };
		store_messages_each(store, chat_session_thread(cs), print_new_lines, &lines);
		printf("%sOCAPIAT > %s\n", tty ? "\n" : "", reply);
		print_quick_replies(lines.choices);
		free(lines.choices);
		lines.choices = NULL;
		free(reply);
		fflush(stdout);
		/* The account work, once the reply is out (conversation/deferred.h), and what it
		 * had to say (a directory that failed: a person will answer). */
		lines.seen = lines.count;
		lines.count = 0;
		unsigned queued;
		if (chat_session_after_reply(cs, e, &queued, &err) < 0) {
			fprintf(stderr, "dialogctl: chat: account action after the reply: %s\n", err);
			free(err);
			err = NULL;
		}
		store_messages_each(store, chat_session_thread(cs), print_new_lines, &lines);
		free(lines.choices);
		fflush(stdout);
	}
	char *bye = template_render(e->templates, "chat_goodbye", OUTPUT_TEXT, NULL, 0);
	printf("%sOCAPIAT > %s\n", tty ? "\n" : "", bye);
	free(bye);
	free(line);
	if (o->config_file != NULL && chat_session_thread(cs) != 0)
		fprintf(stderr, "dialogctl: conversation kept as thread #%lld (dialogctl thread %lld)\n",
			(long long)chat_session_thread(cs), (long long)chat_session_thread(cs));
	chat_session_free(&cs);
	intent_scratch_free(&scratch);
	directory_close(&dir);
	store_close(&store);
	mail_setup_clear(&setup);
	return 0;
}

/* import TABLE FILE: the store named by the configuration gets the rows, all or none. */
static int
cmd_import(const char *store_path, int argc, char **argv)
{
	int table = argc == 2 ? directory_table_from_name(argv[0]) : -1;
	if (table < 0) {
		fputs("dialogctl import: usage: import companies|accounts|dossiers FILE.csv\n", stderr);
		return 2;
	}
	char *err = NULL;
	struct store *st = store_open(store_path, &err);
	if (st == NULL) {
		fprintf(stderr, "dialogctl: %s\n", err);
		free(err);
		return 1;
	}
	long n = directory_import(st, (enum directory_table)table, argv[1], &err);
	if (n < 0) {
		fprintf(stderr, "dialogctl import: nothing imported:\n%s\n", err);
		free(err);
	} else {
		printf("%ld %s imported from %s (%lld in the directory)\n", n, argv[0], argv[1],
		       (long long)store_directory_count(st, argv[0]));
	}
	store_close(&st);
	return n < 0 ? 1 : 0;
}

/* The options before the command, into *o and the two thresholds (-1: not given; the
 * configuration decides). Returns true when the command should run; false when dialogctl
 * must exit with *status_r (--help, --version, a bad option). */
static bool
parse_options(int argc, char **argv, struct options *o, double *min_conf_r, double *min_margin_r,
	      int *status_r)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "data", required_argument, NULL, 'd' },
		{ "min-confidence", required_argument, NULL, 'C' }, { "min-margin", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_file = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case 'C':
		case 'M':
			if (parse_fraction(optarg, 1, c == 'C' ? min_conf_r : min_margin_r) < 0) {
				fprintf(stderr, "dialogctl: %s needs a number from 0 to 1\n",
					c == 'C' ? "--min-confidence" : "--min-margin");
				*status_r = 2;
				return false;
			}
			break;
		case 'h': usage(stdout); *status_r = 0; return false;
		case 'V': puts(PACKAGE_STRING); *status_r = 0; return false;
		default: usage(stderr); *status_r = 2; return false;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		*status_r = 2;
		return false;
	}
	return true;
}

/* Reads -c FILE when given (after protecting the process: it may hold passwords), then
 * settles the settings: the options first, the configuration next. Returns 0, or -1 with
 * the reason printed. */
static int
load_configuration(struct config *cfg, struct options *o, double min_conf, double min_margin)
{
	if (o->config_file != NULL) {
		char *err = NULL;
		/* The configuration may hold passwords or name their files (chat reads them): like
		 * dialogd, no core dump and no ptrace by the same user from here on. */
		if (process_protect(&err) < 0) {
			fprintf(stderr, "dialogctl: %s\n", err);
			free(err);
			return -1;
		}
		if (config_load(cfg, o->config_file, &err) < 0) {
			fprintf(stderr, "dialogctl: configuration errors:\n%s\n", err);
			free(err);
			return -1;
		}
	}
	o->settings.min_confidence = min_conf >= 0 ? min_conf : cfg->min_confidence;
	o->settings.min_margin = min_margin >= 0 ? min_margin : cfg->min_margin;
	o->settings.suggest_confidence = cfg->suggest_confidence;
	o->settings.suggest_max_words = cfg->suggest_max_words;
	if (o->data_dir == NULL)
		o->data_dir = cfg->data_dir;
	return 0;
}

/* The commands that read the store and need no engine. Returns true, with the exit
 * status in *rc_r, when command is one of them. */
static bool
run_store_command(const char *command, const struct config *cfg, int rest, char **args, int *rc_r)
{
	if (strcmp(command, "examples") == 0) {
		*rc_r = ctl_examples(cfg->store_path, rest, args);
		return true;
	}
	if (strcmp(command, "backup") == 0 || strcmp(command, "restore") == 0) {
		*rc_r = strcmp(command, "backup") == 0 ? ctl_backup(cfg->store_path, rest, args)
						       : ctl_restore(cfg->store_path, rest, args);
		return true;
	}
	if (strcmp(command, "audit") == 0 || strcmp(command, "purge") == 0) {
		*rc_r = strcmp(command, "audit") == 0 ? ctl_audit(cfg->store_path, rest, args)
		      : ctl_purge(cfg->store_path, cfg->store_retention_days, rest, args);
		return true;
	}
	if (strcmp(command, "import") == 0) {
		*rc_r = cmd_import(cfg->store_path, rest, args);
		return true;
	}
	if (strcmp(command, "threads") == 0 || strcmp(command, "thread") == 0 || strcmp(command, "outbox") == 0 ||
	    strcmp(command, "status") == 0) {
		*rc_r = strcmp(command, "threads") == 0 ? ctl_threads(cfg->store_path, rest, args)
		      : strcmp(command, "thread") == 0 ? ctl_thread(cfg->store_path, rest, args)
		      : strcmp(command, "outbox") == 0 ? ctl_outbox(cfg->store_path, rest, args)
		      : rest == 0 ? ctl_status(cfg->store_path) : 2;
		return true;
	}
	return false;
}

/* The commands that run the engine (loaded first, whatever the command: an unknown one
 * is reported only once the data folder loads). Returns the exit status. */
static int
run_engine_command(const char *command, const struct options *o, const struct config *cfg, int rest,
		   char **args)
{
	struct engine *e = open_engine(o);
	int rc;
	if (e == NULL) {
		rc = 1;
	} else if (strcmp(command, "ask") == 0) {
		rc = cmd_ask(e, o, rest, args);
	} else if (strcmp(command, "classify") == 0 && rest > 0 && strcmp(args[0], "--eml") == 0) {
		rc = cmd_classify_eml(e, o, cfg, rest - 1, args + 1);
	} else if (strcmp(command, "classify") == 0) {
		rc = cmd_classify(e, o);
	} else if (strcmp(command, "eval") == 0) {
		rc = cmd_eval(e, o, rest, args);
	} else if (strcmp(command, "check") == 0) {
		rc = cmd_check(e, cfg);
		char *err = NULL;
		/* The secret files, as dialogd checks them before reading them. */
		if (o->config_file != NULL && config_check_secret_files(cfg, &err) < 0) {
			fprintf(stderr, "dialogctl: secret files:\n%s\n", err);
			free(err);
			rc = 1;
		}
	} else if (strcmp(command, "chat") == 0) {
		rc = cmd_chat(e, o, cfg);
	} else if (strcmp(command, "reply") == 0) {
		rc = ctl_reply(e, cfg, rest, args);
	} else if (strcmp(command, "correspondant") == 0) {
		rc = ctl_correspondant(e, cfg, rest, args);
	} else {
		fprintf(stderr, "dialogctl: unknown command \"%s\"\n", command);
		usage(stderr);
		rc = 2;
	}
	engine_free(&e);
	return rc;
}

int
main(int argc, char **argv)
{
	/* What dialogctl creates (a store, its -wal and -shm, with import or chat) is its
	 * user's alone, as dialogd's own files are. */
	umask(077);
	struct options o = {0};
	double min_conf = -1, min_margin = -1;
	int rc;
	if (!parse_options(argc, argv, &o, &min_conf, &min_margin, &rc))
		return rc;
	struct config cfg;
	config_init(&cfg);  /* after the options: their early returns have nothing to free */
	const char *command = argv[optind];
	int rest = argc - optind - 1;
	char **args = argv + optind + 1;
	if (strcmp(command, "config") == 0) {
		if (rest > 0 && strcmp(args[0], "--man") == 0)
			config_describe_man(stdout);
		else
			config_describe(stdout);
		rc = 0;
	} else if (strcmp(command, "help") == 0) {
		usage(stdout);
		rc = 0;
	} else if (load_configuration(&cfg, &o, min_conf, min_margin) < 0) {
		rc = 1;
	} else if (!run_store_command(command, &cfg, rest, args, &rc)) {
		rc = run_engine_command(command, &o, &cfg, rest, args);
	}
	config_clear(&cfg);
	return rc;
}
