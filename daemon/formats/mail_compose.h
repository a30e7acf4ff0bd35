/* mail_compose — outbound messages built byte by byte (libcurl sends them as they are):
 * RFC 5322 headers with RFC 2047 encoded words for non-ASCII text, CRLF line endings,
 * UTF-8 quoted-printable body, our own Message-IDs, the reply subject (the quoted
 * question is dialog's: dialog_mail_envelope). No header value can carry CR or LF from
 * the input: every value is reduced to one line. Also the modified UTF-7 encoding of IMAP folder names. Never logs.
 * Threads: any (no shared state; Message-IDs come from libsodium's CSPRNG). */
#ifndef DIALOGD_MAIL_COMPOSE_H
#define DIALOGD_MAIL_COMPOSE_H

#include <stddef.h>
#include <time.h>

struct outgoing_mail {
	const char *from_name;          /* display name, UTF-8, may be NULL */
	const char *from_address;       /* addr-spec */
	const char *to_name;            /* may be NULL */
	const char *to_address;
	const char *subject;            /* UTF-8 */
	const char *message_id;         /* without <> */
	const char *in_reply_to;        /* without <>, may be NULL */
	const char *const *references;  /* without <>, may be NULL */
	size_t reference_count;
	const char *body;               /* UTF-8, LF line endings */
	time_t date;
	int auto_replied;               /* adds Auto-Submitted: auto-replied (RFC 3834) */
	int auto_generated;             /* adds Auto-Submitted: auto-generated (notifications) */
};

/* The whole message, CRLF line endings, ready for SMTP DATA. Caller frees. NULL when
 * from_address or to_address is not a plausible addr-spec or message_id is not a msg-id;
 * an unusable in_reply_to or reference is left out. */
char *mail_compose(const struct outgoing_mail *mail);

/* "Re: " + the original subject without its leading reply/forward markers ("Re:", "RE :",
 * "Réf. :", "AW:", "TR:", "Fwd:"… repeated or not), never "Re: Re:"; "Re: " + neutral when
 * nothing is left (neutral comes from templates/). Caller frees. */
char *mail_reply_subject(const char *original, const char *neutral);

/* A fresh Message-ID without <>: random part (from the system CSPRNG) @ domain. */
char *mail_new_message_id(const char *domain);
/* The Message-IDs of our own shape (as mail_new_message_id makes them, for domain) that
 * appear anywhere in raw[0..len) — a delivery report's returned headers, its
 * In-Reply-To —, each once, at most max, into ids_r (caller frees each). Returns how
 * many. */
size_t mail_own_message_ids(const char *raw, size_t len, const char *domain, char **ids_r, size_t max);

/* Splits "Name <local@domain>" or "local@domain" into display name (NULL when none) and
 * address. Returns 0, or -1 when there is no plausible address. Caller frees both. */
int mail_address_split(const char *text, char **name_r, char **address_r);

/* The domain part of an address (lower case), or NULL. Caller frees. */
char *mail_address_domain(const char *address);

/* RFC 2047 encoded-word form of a UTF-8 header value (B or Q, folded to ≤ 76 columns
 * as if it followed "Subject: "), or a copy when it is plain printable ASCII. CR, LF and
 * other controls become spaces. */
char *mail_encode_header(const char *utf8);

/* Modified UTF-7 (RFC 3501 §5.1.3) for an IMAP mailbox name: "Traités" → "Trait&AOk-s". */
char *imap_utf7_encode(const char *utf8);

/* The reverse: UTF-8 from a modified UTF-7 mailbox name, or NULL when it is malformed
 * (bad base64, lone surrogate, printable ASCII encoded, raw 8-bit). Caller frees. */
char *imap_utf7_decode(const char *mutf7);

#endif
