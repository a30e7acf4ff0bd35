/* ctl_correspondant — see ctl_correspondant.h. */
#include "autoconf.h"
#include "ctl_correspondant.h"
#include "accounts/correspondant.h"
#include "core/config.h"
#include "core/util.h"
#include "mail/setup.h"
#include "store/audit.h"
#include "store/store.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USAGE \
	"usage: dialogctl correspondant add EMAIL [--name NAME] [--admin] [--password-stdin]\n" \
	"       dialogctl correspondant list\n" \
	"       dialogctl correspondant invite|disable|enable|reset-2fa EMAIL\n" \
	"       dialogctl correspondant password EMAIL   (the password on standard input)\n"
/* A password read on standard input: its first line, at most this many bytes. */
#define PASSWORD_MAX 1024

/* Who did it, for the audit: the operator's login. */
static const char *
operator(void)
{
	const char *who = getenv("SUDO_USER");
	if (who == NULL || *who == '\0')
		who = getenv("USER");
	return who != NULL && *who != '\0' ? who : "operator";
}

static void
audit(struct store *st, const char *action, const char *email)
{
	if (store_audit_add(st, "console", operator(), action, email, audit_code(AUDIT_DONE)) < 0)
		fprintf(stderr, "dialogctl correspondant: audit: %s\n", store_error(st));
}

/* The first line of standard input (the password), NULL when there is none. */
static char *
read_password(void)
{
	char *line = sodium_malloc(PASSWORD_MAX + 2);
	if (line == NULL || fgets(line, PASSWORD_MAX + 2, stdin) == NULL) {
		sodium_free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

static int
set_password(struct store *st, const char *email)
{
	char *password = read_password();
	if (password == NULL) {
		fputs("dialogctl correspondant: no password on standard input: nothing changed\n", stderr);
		return 1;
	}
	const char *weak = NULL;
	int rc = correspondant_set_password(st, email, password, (int64_t)time(NULL), &weak);
	sodium_free(password);
	if (rc == 1) {
		audit(st, "correspondant_password", email);
		printf("%s: password set\n", email);
		return 0;
	}
	if (weak != NULL)
		fputs("dialogctl correspondant: the password is too weak: at least 12 characters, letters and a digit or "
		      "another sign: nothing changed\n", stderr);
	else if (rc == 0)
		fprintf(stderr, "dialogctl correspondant: no account for %s\n", email);
	else
		fprintf(stderr, "dialogctl correspondant: store: %s\n", store_error(st));
	return 1;
}

static int
invite(const struct engine *e, const struct config *cfg, struct store *st, const char *email)
{
	struct mail_setup setup;
	char *err = NULL;
	if (mail_setup_init(&setup, cfg, &err) < 0) {
		fprintf(stderr, "dialogctl correspondant: %s\n", err);
		free(err);
		return 1;
	}
	struct invitation_settings s = { .public_url = cfg->web_public_url, .sender = &setup.mail.actions.notify.sender,
					 .engine = e };
	int rc = correspondant_invite(&s, st, email, (int64_t)time(NULL));
	mail_setup_clear(&setup);
	if (rc == 1) {
		audit(st, "correspondant_invite", email);
		printf("%s: invitation queued (a link valid %d days; the running dialogd sends it)\n", email,
		       INVITATION_TTL / 86400);
	} else if (rc == 0) {
		fprintf(stderr, "dialogctl correspondant: no account for %s\n", email);
	} else {
		fprintf(stderr, "dialogctl correspondant: store: %s\n", store_error(st));
	}
	return rc == 1 ? 0 : 1;
}

static int
add(const struct engine *e, const struct config *cfg, struct store *st, int argc, char **argv)
{
	const char *email = NULL, *name = NULL;
	bool admin = false, password_stdin = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--admin") == 0)
			admin = true;
		else if (strcmp(argv[i], "--password-stdin") == 0)
			password_stdin = true;
		else if (email == NULL && argv[i][0] != '-')
			email = argv[i];
		else
			return 2;
	}
	if (email == NULL)
		return 2;
	char *err = NULL;
	int64_t id = correspondant_create(st, email, name ? name : email, admin ? ROLE_ADMIN : ROLE_CORRESPONDANT,
					  (int64_t)time(NULL), &err);
	if (id <= 0) {
		if (id == 0)
			fprintf(stderr, "dialogctl correspondant: %s has an account already\n", email);
		else
			fprintf(stderr, "dialogctl correspondant: %s\n", err);
		free(err);
		return 1;
	}
	audit(st, "correspondant_add", email);
	printf("%s: account #%lld (%s)\n", email, (long long)id, admin ? "admin" : "correspondant");
	return password_stdin ? set_password(st, email) : invite(e, cfg, st, email);
}

static int
print_row(const struct correspondant_row *r, void *user)
{
	(void)user;
	printf("%-40s %-13s %-9s %-8s %-8s %s\n", r->email, r->role, r->disabled ? "disabled" : "active",
	       r->password_hash ? "password" : "invited", r->totp_secret ? "2fa" : "-", r->name);
	return 0;
}

/* disable, enable, reset-2fa. */
static int
change(struct store *st, const char *command, const char *email)
{
	int64_t now = (int64_t)time(NULL);
	bool reset = strcmp(command, "reset-2fa") == 0;
	int rc = reset ? correspondant_reset_totp(st, email, now)
		       : correspondant_set_disabled(st, email, strcmp(command, "disable") == 0, now);
	if (rc == 1) {
		char *action = xasprintf("correspondant_%s", reset ? "reset_2fa" : command);
		audit(st, action, email);
		free(action);
		printf("%s: %s\n", email, reset ? "second factor removed (to enrol again at the next sign-in)"
				       : strcmp(command, "disable") == 0 ? "disabled" : "enabled");
		return 0;
	}
	if (rc == 0)
		fprintf(stderr, "dialogctl correspondant: no account for %s\n", email);
	else
		fprintf(stderr, "dialogctl correspondant: store: %s\n", store_error(st));
	return 1;
}

static int
run(const struct engine *e, const struct config *cfg, struct store *st, int argc, char **argv)
{
	const char *command = argv[0];
	if (strcmp(command, "add") == 0)
		return add(e, cfg, st, argc - 1, argv + 1);
	if (strcmp(command, "list") == 0 && argc == 1) {
		if (store_correspondants_each(st, print_row, NULL) < 0) {
			fprintf(stderr, "dialogctl correspondant: store: %s\n", store_error(st));
			return 1;
		}
		return 0;
	}
	if (argc != 2)
		return 2;
	if (strcmp(command, "invite") == 0)
		return invite(e, cfg, st, argv[1]);
	if (strcmp(command, "password") == 0)
		return set_password(st, argv[1]);
	if (strcmp(command, "disable") == 0 || strcmp(command, "enable") == 0 || strcmp(command, "reset-2fa") == 0)
		return change(st, command, argv[1]);
	return 2;
}

int
ctl_correspondant(const struct engine *e, const struct config *cfg, int argc, char **argv)
{
	if (argc < 1) {
		fputs(USAGE, stderr);
		return 2;
	}
	char *err = NULL;
	struct store *st = sodium_init() < 0 ? NULL : store_open(cfg->store_path, &err);
	if (st == NULL) {
		fprintf(stderr, "dialogctl correspondant: %s\n", err ? err : "libsodium cannot start");
		free(err);
		return 1;
	}
	int rc = run(e, cfg, st, argc, argv);
	if (rc == 2)
		fputs(USAGE, stderr);
	store_close(&st);
	return rc;
}
