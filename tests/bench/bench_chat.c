/* bench_chat — a load generator for the website chat's WebSocket (README "Chat
 * protocol"): N clients each ask Q questions a second for S seconds, M more connections
 * only say hello and stay idle. One thread, epoll, non-blocking sockets and its own small
 * RFC 6455 client (handshake with Origin and Sec-WebSocket-Protocol, masked client
 * frames, unmasked server frames, pings answered), so that it costs the machine little
 * and talks to any server of the protocol (dialogd, or the Node peer of tests/bench/peer).
 * Latency: from the write of a message to the first event from the bot after its ack.
 * Prints one line of key=value pairs and a line for people.
 * Usage: bench_chat [--clients N] [--rate Q] [--duration S] [--idle M] [--pid PID]
 *                   [--timeout S] HOST PORT ORIGIN QUESTIONS.tsv */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Handshakes in flight at once: more only fills the server's accept backlog and measures
 * SYN retries, not the server. */
#define MAX_CONNECTING 256
#define IN_MAX 65536
#define OUT_MAX 8192

enum state {
	ST_NONE,       /* not started yet */
	ST_CONNECTING, /* connect() in progress */
	ST_UPGRADING,  /* the GET sent, waiting for 101 */
	ST_HELLO,      /* hello sent, waiting for welcome */
	ST_READY,      /* welcome received */
	ST_DEAD,       /* failed or closed */
};

struct conn {
	int fd;
	enum state state;
	bool active;             /* asks questions (else one of the idle) */
	bool waiting;            /* a question is out */
	bool acked;              /* ... and its ack came */
	bool late_marked;        /* the next question fell due while this one was out */
	uint64_t sent_at;        /* ns: the write of the question out */
	uint64_t next_at;        /* ns: when the next question is due */
	uint64_t deadline;       /* ns: handshake or answer timeout */
	unsigned serial;         /* of this client's messages */
	size_t in_len;
	size_t out_len;
	unsigned char in[IN_MAX];
	unsigned char out[OUT_MAX];
};

struct options {
	const char *host;
	int port;
	const char *origin;
	const char *questions;
	unsigned clients;
	unsigned idle;
	double rate;
	double duration;
	double timeout;
	int pid;
};

struct stats {
	unsigned long sent;
	unsigned long answered;
	unsigned long conn_errors;   /* connect, upgrade refused, closed before welcome */
	unsigned long closed;        /* closed by the server after welcome */
	unsigned long error_frames;  /* {"type":"error"} (rate_limited included) */
	unsigned long timeouts;      /* no answer within --timeout */
	unsigned long late;          /* a question due while the previous was still out */
	unsigned long pings;
	unsigned long not_tried;     /* connections given up before their start (see connect_all) */
	double *lat_ms;
	size_t lat_n;
	size_t lat_cap;
};

static struct options opt = { .clients = 1000, .rate = 1.0, .duration = 60.0, .timeout = 10.0 };
static struct stats st;
static struct conn *conns;
static unsigned nconns;
static int epfd;
static char **questions;
static size_t nquestions;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static bool measuring;
static unsigned timeouts_in_row;  /* handshakes timed out since the last that succeeded */  /* answers counted only during the measured phase */

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masks, keys and jitter need spread, not secrecy. */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double
rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_chat: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- questions: the first column of a TSV with a header line ---- */

/* The text as a JSON string's content: the TSV writes a newline as \n. */
static char *
json_escape_tsv(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n * 6 + 1), *o = out;
	if (out == NULL)
		die("malloc");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\\' && s[1] == 'n') {
			*o++ = '\\';
			*o++ = 'n';
			s++;
		} else if (ch == '"' || ch == '\\') {
			*o++ = '\\';
			*o++ = (char)ch;
		} else if (ch < 0x20) {
			o += sprintf(o, "\\u%04x", ch);
		} else {
			*o++ = (char)ch;
		}
	}
	*o = '\0';
	return out;
}

static void
questions_load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die(path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool header = true;
	while ((len = getline(&line, &cap, f)) >= 0) {
		line[strcspn(line, "\t\r\n")] = '\0';
		if (header) {
			header = false;
			continue;
		}
		if (line[0] == '\0')
			continue;
		questions = realloc(questions, (nquestions + 1) * sizeof(*questions));
		if (questions == NULL)
			die("realloc");
		questions[nquestions++] = json_escape_tsv(line);
	}
	free(line);
	fclose(f);
	if (nquestions == 0) {
		fprintf(stderr, "bench_chat: %s: no questions\n", path);
		exit(2);
	}
}

/* ---- output and frames ---- */

static void
conn_fail(struct conn *c, unsigned long *counter)
{
	if (c->state == ST_DEAD)
		return;
	if (counter != NULL)
		(*counter)++;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = ST_DEAD;
	c->waiting = false;
}

static void
want_write(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
flush_out(struct conn *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_write(c, true);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn_fail(c, c->state == ST_READY ? &st.closed : &st.conn_errors);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	want_write(c, false);
}

static void
queue_raw(struct conn *c, const void *data, size_t n)
{
	if (c->out_len + n > OUT_MAX) {
		conn_fail(c, &st.conn_errors);
		return;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
}

/* A client frame: FIN set, masked (RFC 6455 section 5.3). */
static void
queue_frame(struct conn *c, int opcode, const char *payload, size_t n)
{
	unsigned char head[14];
	size_t h = 0;
	head[h++] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		head[h++] = (unsigned char)(0x80 | n);
	} else {
		head[h++] = 0x80 | 126;
		head[h++] = (unsigned char)(n >> 8);
		head[h++] = (unsigned char)n;
	}
	uint32_t m = (uint32_t)rnd();
	unsigned char mask[4] = { (unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16),
				  (unsigned char)(m >> 24) };
	memcpy(head + h, mask, 4);
	h += 4;
	if (c->out_len + h + n > OUT_MAX || n > 65535) {
		conn_fail(c, &st.conn_errors);
		return;
	}
	queue_raw(c, head, h);
	for (size_t i = 0; i < n; i++)
		c->out[c->out_len + i] = (unsigned char)payload[i] ^ mask[i % 4];
	c->out_len += n;
}

static void
send_text(struct conn *c, const char *text)
{
	queue_frame(c, 0x1, text, strlen(text));
	if (c->state != ST_DEAD)
		flush_out(c);
}

/* ---- the handshake ---- */

static void
base64(const unsigned char *in, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
send_upgrade(struct conn *c)
{
	unsigned char key[16];
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)rnd();
	char key64[32];
	base64(key, sizeof(key), key64);
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "GET /chat HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n"
			 "Sec-WebSocket-Protocol: dialogd.chat.v1\r\n\r\n",
			 opt.host, opt.port, key64, opt.origin);
	queue_raw(c, req, (size_t)n);
	c->state = ST_UPGRADING;
	flush_out(c);
}

static void
conn_start(struct conn *c, uint64_t now)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = ST_DEAD;
		st.conn_errors++;
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	inet_pton(AF_INET, opt.host, &sa.sin_addr);
	c->deadline = now + (uint64_t)(opt.timeout * 1e9);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->state = ST_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		conn_fail(c, &st.conn_errors);
}

/* ---- what the server says ---- */

/* The string value of "key" in a flat JSON object, or NULL; *len_r its length (escapes
 * left as they are: the values looked at here have none). */
static const char *
json_field(const char *json, size_t n, const char *key, size_t *len_r)
{
	char pat[32];
	int pn = snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *end = json + n;
	for (const char *p = json; p + pn <= end; p++) {
		if (memcmp(p, pat, (size_t)pn) != 0)
			continue;
		const char *v = p + pn;
		while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
			v++;
		if (v >= end || *v != ':')
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
			v++;
		if (v >= end || *v != '"')
			return NULL;
		const char *s = ++v;
		while (v < end && *v != '"') {
			if (*v == '\\')
				v++;
			v++;
		}
		*len_r = (size_t)(v - s);
		return s;
	}
	return NULL;
}

static bool
field_is(const char *json, size_t n, const char *key, const char *value)
{
	size_t len;
	const char *v = json_field(json, n, key, &len);
	return v != NULL && len == strlen(value) && memcmp(v, value, len) == 0;
}

/* The schedule goes on from the question's due time, not from its answer, so that a
 * slow answer does not lower the rate asked; a client more than a second behind (a
 * server that cannot keep up) starts again from now rather than firing its backlog. */
static void
schedule_next(struct conn *c, uint64_t now)
{
	/* ±20 % jitter around the mean interval, so that the clients drift apart. */
	double interval = (0.8 + 0.4 * rnd_unit()) / opt.rate;
	c->next_at += (uint64_t)(interval * 1e9);
	c->late_marked = false;
	if (c->next_at + 1000000000ull < now)
		c->next_at = now;
}

static void
record_latency(uint64_t ns)
{
	if (st.lat_n == st.lat_cap) {
		st.lat_cap = st.lat_cap ? st.lat_cap * 2 : 65536;
		st.lat_ms = realloc(st.lat_ms, st.lat_cap * sizeof(*st.lat_ms));
		if (st.lat_ms == NULL)
			die("realloc");
	}
	st.lat_ms[st.lat_n++] = (double)ns / 1e6;
}

static void
on_text(struct conn *c, const char *json, size_t n, uint64_t now)
{
	if (c->state == ST_HELLO) {
		if (field_is(json, n, "type", "welcome")) {
			c->state = ST_READY;
			c->deadline = 0;
			timeouts_in_row = 0;
		} else {
			conn_fail(c, &st.conn_errors);
		}
		return;
	}
	if (field_is(json, n, "type", "error")) {
		st.error_frames++;
		if (c->waiting)  /* refused: this question gets no answer; the next stays on time */
			c->waiting = false;
		return;
	}
	if (!c->waiting)
		return;
	if (field_is(json, n, "type", "ack")) {
		c->acked = true;
	} else if (c->acked && field_is(json, n, "type", "event") && field_is(json, n, "from", "bot")) {
		c->waiting = false;
		if (measuring) {
			st.answered++;
			record_latency(now - c->sent_at);
		}
	}
}

/* Frames from the server (unmasked, RFC 6455 section 5.1); fragments are put together
 * in place. Returns false once the connection is gone. */
static bool
read_frames(struct conn *c, uint64_t now)
{
	size_t off = 0;
	while (c->in_len - off >= 2) {
		unsigned char *p = c->in + off;
		int opcode = p[0] & 0x0f;
		bool fin = p[0] & 0x80;
		if (p[1] & 0x80) {  /* a server never masks */
			conn_fail(c, &st.closed);
			return false;
		}
		size_t h = 2, len = p[1] & 0x7f;
		if (len == 126) {
			if (c->in_len - off < 4)
				break;
			len = (size_t)p[2] << 8 | p[3];
			h = 4;
		} else if (len == 127) {
			if (c->in_len - off < 10)
				break;
			len = 0;
			for (int i = 2; i < 10; i++)
				len = len << 8 | p[i];
			h = 10;
		}
		if (len > IN_MAX - 16) {
			conn_fail(c, &st.closed);
			return false;
		}
		if (c->in_len - off < h + len)
			break;
		char *payload = (char *)p + h;
		if (opcode == 0x9) {
			st.pings++;
			queue_frame(c, 0xA, payload, len);
		} else if (opcode == 0x8) {
			conn_fail(c, c->state == ST_READY ? &st.closed : &st.conn_errors);
			return false;
		} else if ((opcode == 0x1 || opcode == 0x0) && fin) {
			on_text(c, payload, len, now);
			if (c->state == ST_DEAD)
				return false;
		} else if (opcode == 0x1 || opcode == 0x0) {
			/* Not the last fragment: the server's frames of one message are small,
			 * and neither server here fragments them; count it and go on. */
			st.error_frames++;
		}
		off += h + len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->out_len > 0)
		flush_out(c);
	return c->state != ST_DEAD;
}

static void
on_upgrade_reply(struct conn *c, uint64_t now)
{
	unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (end == NULL) {
		if (c->in_len == IN_MAX)
			conn_fail(c, &st.conn_errors);
		return;
	}
	size_t head = (size_t)(end - c->in) + 4;
	if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0 ||
	    memmem(c->in, head, "dialogd.chat.v1", 15) == NULL) {
		conn_fail(c, &st.conn_errors);
		return;
	}
	memmove(c->in, c->in + head, c->in_len - head);
	c->in_len -= head;
	c->state = ST_HELLO;
	send_text(c, "{\"type\":\"hello\",\"session\":null,\"last_seq\":0}");
	if (c->state != ST_DEAD && c->in_len > 0)
		read_frames(c, now);
}

static void
on_readable(struct conn *c, uint64_t now)
{
	for (;;) {
		if (c->in_len == IN_MAX) {
			conn_fail(c, &st.closed);
			return;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn_fail(c, c->state == ST_READY ? &st.closed : &st.conn_errors);
			return;
		}
		c->in_len += (size_t)n;
		if (c->state == ST_UPGRADING)
			on_upgrade_reply(c, now);
		else if (c->state == ST_HELLO || c->state == ST_READY)
			read_frames(c, now);
		if (c->state == ST_DEAD)
			return;
	}
}

static void
on_event(struct conn *c, uint32_t events, uint64_t now)
{
	if (c->state == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
			conn_fail(c, &st.conn_errors);
			return;
		}
		if (events & EPOLLOUT)
			send_upgrade(c);
		return;
	}
	if (events & EPOLLIN)
		on_readable(c, now);
	if (c->state != ST_DEAD && (events & EPOLLOUT))
		flush_out(c);
	if (c->state != ST_DEAD && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		conn_fail(c, c->state == ST_READY ? &st.closed : &st.conn_errors);
}

static void
ask(struct conn *c, uint64_t now)
{
	char frame[4096];
	const char *q = questions[rnd() % nquestions];
	unsigned ix = (unsigned)(c - conns);
	snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"b%u-%u\",\"text\":\"%s\"}", ix, c->serial++, q);
	c->waiting = true;
	c->acked = false;
	c->sent_at = now_ns();
	c->deadline = c->sent_at + (uint64_t)(opt.timeout * 1e9);
	st.sent++;
	send_text(c, frame);
	schedule_next(c, now);
}

/* ---- the server's memory ---- */

struct proc_mem {
	double rss_mb;
	double hwm_mb;
	double cpu_s;
};

static struct proc_mem
proc_mem(int pid)
{
	struct proc_mem m = { -1, -1, -1 };
	if (pid <= 0)
		return m;
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned long kb;
			if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
				m.rss_mb = kb / 1024.0;
			else if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
				m.hwm_mb = kb / 1024.0;
		}
		fclose(f);
	}
	/* utime and stime, fields 14 and 15 of /proc/PID/stat (after the comm in brackets). */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f != NULL) {
		char buf[1024];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		unsigned long ut, stime;
		if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stime) == 2)
			m.cpu_s = (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	return m;
}

static double
self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- the run ---- */

static void
raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < nconns + 16)
		fprintf(stderr, "bench_chat: warning: %llu open files allowed for %u connections (ulimit -n)\n",
			(unsigned long long)rl.rlim_cur, nconns);
}

/* One turn of the loop: events, then due questions and timeouts. */
static void
service(int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(epfd, evs, 512, timeout_ms);
	if (n < 0 && errno != EINTR)
		die("epoll_wait");
	uint64_t now = now_ns();
	for (int i = 0; i < n; i++)
		on_event(evs[i].data.ptr, evs[i].events, now);
}

static void
expire(uint64_t now)
{
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->state == ST_CONNECTING || c->state == ST_UPGRADING || c->state == ST_HELLO) {
			if (now > c->deadline) {
				conn_fail(c, &st.conn_errors);
				timeouts_in_row++;
			}
		} else if (c->state == ST_READY && c->waiting && now > c->deadline) {
			c->waiting = false;
			if (measuring)
				st.timeouts++;
		}
	}
}

/* Every connection opened, at most MAX_CONNECTING at once; returns how many are ready.
 * A server at its own connection limit stops accepting (dialogd holds its listener) and
 * each further handshake would wait out --timeout: after MAX_CONNECTING handshakes
 * timed out in a row, the connections not yet started count as refused. */
static unsigned
connect_all(void)
{
	unsigned next = 0;
	uint64_t last_expire = 0;
	for (;;) {
		if (timeouts_in_row >= MAX_CONNECTING && next < nconns) {
			st.not_tried = nconns - next;
			st.conn_errors += st.not_tried;
			for (; next < nconns; next++)
				conns[next].state = ST_DEAD;
		}
		unsigned pending = 0, ready = 0;
		for (unsigned i = 0; i < next; i++) {
			if (conns[i].state == ST_CONNECTING || conns[i].state == ST_UPGRADING || conns[i].state == ST_HELLO)
				pending++;
			else if (conns[i].state == ST_READY)
				ready++;
		}
		uint64_t now = now_ns();
		while (next < nconns && pending < MAX_CONNECTING) {
			conn_start(&conns[next++], now);
			pending++;
		}
		if (next == nconns && pending == 0)
			return ready;
		service(10);
		if (now - last_expire > 100000000ull) {
			expire(now_ns());
			last_expire = now;
		}
	}
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
percentile(double p)
{
	if (st.lat_n == 0)
		return 0;
	size_t i = (size_t)ceil(p * (double)st.lat_n) - 1;
	return st.lat_ms[i < st.lat_n ? i : st.lat_n - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_chat [--clients N] [--rate Q] [--duration S] [--idle M] [--pid PID] [--timeout S] "
			"HOST PORT ORIGIN QUESTIONS.tsv\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(a, "--clients") == 0 && has)
			opt.clients = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--idle") == 0 && has)
			opt.idle = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--rate") == 0 && has)
			opt.rate = strtod(argv[++i], NULL);
		else if (strcmp(a, "--duration") == 0 && has)
			opt.duration = strtod(argv[++i], NULL);
		else if (strcmp(a, "--timeout") == 0 && has)
			opt.timeout = strtod(argv[++i], NULL);
		else if (strcmp(a, "--pid") == 0 && has)
			opt.pid = atoi(argv[++i]);
		else if (a[0] == '-')
			usage();
		else if (pos == 0 && ++pos)
			opt.host = a;
		else if (pos == 1 && ++pos)
			opt.port = atoi(a);
		else if (pos == 2 && ++pos)
			opt.origin = a;
		else if (pos == 3 && ++pos)
			opt.questions = a;
		else
			usage();
	}
	if (pos != 4 || opt.port <= 0 || opt.rate <= 0 || opt.duration <= 0 || opt.timeout <= 0)
		usage();
}

int
main(int argc, char **argv)
{
	parse_args(argc, argv);
	questions_load(opt.questions);
	rng_state ^= (uint64_t)getpid() << 17 ^ now_ns();
	nconns = opt.clients + opt.idle;
	conns = calloc(nconns ? nconns : 1, sizeof(*conns));
	if (conns == NULL)
		die("calloc");
	raise_nofile();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	/* The active clients first, then the idle ones. */
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].active = i < opt.clients;
	}
	uint64_t t_connect = now_ns();
	unsigned ready = connect_all();
	double connect_s = (double)(now_ns() - t_connect) / 1e9;
	unsigned active_ready = 0;
	for (unsigned i = 0; i < opt.clients; i++)
		active_ready += conns[i].state == ST_READY;

	/* Each active client starts at a random point of its first interval. */
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < opt.clients; i++)
		conns[i].next_at = t0 + (uint64_t)(rnd_unit() / opt.rate * 1e9);
	struct proc_mem before = proc_mem(opt.pid);
	double self_before = self_cpu_s();
	double rss_max = before.rss_mb;
	measuring = true;
	uint64_t t_end = t0 + (uint64_t)(opt.duration * 1e9), last_expire = t0, last_sample = t0;
	for (;;) {
		uint64_t now = now_ns();
		bool sending = now < t_end;
		bool out = false;
		uint64_t next_due = now + 50000000ull;
		for (unsigned i = 0; i < opt.clients; i++) {
			struct conn *c = &conns[i];
			if (c->state != ST_READY)
				continue;
			if (c->waiting) {
				out = true;
				if (sending && now >= c->next_at && !c->late_marked) {
					st.late++;  /* sent as soon as the answer is in */
					c->late_marked = true;
				}
				continue;
			}
			if (!sending)
				continue;
			if (now >= c->next_at)
				ask(c, now);
			if (c->state == ST_READY && !c->waiting && c->next_at < next_due)
				next_due = c->next_at;
		}
		if (!sending && !out)
			break;
		if (now > t_end + (uint64_t)((opt.timeout + 1) * 1e9))
			break;
		int wait_ms = next_due > now ? (int)((next_due - now + 999999) / 1000000) : 0;
		service(wait_ms);
		now = now_ns();
		if (now - last_expire > 100000000ull) {
			expire(now);
			last_expire = now;
		}
		if (now - last_sample > 1000000000ull) {
			struct proc_mem m = proc_mem(opt.pid);
			if (m.rss_mb > rss_max)
				rss_max = m.rss_mb;
			last_sample = now;
		}
	}
	double elapsed = (double)(now_ns() - t0) / 1e9;
	struct proc_mem after = proc_mem(opt.pid);
	if (after.rss_mb > rss_max)
		rss_max = after.rss_mb;
	double self_cpu = self_cpu_s() - self_before;
	unsigned held = 0;
	for (unsigned i = 0; i < nconns; i++)
		held += conns[i].state == ST_READY;
	qsort(st.lat_ms, st.lat_n, sizeof(*st.lat_ms), compare_doubles);
	unsigned long errors = st.conn_errors + st.closed + st.error_frames + st.timeouts;
	double server_cpu = after.cpu_s >= 0 && before.cpu_s >= 0 ? after.cpu_s - before.cpu_s : -1;
	printf("clients=%u idle=%u connected=%u held=%u sent=%lu answered=%lu errors=%lu conn_errors=%lu closed=%lu "
	       "error_frames=%lu timeouts=%lu late=%lu not_tried=%lu answers_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
	       "max_ms=%.3f rss_mb=%.1f rss_max_mb=%.1f hwm_mb=%.1f server_cpu_pct=%.1f bench_cpu_pct=%.1f "
	       "connect_s=%.2f elapsed_s=%.2f\n",
	       opt.clients, opt.idle, ready, held, st.sent, st.answered, errors, st.conn_errors, st.closed,
	       st.error_frames, st.timeouts, st.late, st.not_tried, st.answered / elapsed, percentile(0.50), percentile(0.90),
	       percentile(0.99), st.lat_n ? st.lat_ms[st.lat_n - 1] : 0.0, after.rss_mb, rss_max, after.hwm_mb,
	       server_cpu >= 0 ? 100.0 * server_cpu / elapsed : -1.0, 100.0 * self_cpu / elapsed, connect_s, elapsed);
	printf("# %u of %u connections up in %.1f s (%u of %u asking); %lu questions, %lu answers (%.0f/s), "
	       "p50 %.2f ms, p99 %.2f ms, max %.2f ms; %lu errors; server RSS %.1f MB (peak %.1f MB)\n",
	       ready, nconns, connect_s, active_ready, opt.clients, st.sent, st.answered, st.answered / elapsed,
	       percentile(0.50), percentile(0.99), st.lat_n ? st.lat_ms[st.lat_n - 1] : 0.0, errors, after.rss_mb, rss_max);
	for (unsigned i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	for (size_t i = 0; i < nquestions; i++)
		free(questions[i]);
	free(questions);
	free(conns);
	free(st.lat_ms);
	close(epfd);
	return 0;
}
