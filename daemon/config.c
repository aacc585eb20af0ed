/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/un.h>

#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/storage/backend.h"
#include "shm/layout.h"

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)
#define POOL_BACKEND_SIZE sizeof(((struct pool_config *)NULL)->backend)

enum section_kind {
	SECTION_NONE, /* before the first section header */
	SECTION_DAEMON,
	SECTION_POOL,
	SECTION_STREAM,
};

struct parser;

struct key {
	const char *name;
	/* Parses @value into @dst (the field at @offset); returns 0 or the error from fail(). */
	int (*parse)(struct parser *p, const struct key *k, const char *value, void *dst);
	size_t offset; /* into struct daemon_config or struct pool_config */
	uint32_t min, max;
};

#define SECTION_KEYS_MAX 16

struct parser {
	const char *path;
	FILE *file;
	struct daemon_config *cfg;
	size_t pools_allocated;

	/* The physical line, as read; inih gets a copy and cuts its copy up. */
	char *line;
	size_t line_size;
	unsigned lineno;
	const char *text; /* the line without a BOM and leading whitespace */

	/*
	 * The section is tracked here, not taken from inih: inih never tells the handler about a
	 * header (so an empty section or the header's line would be lost) and cuts section names
	 * to 49 bytes.
	 */
	enum section_kind section_kind;
	char *section; /* text between the brackets */
	size_t pool;   /* index into cfg->pools in a pool section */
	size_t stream; /* index into cfg->streams in a stream section */
	size_t streams_allocated;
	unsigned daemon_line;
	unsigned key_line[SECTION_KEYS_MAX]; /* where each key of this section was given, or 0 */
	const char *key;                     /* the key being parsed, for messages */

	/* The first error only: the reader stops feeding inih once it is set. */
	bool failed;
	int error_code;
	unsigned error_line;
	char *error;
};

static int parse_u32(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_u64(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_alignment(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_backend(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_socket(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_log_level(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_bool(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_user(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_group(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_create_group(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_mode(struct parser *p, const struct key *k, const char *value, void *dst);
static int parse_pool_name(struct parser *p, const struct key *k, const char *value, void *dst);

static const struct key daemon_keys[] = {
	{ "socket", parse_socket, offsetof(struct daemon_config, socket_path), 0, 0 },
	{ "max_sessions", parse_u32, offsetof(struct daemon_config, max_sessions), 1, 1000000 },
	{ "max_message_size", parse_u32, offsetof(struct daemon_config, max_message_size), 4096,
	  1048576 },
	{ "max_pool_frames", parse_u32, offsetof(struct daemon_config, limits.max_pool_frames), 1,
	  UINT32_MAX },
	{ "max_frame_size", parse_u32, offsetof(struct daemon_config, limits.max_frame_size), 1,
	  UINT32_MAX },
	{ "log_level", parse_log_level, offsetof(struct daemon_config, log_level), 0, 0 },
	{ "max_pool_sessions", parse_u32, offsetof(struct daemon_config, max_pool_sessions), 1,
	  CONFIG_POOL_SESSIONS_MAX },
	{ "keep_created_pools", parse_bool, offsetof(struct daemon_config, keep_created_pools), 0,
	  0 },
	{ "max_sessions_per_uid", parse_u32, offsetof(struct daemon_config, max_sessions_per_uid),
	  1, 1000000 },
	{ "max_pools_per_uid", parse_u32, offsetof(struct daemon_config, max_pools_per_uid), 0,
	  UINT32_MAX },
	{ "max_pool_bytes_per_uid", parse_u64,
	  offsetof(struct daemon_config, max_pool_bytes_per_uid), 0, 0 },
	{ "max_frames_per_session", parse_u32,
	  offsetof(struct daemon_config, max_frames_per_session), 0, UINT32_MAX },
	{ "create_group", parse_create_group, 0, 0, 0 },
	{ "created_pool_mode", parse_mode, offsetof(struct daemon_config, created_pool_mode), 0,
	  0 },
};

static const struct key pool_keys[] = {
	{ "frames", parse_u32, offsetof(struct pool_config, framing.frames), 1, UINT32_MAX },
	{ "frame_size", parse_u32, offsetof(struct pool_config, framing.frame_size), 1,
	  UINT32_MAX },
	{ "alignment", parse_alignment, offsetof(struct pool_config, framing.file_alignment), 1,
	  FRAMING_ALIGNMENT_MAX },
	{ "backend", parse_backend, offsetof(struct pool_config, backend), 0, 0 },
	{ "optional", parse_bool, offsetof(struct pool_config, optional), 0, 0 },
	{ "lock", parse_bool, offsetof(struct pool_config, locked), 0, 0 },
	{ "owner", parse_user, offsetof(struct pool_config, access.owner), 0, 0 },
	{ "group", parse_group, offsetof(struct pool_config, access.group), 0, 0 },
	{ "mode", parse_mode, offsetof(struct pool_config, access.mode), 0, 0 },
};

static const struct key stream_keys[] = {
	{ "pool", parse_pool_name, offsetof(struct stream_config, pool), 0, 0 },
	{ "owner", parse_user, offsetof(struct stream_config, access.owner), 0, 0 },
	{ "group", parse_group, offsetof(struct stream_config, access.group), 0, 0 },
	{ "mode", parse_mode, offsetof(struct stream_config, access.mode), 0, 0 },
};

_Static_assert(ELEMENTSOF(daemon_keys) <= SECTION_KEYS_MAX, "key_line too small");
_Static_assert(ELEMENTSOF(stream_keys) <= SECTION_KEYS_MAX, "key_line too small");
_Static_assert(ELEMENTSOF(pool_keys) <= SECTION_KEYS_MAX, "key_line too small");

int config_init(struct daemon_config *cfg)
{
	*cfg = (struct daemon_config){
		.max_sessions = 1024,
		.max_message_size = 65536,
		.limits = {
			.max_pool_frames = 4096,
			.max_frame_size = 256u << 20,
		},
		.log_level = LOG_LEVEL_INFO,
		.max_pool_sessions = 64,
		.max_sessions_per_uid = 512,
		.max_pools_per_uid = 64,
		.max_pool_bytes_per_uid = UINT64_C(4) << 30,
		.created_pool_mode = ACCESS_DEFAULT_MODE,
	};
	cfg->socket_path = strdup(CONFIG_DEFAULT_SOCKET);
	if (!cfg->socket_path)
		return -ENOMEM;
	return 0;
}

void config_deinit(struct daemon_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->socket_path);
	free(cfg->pools);
	free(cfg->streams);
	/* Zeroed, so that a second deinit (or a deinit after a failed init) is harmless. */
	*cfg = (struct daemon_config){ 0 };
}

struct daemon_config *config_free(struct daemon_config *cfg)
{
	config_deinit(cfg);
	free(cfg);
	return NULL;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

/*
 * Section names, keys and values come from the file: a control character among them would
 * break the one-line promise of the message (or drive a terminal), so those are escaped.
 */
static char *escape_controls(char *s)
{
	size_t n = 0;
	char *e, *q;

	for (const char *c = s; *c; c++)
		n += ((unsigned char)*c < 0x20 || *c == 0x7f) ? 4 : 1;
	if (n == strlen(s))
		return s;
	e = malloc(n + 1);
	if (!e) {
		free(s);
		return NULL;
	}
	q = e;
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			q += sprintf(q, "\\x%02x", (unsigned char)*c);
		else
			*q++ = *c;
	}
	*q = '\0';
	free(s);
	return e;
}

static void set_error(struct parser *p, unsigned line, int code, char *msg)
{
	free(p->error);
	p->error = msg ? escape_controls(msg) : NULL;
	p->error_code = p->error ? code : -ENOMEM;
	p->error_line = line;
	p->failed = true;
}

/*
 * Records the first error: "PATH:LINE: [SECTION] KEY: what", where the section and the key are
 * left out when NULL and the line when 0. Returns -EINVAL (-ENOMEM if the message could not
 * be built), for the caller to pass on.
 */
static int vfail(struct parser *p, unsigned line, const char *section, const char *key,
		 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int vfail(struct parser *p, unsigned line, const char *section, const char *key,
		 const char *fmt, va_list ap)
{
	char where[16] = "";
	char *what, *msg;

	if (p->failed)
		return -EINVAL;

	what = vformat(fmt, ap);
	if (!what) {
		set_error(p, line, -ENOMEM, NULL);
		return -ENOMEM;
	}
	if (line > 0)
		snprintf(where, sizeof(where), ":%u", line);
	if (section && key)
		msg = format("%s%s: [%s] %s: %s", p->path, where, section, key, what);
	else if (section)
		msg = format("%s%s: [%s]: %s", p->path, where, section, what);
	else if (key)
		msg = format("%s%s: %s: %s", p->path, where, key, what);
	else
		msg = format("%s%s: %s", p->path, where, what);
	free(what);
	set_error(p, line, -EINVAL, msg);
	return p->error_code;
}

static int fail(struct parser *p, unsigned line, const char *section, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(struct parser *p, unsigned line, const char *section, const char *key,
		const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, line, section, key, fmt, ap);
	va_end(ap);
	return r;
}

static int fail_syntax(struct parser *p, unsigned line, const char *what)
{
	return fail(p, line, NULL, NULL, "syntax error: %s", what);
}

/* An error about the value of the key being parsed, on the current line. */
static int fail_key(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_key(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, p->lineno, p->section, p->key, fmt, ap);
	va_end(ap);
	return r;
}

static int fail_errno(struct parser *p, unsigned line, int error)
{
	char *msg;

	if (p->failed)
		return error;
	/* %m rather than strerror(): it is thread-safe and needs no buffer. */
	errno = -error;
	msg = format("%s: %m", p->path);
	set_error(p, line, error, msg);
	return p->error_code;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Decimal, no sign, no spaces, an optional 1024-based suffix: K, M or G, each optionally
 * followed by "iB", all case-insensitive.
 */
static int parse_number(struct parser *p, const char *value, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (value[0] == '-')
		return fail_key(p, "must not be negative, got \"%s\"", value);
	if (!is_digit(value[0]))
		return fail_key(p, "expected a decimal number, got \"%s\"", value);

	/* The first character is a digit, so strtoull() cannot skip spaces or take a sign. */
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno == ERANGE || v > max)
		return fail_key(p, "\"%s\" is too large (at most %" PRIu64 ")", value, max);

	if (*end != '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			break;
		}
		if (shift == 0 || (end[1] != '\0' && strcasecmp(end + 1, "iB") != 0))
			return fail_key(p,
					"unknown suffix \"%s\" in \"%s\" (expected K, M, G, KiB, "
					"MiB or GiB)",
					end, value);
		if (v > (max >> shift))
			return fail_key(p, "\"%s\" is too large (at most %" PRIu64 ")", value, max);
	}

	*ret = v << shift;
	return 0;
}

static int parse_u32(struct parser *p, const struct key *k, const char *value, void *dst)
{
	uint64_t v = 0;
	int r;

	r = parse_number(p, value, UINT32_MAX, &v);
	if (r < 0)
		return r;
	if (v < k->min || v > k->max) {
		if (k->min == 1 && k->max == UINT32_MAX)
			return fail_key(p, "must be greater than 0");
		return fail_key(p, "must be between %" PRIu32 " and %" PRIu32, k->min, k->max);
	}
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

/* A byte count past 4G: up to 2^62, K, M and G suffixes. */
static int parse_u64(struct parser *p, const struct key *k, const char *value, void *dst)
{
	uint64_t v = 0;
	int r;

	r = parse_number(p, value, UINT64_C(1) << 62, &v);
	if (r < 0)
		return r;
	*(uint64_t *)dst = v;
	return 0;
}

static int parse_alignment(struct parser *p, const struct key *k, const char *value, void *dst)
{
	uint64_t v = 0;
	int r;

	r = parse_number(p, value, UINT32_MAX, &v);
	if (r < 0)
		return r;
	if (v < k->min || v > k->max || (v & (v - 1)) != 0)
		return fail_key(p, "must be a power of two from %" PRIu32 " to %" PRIu32, k->min,
				k->max);
	/* The framing holds KSALLOCATOR_FRAMING's FileAlignment: a mask, not a byte count. */
	*(uint32_t *)dst = (uint32_t)v - 1;
	return 0;
}

static int parse_backend(struct parser *p, const struct key *k, const char *value, void *dst)
{
	struct backend_error why;
	struct backend b;

	(void)k;
	/* Whether this machine has it is for the pool's creation to say (and "optional"). */
	if (strcmp(value, BACKEND_DEVICE) == 0 || backend_parse(value, &b, &why) == 0) {
		snprintf(dst, POOL_BACKEND_SIZE, "%s", value);
		return 0;
	}
	return fail_key(p, "%s", why.message);
}

static int parse_pool_name(struct parser *p, const struct key *k, const char *value, void *dst)
{
	const char *problem = shm_name_problem(value);

	(void)k;
	if (problem)
		return fail_key(p, "%s", problem);
	snprintf(dst, CONFIG_POOL_NAME_MAX + 1, "%s", value);
	return 0;
}

static int parse_socket(struct parser *p, const struct key *k, const char *value, void *dst)
{
	char **path = dst;
	size_t len = strlen(value);
	char *copy;

	(void)k;

	if (value[0] != '/')
		return fail_key(p, "must be an absolute path, got \"%s\"", value);
	if (len > SOCKET_PATH_MAX)
		return fail_key(p, "is %zu bytes long, but sockaddr_un.sun_path holds at most %zu",
				len, SOCKET_PATH_MAX);

	copy = strdup(value);
	if (!copy)
		return fail_errno(p, p->lineno, -ENOMEM);
	free(*path);
	*path = copy;
	return 0;
}

static int parse_bool(struct parser *p, const struct key *k, const char *value, void *dst)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0) {
		*(bool *)dst = true;
		return 0;
	}
	if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0) {
		*(bool *)dst = false;
		return 0;
	}
	return fail_key(p, "expected yes or no, got \"%s\"", value);
}

/* All digits: a number that fits in 31 bits (a uid or gid, never -1). */
static bool parse_id(const char *value, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (!is_digit(value[0]))
		return false;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end || errno || v > INT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static int parse_user(struct parser *p, const struct key *k, const char *value, void *dst)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	uint32_t id;

	if (parse_id(value, &id)) {
		*(uid_t *)dst = (uid_t)id;
		return 0;
	}
	if (getpwnam_r(value, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return fail_key(p, "unknown user \"%s\"", value);
	*(uid_t *)dst = found->pw_uid;
	return 0;
}

static int parse_group(struct parser *p, const struct key *k, const char *value, void *dst)
{
	struct group gr, *found = NULL;
	char buf[4096];
	uint32_t id;

	if (parse_id(value, &id)) {
		*(gid_t *)dst = (gid_t)id;
		return 0;
	}
	if (getgrnam_r(value, &gr, buf, sizeof(buf), &found) != 0 || !found)
		return fail_key(p, "unknown group \"%s\"", value);
	*(gid_t *)dst = found->gr_gid;
	return 0;
}

static int parse_create_group(struct parser *p, const struct key *k, const char *value, void *dst)
{
	struct daemon_config *cfg = p->cfg;

	/* Empty: anyone who can connect may create pools. */
	cfg->create_group_set = value[0] != '\0';
	if (!cfg->create_group_set)
		return 0;
	return parse_group(p, k, value, &cfg->create_group);
}

/* Octal, as chmod takes it: 0660 or 660. */
static int parse_mode(struct parser *p, const struct key *k, const char *value, void *dst)
{
	unsigned long v;
	char *end;

	if (!value[0] || strspn(value, "01234567") != strlen(value) || strlen(value) > 4)
		return fail_key(p, "expected an octal mode such as 0660, got \"%s\"", value);
	v = strtoul(value, &end, 8);
	if (v > ACCESS_MODE_MASK)
		return fail_key(p, "expected an octal mode such as 0660, got \"%s\"", value);
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int parse_log_level(struct parser *p, const struct key *k, const char *value, void *dst)
{
	int level;

	(void)k;

	level = log_level_from_string(value);
	if (level < 0)
		return fail_key(p,
				"unknown log level \"%s\" (expected error, warning, info or debug)",
				value);
	*(enum log_level *)dst = (enum log_level)level;
	return 0;
}

static int pool_add(struct parser *p, const char *name)
{
	struct daemon_config *cfg = p->cfg;
	struct pool_config *pool;

	if (cfg->n_pools == p->pools_allocated) {
		size_t n = p->pools_allocated ? p->pools_allocated * 2 : 8;
		struct pool_config *pools;

		pools = reallocarray(cfg->pools, n, sizeof(*pools));
		if (!pools)
			return fail_errno(p, p->lineno, -ENOMEM);
		cfg->pools = pools;
		p->pools_allocated = n;
	}

	pool = &cfg->pools[cfg->n_pools];
	/* frames and frame_size stay 0 until given; check_pools() reports them missing. */
	/* By default a pool belongs to the daemon's own user and group, as its files would. */
	*pool = (struct pool_config){
		.line = p->lineno,
		.access = { .owner = geteuid(), .group = getegid(), .mode = ACCESS_DEFAULT_MODE },
	};
	snprintf(pool->name, sizeof(pool->name), "%s", name);
	snprintf(pool->backend, sizeof(pool->backend), "%s", backend_memfd.name);
	p->pool = cfg->n_pools++;
	return 0;
}

static int stream_add(struct parser *p, const char *name)
{
	struct daemon_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_streams; i++)
		if (strcmp(cfg->streams[i].name, name) == 0)
			return fail(p, p->lineno, p->section, NULL,
				    "defined twice (first on line %u)", cfg->streams[i].line);
	if (cfg->n_streams == p->streams_allocated) {
		size_t n = p->streams_allocated ? p->streams_allocated * 2 : 8;
		struct stream_config *streams = reallocarray(cfg->streams, n, sizeof(*streams));

		if (!streams)
			return fail_errno(p, p->lineno, -ENOMEM);
		cfg->streams = streams;
		p->streams_allocated = n;
	}
	cfg->streams[cfg->n_streams] = (struct stream_config){
		.line = p->lineno,
		.access = { .owner = geteuid(), .group = getegid(), .mode = ACCESS_DEFAULT_MODE },
	};
	snprintf(cfg->streams[cfg->n_streams].name, CONFIG_POOL_NAME_MAX + 1, "%s", name);
	p->stream = cfg->n_streams++;
	p->section_kind = SECTION_STREAM;
	return 0;
}

static int section_begin(struct parser *p, const char *text, size_t len)
{
	const char *problem, *name;
	char *section;

	section = strndup(text, len);
	if (!section)
		return fail_errno(p, p->lineno, -ENOMEM);
	free(p->section);
	p->section = section;
	p->section_kind = SECTION_NONE;
	memset(p->key_line, 0, sizeof(p->key_line));

	if (strcmp(section, "daemon") == 0) {
		if (p->daemon_line > 0)
			return fail(p, p->lineno, section, NULL, "given twice (first on line %u)",
				    p->daemon_line);
		p->daemon_line = p->lineno;
		p->section_kind = SECTION_DAEMON;
		return 0;
	}

	if (strcmp(section, "pool") == 0)
		return fail(p, p->lineno, section, NULL,
			    "pool name missing (expected [pool NAME])");
	if (strcmp(section, "stream") == 0)
		return fail(p, p->lineno, section, NULL,
			    "stream name missing (expected [stream NAME])");
	if (strncmp(section, "stream ", 7) == 0) {
		problem = shm_name_problem(section + 7);
		if (problem)
			return fail(p, p->lineno, section, NULL, "%s", problem);
		return stream_add(p, section + 7);
	}
	if (strncmp(section, "pool ", 5) != 0)
		return fail(p, p->lineno, section, NULL,
			    "unknown section (expected [daemon], [pool NAME] or [stream NAME])");

	name = section + 5;
	problem = shm_name_problem(name);
	if (problem)
		return fail(p, p->lineno, section, NULL, "%s", problem);
	for (size_t i = 0; i < p->cfg->n_pools; i++)
		if (strcmp(p->cfg->pools[i].name, name) == 0)
			return fail(p, p->lineno, section, NULL, "defined twice (first on line %u)",
				    p->cfg->pools[i].line);

	p->section_kind = SECTION_POOL;
	return pool_add(p, name);
}

/*
 * Where a "[section]" header ends, the way inih sees it: at the first ']', unless an inline
 * comment (a ';' after whitespace) comes first, in which case inih reports a syntax error.
 */
static const char *section_end(const char *s)
{
	bool was_space = false;

	for (; *s && *s != ']'; s++) {
		if (was_space && *s == ';')
			return NULL;
		was_space = is_space(*s);
	}
	return *s == ']' ? s : NULL;
}

/*
 * inih's reader: called once per physical line, before inih calls the handler for it, which
 * is how the handler knows the line number (Debian builds inih without INI_HANDLER_LINENO).
 * getline() rather than fgets() because fgets() would split a line longer than inih's buffer
 * into several "lines" and hide NUL bytes.
 */
static char *read_line(char *buf, int size, void *userdata)
{
	struct parser *p = userdata;
	size_t len, text_len;
	const char *end;
	ssize_t n;
	char *s;

	/* Only the first error is reported: stop parsing there. */
	if (p->failed)
		return NULL;

	errno = 0;
	n = getline(&p->line, &p->line_size, p->file);
	if (n < 0) {
		if (ferror(p->file))
			fail_errno(p, p->lineno + 1, errno > 0 ? -errno : -EIO);
		else if (errno == ENOMEM)
			fail_errno(p, p->lineno + 1, -ENOMEM);
		return NULL;
	}
	p->lineno++;

	s = p->line;
	if (strlen(s) != (size_t)n) {
		fail_syntax(p, p->lineno, "NUL byte in line");
		return NULL;
	}
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	/*
	 * Leading whitespace goes, so that inih never sees a Python-style continuation line: an
	 * indented line is an ordinary line here, not a second value for the previous key.
	 */
	while (is_space(*s) && *s != '\n')
		s++;
	p->text = s;

	/* inih's buffer must hold the text, a newline and a NUL. */
	len = strlen(s);
	text_len = len > 0 && s[len - 1] == '\n' ? len - 1 : len;
	if (size < 2 || text_len > (size_t)size - 2) {
		fail(p, p->lineno, NULL, NULL, "syntax error: line longer than %d characters",
		     size - 2);
		return NULL;
	}

	if (s[0] == '[') {
		end = section_end(s + 1);
		if (end && section_begin(p, s + 1, (size_t)(end - s - 1)) < 0)
			return NULL;
	}

	memcpy(buf, s, len + 1);
	return buf;
}

static const struct key *section_keys(enum section_kind kind, size_t *ret_n)
{
	if (kind == SECTION_DAEMON) {
		*ret_n = ELEMENTSOF(daemon_keys);
		return daemon_keys;
	}
	if (kind == SECTION_STREAM) {
		*ret_n = ELEMENTSOF(stream_keys);
		return stream_keys;
	}
	*ret_n = ELEMENTSOF(pool_keys);
	return pool_keys;
}

static int fail_unknown_key(struct parser *p, const struct key *keys, size_t n)
{
	char valid[512] = "";
	size_t len = 0;
	const char *s;
	char *name;
	int r;

	/* snprintf() returns what it would have written: stop before the offset passes the end. */
	for (size_t i = 0; i < n && len < sizeof(valid); i++)
		len += (size_t)snprintf(valid + len, sizeof(valid) - len, "%s%s", i ? ", " : "",
					keys[i].name);

	/* inih cuts names to 49 bytes; the message quotes the whole key from the line. */
	s = p->text;
	len = strcspn(s, "=:");
	while (len > 0 && is_space(s[len - 1]))
		len--;
	name = strndup(s, len);
	if (!name)
		return fail_errno(p, p->lineno, -ENOMEM);
	r = fail(p, p->lineno, p->section, name, "unknown key (valid keys: %s)", valid);
	free(name);
	return r;
}

static int handle_key(void *userdata, const char *section, const char *name, const char *value)
{
	struct parser *p = userdata;
	const struct key *keys;
	size_t n_keys, i;
	void *obj;

	/* inih's section name may be cut short; read_line() keeps the real one. */
	(void)section;

	if (p->failed)
		return 0;
	/* A name-only line (if someone turned on ini_allow_no_value) or "= value". */
	if (!value || name[0] == '\0') {
		fail_syntax(p, p->lineno, "expected 'key = value' or '[section]'");
		return 0;
	}
	if (p->section_kind == SECTION_NONE) {
		fail(p, p->lineno, NULL, name,
		     "key outside any section (expected [daemon], [pool NAME] or [stream NAME] "
		     "before it)");
		return 0;
	}

	keys = section_keys(p->section_kind, &n_keys);
	for (i = 0; i < n_keys; i++)
		if (strcmp(name, keys[i].name) == 0)
			break;
	if (i == n_keys) {
		fail_unknown_key(p, keys, n_keys);
		return 0;
	}

	p->key = keys[i].name;
	if (p->key_line[i] > 0) {
		fail_key(p, "given twice (first on line %u)", p->key_line[i]);
		return 0;
	}
	p->key_line[i] = p->lineno;

	if (p->section_kind == SECTION_DAEMON)
		obj = p->cfg;
	else if (p->section_kind == SECTION_STREAM)
		obj = &p->cfg->streams[p->stream];
	else
		obj = &p->cfg->pools[p->pool];
	return keys[i].parse(p, &keys[i], value, (char *)obj + keys[i].offset) == 0;
}

/* The pool key behind each KSALLOCATOR_FRAMING field that a config can set. */
static const char *field_key(const char *field)
{
	static const struct {
		const char *field;
		const char *key;
	} fields[] = {
		{ "Frames", "frames" },
		{ "FrameSize", "frame_size" },
		{ "FileAlignment", "alignment" },
	};

	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (strcmp(field, fields[i].field) == 0)
			return fields[i].key;
	return NULL;
}

/* Rules that need the whole file: required keys, and limits that may be set after a pool. */
static int check_pools(struct parser *p)
{
	const struct daemon_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct pool_config *pool = &cfg->pools[i];
		const char *field, *reason;
		char section[CONFIG_POOL_NAME_MAX + 6];

		snprintf(section, sizeof(section), "pool %s", pool->name);
		/* A zero here means "not given": a given zero was refused while parsing. */
		if (pool->framing.frames == 0)
			return fail(p, pool->line, section, "frames", "required key missing");
		if (pool->framing.frame_size == 0)
			return fail(p, pool->line, section, "frame_size", "required key missing");
		if (framing_validate(&pool->framing, &cfg->limits, &field, &reason) < 0)
			return fail(p, pool->line, section, field_key(field), "%s", reason);
	}
	return 0;
}

/* Each stream names a pool of this file: streams live on pools the daemon keeps. */
static int check_streams(struct parser *p)
{
	const struct daemon_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_streams; i++) {
		const struct stream_config *st = &cfg->streams[i];
		char section[CONFIG_POOL_NAME_MAX + 8];
		bool found = false;

		snprintf(section, sizeof(section), "stream %s", st->name);
		if (!st->pool[0])
			return fail(p, st->line, section, "pool", "required key missing");
		for (size_t k = 0; k < cfg->n_pools && !found; k++)
			found = strcmp(cfg->pools[k].name, st->pool) == 0;
		if (!found)
			return fail(p, st->line, section, "pool",
				    "no [pool %s] in this file: a declared stream lives on a pool "
				    "the config declares",
				    st->pool);
	}
	return 0;
}

static void parser_done(struct parser *p)
{
	free(p->line);
	free(p->section);
	free(p->error);
	if (p->file)
		fclose(p->file);
	config_free(p->cfg);
}

int config_load(const char *path, struct daemon_config **ret_config, char **ret_error)
{
	struct parser p = { .path = path };
	int r;

	p.file = fopen(path, "re");
	if (!p.file) {
		r = fail_errno(&p, 0, -errno);
		goto out;
	}

	p.cfg = malloc(sizeof(*p.cfg));
	if (!p.cfg || config_init(p.cfg) < 0) {
		r = fail_errno(&p, 0, -ENOMEM);
		goto out;
	}

	r = ini_parse_stream(read_line, &p, handle_key, &p);
	if (r == -2) {
		r = fail_errno(&p, 0, -ENOMEM);
		goto out;
	}
	/*
	 * inih reports its own syntax errors only through its result, the line of the first error
	 * of any kind: if that comes before the handler's or the reader's, it is the first error.
	 */
	if (r > 0 && (!p.failed || (unsigned)r < p.error_line)) {
		p.failed = false;
		fail_syntax(&p, (unsigned)r, "expected 'key = value' or '[section]'");
	}
	if (p.failed) {
		r = p.error_code;
		goto out;
	}

	r = check_pools(&p);
	if (r == 0)
		r = check_streams(&p);
	if (r < 0)
		goto out;

	*ret_config = p.cfg;
	p.cfg = NULL;
	r = 0;
out:
	if (r < 0 && ret_error) {
		*ret_error = p.error;
		p.error = NULL;
	}
	parser_done(&p);
	return r;
}
