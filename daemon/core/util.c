/* util — memory wrappers, growable strings and small file helpers (see util.h). */
#include "autoconf.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static void __attribute__((noreturn))
out_of_memory(size_t size)
{
	fprintf(stderr, "dialogd: out of memory allocating %zu bytes\n", size);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		out_of_memory(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

static void
strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

void
strbuf_reserve(struct strbuf *sb, size_t n)
{
	strbuf_grow(sb, n);
	sb->data[sb->len] = '\0';  /* a reserved buffer is already a valid (empty) string */
}

void
strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_adds(sb, s);
	free(s);
}

char *
strbuf_detach(struct strbuf *sb)
{
	char *s = sb->data ? sb->data : xstrdup("");
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

static char *
read_whole(const char *path, size_t max_size, bool allow_nul, size_t *len_r, char **error_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb = {0};
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (sb.len + n > max_size) {
			*error_r = xasprintf("%s: larger than %zu bytes", path, max_size);
			goto fail;
		}
		if (!allow_nul && memchr(chunk, '\0', n) != NULL) {
			*error_r = xasprintf("%s: contains a NUL byte", path);
			goto fail;
		}
		strbuf_add(&sb, chunk, n);
	}
	if (ferror(f)) {
		*error_r = xasprintf("%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (len_r)
		*len_r = sb.len;
	return strbuf_detach(&sb);
fail:
	fclose(f);
	strbuf_free(&sb);
	return NULL;
}

char *
file_read_all(const char *path, size_t max_size, size_t *len_r, char **error_r)
{
	return read_whole(path, max_size, false, len_r, error_r);
}

char *
file_read_bytes(const char *path, size_t max_size, size_t *len_r, char **error_r)
{
	return read_whole(path, max_size, true, len_r, error_r);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
dir_list(const char *dir, const char *suffix, char ***names_r, char **error_r)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		*error_r = xasprintf("%s: cannot open folder: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, suffix))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		bool regular = stat(path, &st) == 0 && S_ISREG(st.st_mode);
		free(path);
		if (!regular)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[count++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (count > 0)
		qsort(names, count, sizeof(*names), compare_names);
	*names_r = names;
	return (int)count;
}

void
str_array_free(char **array, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(array[i]);
	free(array);
}

char *
str_trim(char *s)
{
	char *start = s;
	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n')
		start++;
	size_t n = strlen(start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t' || start[n - 1] == '\r' || start[n - 1] == '\n'))
		n--;
	memmove(s, start, n);
	s[n] = '\0';
	return s;
}

bool
str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int
name_index(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; name != NULL && i < count; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

bool
str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Start and length of the authority's host in url. */
static const char *
url_host_span(const char *url, size_t *len_r)
{
	const char *p = strstr(url, "://");
	if (p == NULL)
		return NULL;
	p += 3;
	size_t auth = strcspn(p, "/?#");
	const char *at = memchr(p, '@', auth);
	if (at != NULL) {
		auth -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', auth);
		if (close == NULL)
			return NULL;
		*len_r = (size_t)(close - p) + 1;
		return p;
	}
	const char *colon = memchr(p, ':', auth);
	*len_r = colon ? (size_t)(colon - p) : auth;
	return *len_r > 0 ? p : NULL;
}

char *
url_host(const char *url)
{
	size_t n;
	const char *h = url_host_span(url, &n);
	if (h == NULL)
		return NULL;
	if (*h == '[')
		return xstrndup(h + 1, n - 2);
	return xstrndup(h, n);
}

int
url_port(const char *url, int default_port)
{
	size_t n;
	const char *h = url_host_span(url, &n);
	if (h == NULL)
		return -1;
	const char *p = h + n;
	if (*p != ':')
		return default_port;
	char *end;
	long port = strtol(p + 1, &end, 10);
	if (end == p + 1 || (*end != '\0' && *end != '/') || port <= 0 || port > 65535)
		return -1;
	return (int)port;
}

bool
host_is_loopback(const char *host)
{
	if (host == NULL)
		return false;
	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	/* 127.0.0.0/8 written as an address, not a name that starts with "127.". */
	struct in_addr addr;
	return inet_pton(AF_INET, host, &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

int
process_protect(char **error_r)
{
	const struct rlimit none = { 0, 0 };
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		*error_r = xasprintf("prctl(PR_SET_DUMPABLE, 0) failed: %s", strerror(errno));
		return -1;
	}
	if (setrlimit(RLIMIT_CORE, &none) < 0) {
		*error_r = xasprintf("setrlimit(RLIMIT_CORE, 0) failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

char *
user_name(uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);
	return pw != NULL ? xstrdup(pw->pw_name) : xasprintf("uid %lu", (unsigned long)uid);
}

char *
group_name(gid_t gid)
{
	const struct group *gr = getgrgid(gid);
	return gr != NULL ? xstrdup(gr->gr_name) : xasprintf("gid %lu", (unsigned long)gid);
}

double
monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
listen_parse(const char *listen, char **host_r, int *port_r, bool *ipv6_r, char **error_r)
{
	const char *colon, *host_start = listen, *host_end;
	*host_r = NULL;
	if (listen[0] == '[') {
		host_start = listen + 1;
		host_end = strchr(host_start, ']');
		colon = host_end != NULL && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		colon = strrchr(listen, ':');
		host_end = colon;
	}
	if (colon == NULL || colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) > 65535) {
		*error_r = xasprintf("\"%s\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", listen);
		return -1;
	}
	char *host = xstrndup(host_start, (size_t)(host_end - host_start));
	bool ipv6 = listen[0] == '[';
	unsigned char addr[sizeof(struct in6_addr)];
	if (inet_pton(ipv6 ? AF_INET6 : AF_INET, host, addr) != 1) {
		*error_r = xasprintf("\"%s\" is not a numeric %s address (e.g. 127.0.0.1, or [::1] in brackets)", host,
				     ipv6 ? "IPv6" : "IPv4");
		free(host);
		return -1;
	}
	*host_r = host;
	*port_r = atoi(colon + 1);
	*ipv6_r = ipv6;
	return 0;
}

int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
