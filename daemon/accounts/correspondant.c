/* correspondant — see correspondant.h. */
#include "autoconf.h"
#include "accounts/correspondant.h"
#include "accounts/reset_token.h"
#include "core/text.h"
#include "core/util.h"
#include "directory/request_fields.h"
#include "engine/engine.h"
#include "engine/template.h"
#include "outbox/outbound.h"
#include "store/store.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A name shown in the console and its audit: at most this many bytes. */
#define NAME_MAX_BYTES 120
/* The second factor's secret: 160 bits, as RFC 4226 recommends. */
#define TOTP_SECRET_BYTES 20
#define TOTP_STEP 30
#define TOTP_DIGITS 6

static const char *const role_names[] = { "correspondant", "admin" };

const char *
correspondant_role_name(enum correspondant_role role)
{
	return role_names[role == ROLE_ADMIN];
}

int64_t
correspondant_create(struct store *st, const char *email, const char *name, enum correspondant_role role, int64_t now,
		     char **error_r)
{
	char *found = field_email(email);
	bool address = found != NULL && strcasecmp(found, email) == 0;
	free(found);
	char *err = NULL;
	if (!address) {
		*error_r = xasprintf("\"%s\" is not an e-mail address", email);
		return -1;
	}
	if (text_validate(name, strlen(name), &err) < 0 || strlen(name) > NAME_MAX_BYTES || strpbrk(name, "\r\n\t") ||
	    name[strspn(name, " ")] == '\0') {
		free(err);
		*error_r = xasprintf("the name must be one line of UTF-8 text, 1 to %d bytes", NAME_MAX_BYTES);
		return -1;
	}
	int64_t id = store_correspondant_add(st, email, name, correspondant_role_name(role), now);
	if (id < 0 && store_error_is_conflict(st))
		return 0;
	if (id < 0)
		*error_r = xasprintf("store: %s", store_error(st));
	return id;
}

/* The account of email: 1 with *row, 0, -1. */
static int
account(struct store *st, const char *email, struct correspondant_row *row)
{
	return store_correspondant_get(st, email, row);
}

int
correspondant_invite(const struct invitation_settings *s, struct store *st, const char *email, int64_t now)
{
	struct correspondant_row row;
	int got = account(st, email, &row);
	if (got != 1)
		return got;
	char token[RESET_TOKEN_SIZE];
	char *key = xasprintf("%lld", (long long)row.id);
	int rc = reset_token_issue_for(st, RESET_PURPOSE_CONSOLE_INVITATION, key, now, INVITATION_TTL, token);
	free(key);
	if (rc == 0) {
		const char *base = s->public_url ? s->public_url : "";
		size_t n = strlen(base);
		char *link = xasprintf("%.*s/console/invitation?jeton=%s", (int)(n > 0 && base[n - 1] == '/' ? n - 1 : n), base,
				       token);
		char *days = xasprintf("%d", INVITATION_TTL / 86400);
		struct template_var vars[] = { { "name", row.name, false }, { "link", link, false }, { "days", days, false } };
		char *body = template_render(s->engine->templates, "console_invitation_mail", OUTPUT_TEXT, vars, 3);
		char *subject = template_render(s->engine->templates, "console_invitation_subject", OUTPUT_TEXT, NULL, 0);
		str_trim(subject);
		struct outbound o = { .kind = OUTBOX_SECRET, .to = row.email, .subject = subject, .body = body,
				      .no_history = true };
		int q = outbound_queue(s->sender, st, &o);
		rc = q < 0 ? -1 : 1;
		sodium_memzero(token, sizeof(token));
		sodium_memzero(link, strlen(link));
		sodium_memzero(body, strlen(body));
		free(link);
		free(days);
		free(body);
		free(subject);
	}
	correspondant_row_clear(&row);
	return rc;
}

int
correspondant_set_password(struct store *st, const char *email, const char *password, int64_t now,
			   const char **weakness_r)
{
	*weakness_r = reset_password_weakness(password);
	if (*weakness_r != NULL)
		return 0;
	struct correspondant_row row;
	int got = account(st, email, &row);
	if (got != 1)
		return got;
	char *hash = reset_password_hash(password);
	int rc = hash == NULL ? -1 : store_correspondant_set_password(st, row.id, hash, now);
	free(hash);
	correspondant_row_clear(&row);
	return rc;
}

bool
correspondant_totp_valid(const char *secret, const char *code, int64_t now)
{
	if (secret == NULL || code == NULL || strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS ||
	    oath_init() != OATH_OK)
		return false;
	char *raw = NULL;
	size_t raw_len = 0;
	bool ok = oath_base32_decode(secret, strlen(secret), &raw, &raw_len) == OATH_OK &&
		  oath_totp_validate(raw, raw_len, (time_t)now, TOTP_STEP, 0, 1, code) >= 0;
	if (raw != NULL) {
		sodium_memzero(raw, raw_len);
		free(raw);
	}
	oath_done();
	return ok;
}

/* A stored hash to verify against when the account has none (unknown, or invited and
 * not there yet), so that every refusal costs one argon2id verification. */
static const char *
decoy_hash(void)
{
	static char decoy[crypto_pwhash_STRBYTES];
	if (decoy[0] == '\0') {
		unsigned char junk[16];
		randombytes_buf(junk, sizeof(junk));
		if (crypto_pwhash_str(decoy, (const char *)junk, sizeof(junk), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			decoy[0] = '\0';
	}
	return decoy;
}

enum login_verdict
correspondant_login(struct store *st, const char *email, const char *password, const char *totp, bool require_totp,
		    const char *address, int64_t now)
{
	if (sodium_init() < 0)
		return LOGIN_STORE_ERROR;
	int64_t since = now - LOGIN_WINDOW;
	int64_t from_address = store_login_failures_since(st, address, NULL, since);
	int64_t for_account = store_login_failures_since(st, NULL, email, since);
	if (from_address < 0 || for_account < 0)
		return LOGIN_STORE_ERROR;
	if (from_address >= LOGIN_FAILURES_PER_ADDRESS || for_account >= LOGIN_FAILURES_PER_ACCOUNT)
		return LOGIN_THROTTLED;
	struct correspondant_row row;
	int got = account(st, email, &row);
	if (got < 0)
		return LOGIN_STORE_ERROR;
	const char *hash = got == 1 && row.password_hash != NULL ? row.password_hash : decoy_hash();
	bool password_ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && got == 1 &&
			   row.password_hash != NULL;
	bool needs_code = got == 1 && (row.totp_secret != NULL || require_totp);
	bool code_ok = !needs_code || correspondant_totp_valid(row.totp_secret, totp, now);
	bool accepted = password_ok && code_ok && got == 1 && !row.disabled;
	correspondant_row_clear(&row);
	if (accepted)
		return LOGIN_ACCEPTED;
	return store_login_failure_add(st, address, email, now) < 0 ? LOGIN_STORE_ERROR : LOGIN_REFUSED;
}

int
correspondant_totp_enrol(struct store *st, const char *email, int64_t now, char **secret_r, char **uri_r)
{
	*secret_r = *uri_r = NULL;
	struct correspondant_row row;
	int got = account(st, email, &row);
	if (got != 1)
		return got;
	unsigned char raw[TOTP_SECRET_BYTES];
	randombytes_buf(raw, sizeof(raw));
	char *secret = NULL;
	size_t len = 0;
	int rc = -1;
	if (oath_init() == OATH_OK && oath_base32_encode((const char *)raw, sizeof(raw), &secret, &len) == OATH_OK) {
		rc = store_correspondant_set_totp(st, row.id, secret, now);
		if (rc == 1) {
			*uri_r = xasprintf("otpauth://totp/OCAPIAT%%20console:%s?secret=%s&issuer=OCAPIAT&digits=%d&period=%d",
					   row.email, secret, TOTP_DIGITS, TOTP_STEP);
			*secret_r = secret;
			secret = NULL;
		}
	}
	sodium_memzero(raw, sizeof(raw));
	free(secret);
	oath_done();
	correspondant_row_clear(&row);
	return rc;
}

/* One change to an account found by address: 1, 0 no such account, -1. */
static int
update(struct store *st, const char *email, int (*change)(struct store *, int64_t, int64_t, const void *),
       const void *arg, int64_t now)
{
	struct correspondant_row row;
	int got = account(st, email, &row);
	int rc = got == 1 ? change(st, row.id, now, arg) : got;
	correspondant_row_clear(&row);
	return rc;
}

static int
clear_totp(struct store *st, int64_t id, int64_t now, const void *arg)
{
	(void)arg;
	return store_correspondant_set_totp(st, id, NULL, now);
}

static int
set_disabled(struct store *st, int64_t id, int64_t now, const void *arg)
{
	bool disabled = *(const bool *)arg;
	int rc = store_correspondant_set_disabled(st, id, disabled, now);
	/* A disabled account is signed out at once, not at its next request. */
	if (rc == 1 && disabled && store_console_sessions_delete_all(st, id) < 0)
		rc = -1;
	return rc;
}

int
correspondant_reset_totp(struct store *st, const char *email, int64_t now)
{
	return update(st, email, clear_totp, NULL, now);
}

int
correspondant_set_disabled(struct store *st, const char *email, bool disabled, int64_t now)
{
	return update(st, email, set_disabled, &disabled, now);
}
