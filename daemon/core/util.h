/* util — memory wrappers, growable strings and small file helpers shared by every module.
 * Out of memory aborts (a supervisor restarts the daemon): callers never check x*() results.
 * All memory returned belongs to the caller unless stated otherwise.
 * Threads: any (no shared state). */
#ifndef DIALOGD_UTIL_H
#define DIALOGD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A growable NUL-terminated byte string. */
struct strbuf {
	char *data;     /* always NUL-terminated once anything was added; may be NULL when empty */
	size_t len;     /* bytes used, without the NUL */
	size_t cap;     /* bytes allocated */
};

/* Makes room for n more bytes without changing the contents (saves regrowing). */
void strbuf_reserve(struct strbuf *sb, size_t n);
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (never NULL, caller frees) and resets sb to empty. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);

/* Reads a whole file, refusing one over max_size bytes or holding a NUL byte.
 * Returns the NUL-terminated contents (caller frees), or NULL and sets *error_r. */
char *file_read_all(const char *path, size_t max_size, size_t *len_r, char **error_r);
/* The same for bytes that may hold NUL (a raw mail, as IMAP delivers it): *len_r is the
 * length; a NUL is still added after the contents. */
char *file_read_bytes(const char *path, size_t max_size, size_t *len_r, char **error_r);

/* Lists the regular files of dir whose name ends in suffix, sorted by name.
 * Returns the count (names in *names_r, caller frees with str_array_free) or -1 and *error_r. */
int dir_list(const char *dir, const char *suffix, char ***names_r, char **error_r);
void str_array_free(char **array, size_t count);

/* Removes leading and trailing ASCII whitespace in place; returns s. */
char *str_trim(char *s);
bool str_ends_with(const char *s, const char *suffix);
bool str_starts_with(const char *s, const char *prefix);
/* The index of name in names[0..count) (the names of an enum, in its order), or -1 when
 * it is none of them or NULL. */
int name_index(const char *const *names, size_t count, const char *name);
#define NAME_INDEX(names, name) name_index((names), sizeof(names) / sizeof(*(names)), (name))

/* Keeps the secrets this process is about to read out of core dumps and out of reach of
 * ptrace by the same user: PR_SET_DUMPABLE 0 (the kernel also gives /proc/PID to root)
 * and a core size limit of 0, soft and hard. Called first by dialogd and dialogctl,
 * before any password is read, and again after each change of user (the kernel resets
 * dumpable then). Returns 0, or -1 with *error_r naming the call that failed. */
int process_protect(char **error_r);

/* The name of a user or group for messages: "nobody", or "uid 12345" / "gid 12345"
 * when the system has none. Caller frees. */
char *user_name(uid_t uid);
char *group_name(gid_t gid);

/* Seconds on the monotonic clock (durations and timeouts: a clock step changes nothing). */
double monotonic_seconds(void);

/* The host of a URL "scheme://[user@]host[:port][/...]" ("[::1]" gives "::1"), or NULL. */
char *url_host(const char *url);
/* The port of such a URL, or default_port when it has none; -1 when it is not a number. */
int url_port(const char *url, int default_port);
/* True for 127.0.0.0/8, ::1 and localhost: where a password may travel without TLS. */
bool host_is_loopback(const char *host);
/* Splits a listening address "a.b.c.d:port" or "[v6]:port" (numeric only: no name is
 * resolved; port 0 to 65535). Returns 0 with *host_r (caller frees), *port_r and
 * *ipv6_r, or -1 with *error_r naming what is wrong. */
/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit_value(int c);
int listen_parse(const char *listen, char **host_r, int *port_r, bool *ipv6_r, char **error_r);

#endif
