/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/ksalloc-check.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

struct loaded {
	char path[PATH_MAX];
	int r;
	struct daemon_config *cfg;
	char *error;
};

/* Its address is what config_load() must leave in *ret_config when it fails. */
static struct daemon_config untouched;
static char untouched_error[] = "untouched";

/*
 * Writes @data to a fresh file (mkstemp() in a mkdtemp() directory under /tmp), loads it, and
 * removes both before returning: a failed assertion ends a forked test at once, and this way
 * it still leaves nothing behind.
 */
static void load_bytes(const void *data, size_t len, struct loaded *ret)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	ssize_t n;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(ret->path, sizeof(ret->path), "%s/ksallocd-XXXXXX", dir);
	fd = mkstemp(ret->path);
	ck_assert_int_ge(fd, 0);
	n = write(fd, data, len);
	close(fd);

	ret->cfg = &untouched;
	ret->error = untouched_error;
	ret->r = config_load(ret->path, &ret->cfg, &ret->error);

	ck_assert_int_eq(unlink(ret->path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(n, (ssize_t)len);
}

/* Loads @text, which must be valid; the caller frees the result with config_free(). */
static struct daemon_config *load_valid(const char *text)
{
	struct loaded l;

	load_bytes(text, strlen(text), &l);
	ck_assert_ptr_eq(l.error, untouched_error);
	ck_assert_int_eq(l.r, 0);
	ck_assert_ptr_nonnull(l.cfg);
	ck_assert_ptr_ne(l.cfg, &untouched);
	return l.cfg;
}

/*
 * Loads @len bytes that config_load() must refuse with -EINVAL and the message "PATH" followed
 * by @expected, leaving *ret_config untouched. A macro, so that a failure names the test's line.
 */
#define assert_rejects_bytes(data, len, expected)                            \
	do {                                                                 \
		struct loaded l_;                                            \
		char want_[PATH_MAX + 1024];                                 \
                                                                             \
		load_bytes((data), (len), &l_);                              \
		snprintf(want_, sizeof(want_), "%s%s", l_.path, (expected)); \
		ck_assert_int_eq(l_.r, -EINVAL);                             \
		ck_assert_ptr_eq(l_.cfg, &untouched);                        \
		ck_assert_ptr_ne(l_.error, untouched_error);                 \
		ck_assert_ptr_nonnull(l_.error);                             \
		ck_assert_str_eq(l_.error, want_);                           \
		free(l_.error);                                              \
	} while (0)

#define assert_rejects(text, expected) assert_rejects_bytes((text), strlen(text), (expected))

/* Where the source tree is: __FILE__ is absolute in a CMake build, relative in a manual one. */
static void source_path(const char *relative, char *buf, size_t size)
{
	const char *file = __FILE__;
	const char *tail = strstr(file, "tests/unit/test-config.c");
	int prefix = tail ? (int)(tail - file) : 0;

	snprintf(buf, size, "%.*s%s", prefix, file, relative);
}

/* ---- valid files ---- */

START_TEST(test_config_init_sets_the_documented_defaults)
{
	struct daemon_config cfg;

	ck_assert_int_eq(config_init(&cfg), 0);
	ck_assert_str_eq(cfg.socket_path, CONFIG_DEFAULT_SOCKET);
	ck_assert_uint_eq(cfg.max_sessions, 1024);
	ck_assert_uint_eq(cfg.max_message_size, 65536);
	ck_assert_uint_eq(cfg.limits.max_pool_frames, 4096);
	ck_assert_uint_eq(cfg.limits.max_frame_size, 256u * 1024 * 1024);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(cfg.max_pool_sessions, 64);
	ck_assert(!cfg.keep_created_pools);
	ck_assert(!cfg.create_group_set);
	ck_assert_uint_eq(cfg.created_pool_mode, 0660);
	ck_assert_uint_eq(cfg.max_sessions_per_uid, 512);
	ck_assert_uint_eq(cfg.max_pools_per_uid, 64);
	ck_assert_uint_eq(cfg.max_pool_bytes_per_uid, 4ull << 30);
	ck_assert_uint_eq(cfg.max_frames_per_session, 0);
	ck_assert_ptr_null(cfg.pools);
	ck_assert_uint_eq(cfg.n_pools, 0);
	config_deinit(&cfg);
	/* Deinit leaves a state that a second deinit accepts. */
	config_deinit(&cfg);
}
END_TEST

START_TEST(test_config_free_and_deinit_accept_null)
{
	ck_assert_ptr_null(config_free(NULL));
	config_deinit(NULL);
}
END_TEST

START_TEST(test_log_level_from_string_parses_the_four_names_only)
{
	ck_assert_int_eq(log_level_from_string("error"), LOG_LEVEL_ERROR);
	ck_assert_int_eq(log_level_from_string("warning"), LOG_LEVEL_WARNING);
	ck_assert_int_eq(log_level_from_string("info"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_level_from_string("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_from_string("INFO"), -EINVAL);
	ck_assert_int_eq(log_level_from_string("warn"), -EINVAL);
	ck_assert_int_eq(log_level_from_string(""), -EINVAL);
	ck_assert_int_eq(log_level_from_string(NULL), -EINVAL);
}
END_TEST

START_TEST(test_config_reads_every_key_of_a_full_file_exactly)
{
	struct daemon_config *cfg = load_valid("[daemon]\n"
					       "socket = /run/test/ksallocd.sock\n"
					       "max_sessions = 7\n"
					       "max_message_size = 64KiB\n"
					       "max_pool_frames = 1K\n"
					       "max_frame_size = 3G\n"
					       "log_level = debug\n"
					       "max_pool_sessions = 1K\n"
					       "keep_created_pools = yes\n"
					       "create_group = root\n"
					       "created_pool_mode = 640\n"
					       "max_sessions_per_uid = 3\n"
					       "max_pools_per_uid = 0\n"
					       "max_pool_bytes_per_uid = 64G\n"
					       "max_frames_per_session = 9\n"
					       "\n"
					       "[pool video-1080p]\n"
					       "frames = 8\n"
					       "frame_size = 3110400\n"
					       "alignment = 64\n"
					       "backend = memfd\n"
					       "owner = 1234\n"
					       "group = root\n"
					       "mode = 0604\n"
					       "; a comment\n"
					       "# another comment\n"
					       "\n"
					       "[pool A.b_c-9]\n"
					       "frames = 1k\n"
					       "frame_size = 4MiB\n"
					       "alignment = 4096\n"
					       "backend = dmaheap:system\n"
					       "optional = yes\n"
					       "lock = yes\n");

	ck_assert_str_eq(cfg->socket_path, "/run/test/ksallocd.sock");
	ck_assert_uint_eq(cfg->max_sessions, 7);
	ck_assert_uint_eq(cfg->max_message_size, 65536);
	ck_assert_uint_eq(cfg->limits.max_pool_frames, 1024);
	ck_assert_uint_eq(cfg->limits.max_frame_size, 3221225472u);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(cfg->max_pool_sessions, 1024);
	ck_assert(cfg->keep_created_pools);
	ck_assert(cfg->create_group_set);
	ck_assert_uint_eq(cfg->create_group, 0);
	ck_assert_uint_eq(cfg->created_pool_mode, 0640);
	ck_assert_uint_eq(cfg->max_sessions_per_uid, 3);
	ck_assert_uint_eq(cfg->max_pools_per_uid, 0);
	ck_assert_uint_eq(cfg->max_pool_bytes_per_uid, 64ull << 30);
	ck_assert_uint_eq(cfg->max_frames_per_session, 9);

	ck_assert_uint_eq(cfg->n_pools, 2);
	ck_assert_str_eq(cfg->pools[0].name, "video-1080p");
	ck_assert_uint_eq(cfg->pools[0].line, 17);
	ck_assert_uint_eq(cfg->pools[0].access.owner, 1234);
	ck_assert_uint_eq(cfg->pools[0].access.group, 0);
	ck_assert_uint_eq(cfg->pools[0].access.mode, 0604);
	ck_assert_uint_eq(cfg->pools[0].framing.frames, 8);
	ck_assert_uint_eq(cfg->pools[0].framing.frame_size, 3110400);
	ck_assert_uint_eq(cfg->pools[0].framing.file_alignment, 63);
	ck_assert_uint_eq(cfg->pools[0].framing.options_flags, 0);
	ck_assert_uint_eq(cfg->pools[0].framing.pool_type, 0);
	ck_assert_str_eq(cfg->pools[0].backend, "memfd");
	ck_assert(!cfg->pools[0].optional);
	ck_assert(!cfg->pools[0].locked);

	ck_assert_str_eq(cfg->pools[1].name, "A.b_c-9");
	ck_assert_uint_eq(cfg->pools[1].line, 28);
	/* Defaults: the daemon's own user and group, 0660. */
	ck_assert_uint_eq(cfg->pools[1].access.owner, geteuid());
	ck_assert_uint_eq(cfg->pools[1].access.group, getegid());
	ck_assert_uint_eq(cfg->pools[1].access.mode, 0660);
	ck_assert_uint_eq(cfg->pools[1].framing.frames, 1024);
	ck_assert_uint_eq(cfg->pools[1].framing.frame_size, 4u << 20);
	ck_assert_uint_eq(cfg->pools[1].framing.file_alignment, 4095);
	ck_assert_uint_eq(cfg->pools[1].framing.options_flags, 0);
	ck_assert_uint_eq(cfg->pools[1].framing.pool_type, 0);
	/* Named, not probed: whether this machine has it is the daemon's to say at start. */
	ck_assert_str_eq(cfg->pools[1].backend, "dmaheap:system");
	ck_assert(cfg->pools[1].optional);
	ck_assert(cfg->pools[1].locked);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_uses_defaults_when_daemon_section_is_absent)
{
	struct daemon_config *cfg = load_valid("[pool p]\nframes = 1\nframe_size = 1\n");

	ck_assert_str_eq(cfg->socket_path, CONFIG_DEFAULT_SOCKET);
	ck_assert_uint_eq(cfg->max_sessions, 1024);
	ck_assert_uint_eq(cfg->max_message_size, 65536);
	ck_assert_uint_eq(cfg->limits.max_pool_frames, 4096);
	ck_assert_uint_eq(cfg->limits.max_frame_size, 256u << 20);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(cfg->n_pools, 1);
	ck_assert_uint_eq(cfg->pools[0].line, 1);
	/* alignment defaults to 1 byte, which is the mask 0; backend to memfd. */
	ck_assert_uint_eq(cfg->pools[0].framing.file_alignment, 0);
	ck_assert_str_eq(cfg->pools[0].backend, "memfd");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_an_empty_file_as_all_defaults)
{
	struct daemon_config *cfg = load_valid("");

	ck_assert_str_eq(cfg->socket_path, CONFIG_DEFAULT_SOCKET);
	ck_assert_uint_eq(cfg->max_sessions, 1024);
	ck_assert_uint_eq(cfg->n_pools, 0);
	ck_assert_ptr_null(cfg->pools);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_an_empty_daemon_section_and_comment_only_file)
{
	struct daemon_config *cfg =
		load_valid("# nothing but comments\n; and a section\n[daemon]\n");

	ck_assert_uint_eq(cfg->max_sessions, 1024);
	ck_assert_uint_eq(cfg->n_pools, 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_applies_daemon_section_given_after_the_pools)
{
	struct daemon_config *cfg = load_valid("[pool big]\n"
					       "frames = 5000\n"
					       "frame_size = 300M\n"
					       "[daemon]\n"
					       "max_pool_frames = 5000\n"
					       "max_frame_size = 300M\n");

	ck_assert_uint_eq(cfg->limits.max_pool_frames, 5000);
	ck_assert_uint_eq(cfg->limits.max_frame_size, 300u << 20);
	ck_assert_uint_eq(cfg->pools[0].framing.frames, 5000);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_reads_size_suffixes_case_insensitively)
{
	static const struct {
		const char *value;
		uint32_t bytes;
	} sizes[] = {
		{ "1", 1 },
		{ "007", 7 },
		{ "1k", 1024 },
		{ "1K", 1024 },
		{ "1KiB", 1024 },
		{ "1kib", 1024 },
		{ "3m", 3u << 20 },
		{ "3MiB", 3u << 20 },
		{ "1g", 1u << 30 },
		{ "3GIB", 3u << 30 },
		{ "4194303K", 4194303u * 1024 },
		{ "4095M", 4095u << 20 },
		{ "4294967295", UINT32_MAX },
	};

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		struct daemon_config *cfg;
		char text[256];

		snprintf(text, sizeof(text), "[daemon]\nmax_frame_size = %s\n", sizes[i].value);
		cfg = load_valid(text);
		ck_assert_uint_eq(cfg->limits.max_frame_size, sizes[i].bytes);
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_config_accepts_every_alignment_that_is_a_power_of_two_up_to_4096)
{
	for (uint32_t alignment = 1; alignment <= 4096; alignment *= 2) {
		struct daemon_config *cfg;
		char text[256];

		snprintf(text, sizeof(text),
			 "[pool p]\nframes = 1\nframe_size = 1\nalignment = %u\n", alignment);
		cfg = load_valid(text);
		ck_assert_uint_eq(cfg->pools[0].framing.file_alignment, alignment - 1);
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_config_accepts_the_range_limits_of_daemon_keys)
{
	struct daemon_config *cfg;

	cfg = load_valid("[daemon]\nmax_sessions = 1\nmax_message_size = 4096\n"
			 "max_pool_frames = 1\nmax_frame_size = 1\nlog_level = error\n");
	ck_assert_uint_eq(cfg->max_sessions, 1);
	ck_assert_uint_eq(cfg->max_message_size, 4096);
	ck_assert_uint_eq(cfg->limits.max_pool_frames, 1);
	ck_assert_uint_eq(cfg->limits.max_frame_size, 1);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_ERROR);
	config_free(cfg);

	cfg = load_valid("[daemon]\nmax_sessions = 1000000\nmax_message_size = 1M\n"
			 "max_pool_frames = 4294967295\nlog_level = warning\n");
	ck_assert_uint_eq(cfg->max_sessions, 1000000);
	ck_assert_uint_eq(cfg->max_message_size, 1048576);
	ck_assert_uint_eq(cfg->limits.max_pool_frames, UINT32_MAX);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_WARNING);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_a_socket_path_of_107_bytes)
{
	char path[108], text[256];
	struct daemon_config *cfg;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(text, sizeof(text), "[daemon]\nsocket = %s\n", path);
	cfg = load_valid(text);
	ck_assert_str_eq(cfg->socket_path, path);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_a_pool_name_of_63_bytes)
{
	char name[64], text[256];
	struct daemon_config *cfg;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "[pool %s]\nframes = 1\nframe_size = 1\n", name);
	cfg = load_valid(text);
	ck_assert_str_eq(cfg->pools[0].name, name);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_indentation_crlf_bom_colons_and_inline_comments)
{
	struct daemon_config *cfg = load_valid("\xEF\xBB\xBF[daemon]\r\n"
					       "  max_sessions = 9 ; sessions\r\n"
					       "\tlog_level: debug\r\n"
					       "  [pool p] ; the pool\r\n"
					       "    frames=3\r\n"
					       "    frame_size =  5K   \r\n");

	ck_assert_uint_eq(cfg->max_sessions, 9);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(cfg->n_pools, 1);
	ck_assert_str_eq(cfg->pools[0].name, "p");
	ck_assert_uint_eq(cfg->pools[0].line, 4);
	ck_assert_uint_eq(cfg->pools[0].framing.frames, 3);
	ck_assert_uint_eq(cfg->pools[0].framing.frame_size, 5120);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_accepts_many_pools)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct daemon_config *cfg;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "[pool p%d]\nframes = %d\nframe_size = 4K\n", i, i + 1);
	ck_assert_int_eq(fclose(f), 0);

	cfg = load_valid(text);
	ck_assert_uint_eq(cfg->n_pools, 100);
	for (unsigned i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%u", i);
		ck_assert_str_eq(cfg->pools[i].name, name);
		ck_assert_uint_eq(cfg->pools[i].framing.frames, i + 1);
		ck_assert_uint_eq(cfg->pools[i].line, 3 * i + 1);
	}
	config_free(cfg);
	free(text);
}
END_TEST

START_TEST(test_config_loads_the_shipped_default_config)
{
	struct daemon_config *cfg = NULL;
	char path[PATH_MAX];
	char *error = NULL;

	source_path("systemd/ksallocd.conf", path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, &error) == 0, "%s", error ?: "");
	ck_assert_ptr_null(error);

	/* Unchanged defaults: the socket key is left commented out. */
	ck_assert_str_eq(cfg->socket_path, CONFIG_DEFAULT_SOCKET);
	ck_assert_uint_eq(cfg->max_sessions, 1024);
	ck_assert_uint_eq(cfg->max_message_size, 65536);
	ck_assert_uint_eq(cfg->limits.max_pool_frames, 4096);
	ck_assert_uint_eq(cfg->limits.max_frame_size, 256u << 20);
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_INFO);

	ck_assert_uint_eq(cfg->n_pools, 3);
	ck_assert_str_eq(cfg->pools[0].name, "video-1080p");
	ck_assert_uint_eq(cfg->pools[0].framing.frames, 8);
	ck_assert_uint_eq(cfg->pools[0].framing.frame_size, 1920 * 1080 * 3 / 2);
	ck_assert_uint_eq(cfg->pools[0].framing.file_alignment, 63);
	ck_assert_str_eq(cfg->pools[0].backend, "memfd");

	ck_assert_str_eq(cfg->pools[1].name, "video-2160p");
	ck_assert_uint_eq(cfg->pools[1].framing.frames, 4);
	ck_assert_uint_eq(cfg->pools[1].framing.frame_size, 3840 * 2160 * 3 / 2);
	ck_assert_uint_eq(cfg->pools[1].framing.file_alignment, 4095);
	ck_assert_str_eq(cfg->pools[1].backend, "memfd");

	ck_assert_str_eq(cfg->pools[2].name, "audio-period");
	ck_assert_uint_eq(cfg->pools[2].framing.frames, 32);
	ck_assert_uint_eq(cfg->pools[2].framing.frame_size, 1024 * 2 * 4);
	ck_assert_uint_eq(cfg->pools[2].framing.file_alignment, 63);
	ck_assert_str_eq(cfg->pools[2].backend, "memfd");
	config_free(cfg);
}
END_TEST

/* ---- files that cannot be read ---- */

START_TEST(test_config_reports_a_missing_file_with_strerror)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	struct daemon_config *cfg = &untouched;
	char path[PATH_MAX], want[PATH_MAX + 64];
	char *error = NULL;
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	r = config_load(path, &cfg, &error);
	ck_assert_int_eq(rmdir(dir), 0);

	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_eq(cfg, &untouched);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, want);
	free(error);
}
END_TEST

START_TEST(test_config_reports_a_directory_with_strerror)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	struct daemon_config *cfg = &untouched;
	char want[PATH_MAX + 64];
	char *error = NULL;
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	r = config_load(dir, &cfg, &error);
	ck_assert_int_eq(rmdir(dir), 0);

	snprintf(want, sizeof(want), "%s: Is a directory", dir);
	ck_assert_int_eq(r, -EISDIR);
	ck_assert_ptr_eq(cfg, &untouched);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, want);
	free(error);
}
END_TEST

START_TEST(test_config_leaves_ret_config_untouched_on_a_malformed_file)
{
	static const char text[] = "[pool p]\nframes = 8\nframe_size = x\n";
	struct loaded l;

	load_bytes(text, strlen(text), &l);
	ck_assert_int_eq(l.r, -EINVAL);
	ck_assert_ptr_eq(l.cfg, &untouched);
	ck_assert_ptr_nonnull(l.error);
	ck_assert_ptr_ne(l.error, untouched_error);
	free(l.error);
}
END_TEST

START_TEST(test_config_accepts_null_ret_error)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	struct daemon_config *cfg = &untouched;
	char path[PATH_MAX];
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	r = config_load(path, &cfg, NULL);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_eq(cfg, &untouched);
}
END_TEST

/* ---- syntax ---- */

START_TEST(test_config_rejects_a_line_without_equals_sign_as_syntax_error)
{
	assert_rejects("[daemon]\nmax_sessions = 5\nmax_sessions\n",
		       ":3: syntax error: expected 'key = value' or '[section]'");
}
END_TEST

START_TEST(test_config_rejects_an_unterminated_section_header_as_syntax_error)
{
	assert_rejects("[daemon]\n[pool p\nframes = 1\n",
		       ":2: syntax error: expected 'key = value' or '[section]'");
	/* inih takes " ;" for the start of a comment, even inside the brackets. */
	assert_rejects("[pool p ;x]\n", ":1: syntax error: expected 'key = value' or '[section]'");
}
END_TEST

START_TEST(test_config_rejects_a_key_without_a_name_as_syntax_error)
{
	assert_rejects("[daemon]\n= 5\n",
		       ":2: syntax error: expected 'key = value' or '[section]'");
}
END_TEST

START_TEST(test_config_rejects_a_key_before_any_section)
{
	assert_rejects(
		"max_sessions = 5\n[daemon]\n",
		":1: max_sessions: key outside any section (expected [daemon], [pool NAME] or "
		"[stream NAME] before it)");
}
END_TEST

START_TEST(test_config_rejects_a_line_longer_than_inih_can_hold)
{
	struct daemon_config *cfg;
	char text[256];

	/* A comment of 198 characters fits inih's 200-byte buffer with its newline and NUL. */
	memset(text, ';', 198);
	strcpy(text + 198, "\n");
	cfg = load_valid(text);
	ck_assert_uint_eq(cfg->n_pools, 0);
	config_free(cfg);

	memset(text, ';', 199);
	strcpy(text + 199, "\n");
	assert_rejects(text, ":1: syntax error: line longer than 198 characters");
}
END_TEST

START_TEST(test_config_rejects_a_nul_byte)
{
	static const char text[] = "[daemon]\nmax_sessions = 5\0junk\n";

	assert_rejects_bytes(text, sizeof(text) - 1, ":2: syntax error: NUL byte in line");
}
END_TEST

START_TEST(test_config_reports_only_the_first_error)
{
	/* A syntax error before a rule broken later on. */
	assert_rejects("[daemon]\nbroken\nmax_sessions = 0\n",
		       ":2: syntax error: expected 'key = value' or '[section]'");
	/* A rule broken before a later syntax error. */
	assert_rejects("[daemon]\nmax_sessions = 0\nbroken\n",
		       ":2: [daemon] max_sessions: must be between 1 and 1000000");
	/* A parse error before a pool that lacks its required keys. */
	assert_rejects(
		"[pool a]\n[daemon]\nlog_level = loud\n",
		":3: [daemon] log_level: unknown log level \"loud\" (expected error, warning, "
		"info or debug)");
}
END_TEST

START_TEST(test_config_treats_a_hash_after_a_value_as_part_of_the_value)
{
	assert_rejects(
		"[pool p]\nframes = 8 # eight\n",
		":2: [pool p] frames: unknown suffix \" # eight\" in \"8 # eight\" (expected K, "
		"M, G, KiB, MiB or GiB)");
}
END_TEST

START_TEST(test_config_escapes_control_characters_in_messages)
{
	assert_rejects(
		"[pool p]\nbackend = mem\x1b[2Jfd\n",
		":2: [pool p] backend: unknown backend \"mem\\x1b[2Jfd\" (known: memfd, hugetlb, udmabuf, "
		"dmaheap:<heap>)");
}
END_TEST

/* ---- sections ---- */

START_TEST(test_config_rejects_an_unknown_section)
{
	assert_rejects(
		"[daemon]\n[server]\nport = 1\n",
		":2: [server]: unknown section (expected [daemon], [pool NAME] or [stream NAME])");
	assert_rejects(
		"[Daemon]\n",
		":1: [Daemon]: unknown section (expected [daemon], [pool NAME] or [stream NAME])");
	assert_rejects(
		"[ daemon ]\n",
		":1: [ daemon ]: unknown section (expected [daemon], [pool NAME] or [stream NAME])");
	assert_rejects("[pool\tp]\n", ":1: [pool\\x09p]: unknown section (expected [daemon], "
				      "[pool NAME] or [stream NAME])");
	assert_rejects("[]\n",
		       ":1: []: unknown section (expected [daemon], [pool NAME] or [stream NAME])");
}
END_TEST

START_TEST(test_config_rejects_an_empty_section_with_an_unknown_name)
{
	/* inih does not report headers to the handler; the reader must catch them. */
	assert_rejects(
		"[nothing]\n",
		":1: [nothing]: unknown section (expected [daemon], [pool NAME] or [stream NAME])");
}
END_TEST

START_TEST(test_config_reads_streams_on_its_pools)
{
	struct daemon_config *cfg = load_valid("[pool video]\nframes = 4\nframe_size = 4096\n"
					       "[stream cam]\npool = video\nmode = 0640\n"
					       "group = 44\n[stream preview]\npool = video\n");

	ck_assert_uint_eq(cfg->n_streams, 2);
	ck_assert_str_eq(cfg->streams[0].name, "cam");
	ck_assert_str_eq(cfg->streams[0].pool, "video");
	ck_assert_uint_eq(cfg->streams[0].access.mode, 0640);
	ck_assert_uint_eq(cfg->streams[0].access.group, 44);
	ck_assert_uint_eq(cfg->streams[0].line, 4);
	ck_assert_uint_eq(cfg->streams[1].access.mode, 0660);
	ck_assert_uint_eq(cfg->streams[1].access.owner, geteuid());
	config_free(cfg);
}
END_TEST

START_TEST(test_config_rejects_a_stream_that_names_no_pool_of_the_file)
{
	assert_rejects("[stream cam]\nmode = 0640\n",
		       ":1: [stream cam] pool: required key missing");
	assert_rejects("[stream cam]\npool = video\n",
		       ":1: [stream cam] pool: no [pool video] in this file: a declared stream "
		       "lives on a pool the config declares");
	assert_rejects("[stream cam]\npool = ../x\n",
		       ":2: [stream cam] pool: pool name may only contain A-Z a-z 0-9 . _ -");
	assert_rejects("[stream]\n", ":1: [stream]: stream name missing (expected [stream NAME])");
	assert_rejects("[stream .x]\n",
		       ":1: [stream .x]: pool name must not start with '.' or '-'");
	assert_rejects("[pool v]\nframes = 1\nframe_size = 1\n[stream a]\npool = v\n"
		       "[stream a]\npool = v\n",
		       ":6: [stream a]: defined twice (first on line 4)");
	assert_rejects("[pool v]\nframes = 1\nframe_size = 1\n[stream a]\nframes = 2\n",
		       ":5: [stream a] frames: unknown key (valid keys: pool, owner, group, mode)");
}
END_TEST

START_TEST(test_config_rejects_a_pool_without_a_name)
{
	assert_rejects("[pool]\nframes = 1\n",
		       ":1: [pool]: pool name missing (expected [pool NAME])");
	assert_rejects("[pool ]\nframes = 1\n", ":1: [pool ]: pool name is empty");
}
END_TEST

START_TEST(test_config_rejects_a_pool_name_longer_than_63_bytes)
{
	char name[65], text[256], want[256];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "[pool %s]\nframes = 1\nframe_size = 1\n", name);
	snprintf(want, sizeof(want), ":1: [pool %s]: pool name is longer than 63 bytes", name);
	assert_rejects(text, want);
}
END_TEST

START_TEST(test_config_rejects_a_pool_name_with_a_bad_character)
{
	assert_rejects("[pool a/b]\n",
		       ":1: [pool a/b]: pool name may only contain A-Z a-z 0-9 . _ -");
	assert_rejects("[pool a b]\n",
		       ":1: [pool a b]: pool name may only contain A-Z a-z 0-9 . _ -");
	assert_rejects("[pool  a]\n",
		       ":1: [pool  a]: pool name may only contain A-Z a-z 0-9 . _ -");
	assert_rejects("[pool caf\xc3\xa9]\n",
		       ":1: [pool caf\xc3\xa9]: pool name may only contain A-Z a-z 0-9 . _ -");
}
END_TEST

START_TEST(test_config_rejects_a_pool_name_starting_with_dot_or_dash)
{
	assert_rejects("[pool .hidden]\n",
		       ":1: [pool .hidden]: pool name must not start with '.' or '-'");
	assert_rejects("[pool -opt]\n",
		       ":1: [pool -opt]: pool name must not start with '.' or '-'");
}
END_TEST

START_TEST(test_config_rejects_duplicate_pool_naming_both_lines)
{
	assert_rejects(
		"[pool a]\nframes = 1\nframe_size = 1\n\n[pool b]\nframes = 1\nframe_size = 1\n"
		"[pool a]\nframes = 2\n",
		":8: [pool a]: defined twice (first on line 1)");
}
END_TEST

START_TEST(test_config_rejects_duplicate_daemon_section_naming_both_lines)
{
	assert_rejects(
		"# limits\n[daemon]\nmax_sessions = 5\n[pool a]\nframes = 1\nframe_size = 1\n"
		"[daemon]\nlog_level = debug\n",
		":7: [daemon]: given twice (first on line 2)");
}
END_TEST

/* ---- keys ---- */

START_TEST(test_config_rejects_duplicate_key_naming_the_key)
{
	assert_rejects("[daemon]\nmax_sessions = 5\nlog_level = info\nmax_sessions = 6\n",
		       ":4: [daemon] max_sessions: given twice (first on line 2)");
	assert_rejects("[pool a]\nframes = 1\nframe_size = 1\nframes = 1\n",
		       ":4: [pool a] frames: given twice (first on line 2)");
}
END_TEST

START_TEST(test_config_allows_the_same_key_in_different_pools)
{
	struct daemon_config *cfg = load_valid("[pool a]\nframes = 1\nframe_size = 1\n"
					       "[pool b]\nframes = 2\nframe_size = 2\n");

	ck_assert_uint_eq(cfg->n_pools, 2);
	ck_assert_uint_eq(cfg->pools[1].framing.frames, 2);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_rejects_unknown_daemon_key_listing_the_valid_ones)
{
	assert_rejects("[daemon]\nmax_session = 5\n",
		       ":2: [daemon] max_session: unknown key (valid keys: socket, max_sessions, "
		       "max_message_size, max_pool_frames, max_frame_size, log_level, "
		       "max_pool_sessions, keep_created_pools, max_sessions_per_uid, "
		       "max_pools_per_uid, max_pool_bytes_per_uid, max_frames_per_session, "
		       "create_group, created_pool_mode)");
	/* A pool key is not a daemon key. */
	assert_rejects("[daemon]\nframes = 5\n",
		       ":2: [daemon] frames: unknown key (valid keys: socket, max_sessions, "
		       "max_message_size, max_pool_frames, max_frame_size, log_level, "
		       "max_pool_sessions, keep_created_pools, max_sessions_per_uid, "
		       "max_pools_per_uid, max_pool_bytes_per_uid, max_frames_per_session, "
		       "create_group, created_pool_mode)");
}
END_TEST

START_TEST(test_config_rejects_unknown_pool_key_listing_the_valid_ones)
{
	assert_rejects("[pool a]\nframes = 1\nFrameSize = 1\n",
		       ":3: [pool a] FrameSize: unknown key (valid keys: frames, frame_size, "
		       "alignment, backend, optional, lock, owner, group, mode)");
	assert_rejects("[pool a]\nlog_level = debug\n",
		       ":2: [pool a] log_level: unknown key (valid keys: frames, frame_size, "
		       "alignment, backend, optional, lock, owner, group, mode)");
}
END_TEST

START_TEST(test_config_quotes_a_long_unknown_key_whole)
{
	/* inih cuts key names to 49 bytes; the message must not. */
	assert_rejects("[pool a]\n"
		       "a_very_long_key_name_that_inih_would_cut_short_at_49_bytes = 1\n",
		       ":2: [pool a] a_very_long_key_name_that_inih_would_cut_short_at_49_bytes: "
		       "unknown key (valid keys: frames, frame_size, alignment, backend, optional, "
		       "lock, owner, group, mode)");
}
END_TEST

/* ---- values ---- */

struct bad_value {
	const char *section;
	const char *key;
	const char *value;
	const char *reason;
};

/* clang-format off */
#define NOT_A_NUMBER(s, k) { s, k, "many", "expected a decimal number, got \"many\"" }
#define NEGATIVE(s, k) { s, k, "-1", "must not be negative, got \"-1\"" }
#define OVERFLOW(s, k) { s, k, "4294967296", "\"4294967296\" is too large (at most 4294967295)" }
#define BAD_SUFFIX(s, k) \
	{ s, k, "8X", "unknown suffix \"X\" in \"8X\" (expected K, M, G, KiB, MiB or GiB)" }
/* clang-format on */

static const struct bad_value bad_values[] = {
	NOT_A_NUMBER("daemon", "max_sessions"),
	NEGATIVE("daemon", "max_sessions"),
	OVERFLOW("daemon", "max_sessions"),
	BAD_SUFFIX("daemon", "max_sessions"),
	{ "daemon", "max_sessions", "0", "must be between 1 and 1000000" },
	{ "daemon", "max_sessions", "1000001", "must be between 1 and 1000000" },
	{ "daemon", "max_sessions", "1G", "must be between 1 and 1000000" },

	NOT_A_NUMBER("daemon", "max_message_size"),
	NEGATIVE("daemon", "max_message_size"),
	OVERFLOW("daemon", "max_message_size"),
	BAD_SUFFIX("daemon", "max_message_size"),
	{ "daemon", "max_message_size", "0", "must be between 4096 and 1048576" },
	{ "daemon", "max_message_size", "4095", "must be between 4096 and 1048576" },
	{ "daemon", "max_message_size", "1025K", "must be between 4096 and 1048576" },

	NOT_A_NUMBER("daemon", "max_pool_frames"),
	NEGATIVE("daemon", "max_pool_frames"),
	OVERFLOW("daemon", "max_pool_frames"),
	BAD_SUFFIX("daemon", "max_pool_frames"),
	{ "daemon", "max_pool_frames", "0", "must be greater than 0" },

	NOT_A_NUMBER("daemon", "max_frame_size"),
	NEGATIVE("daemon", "max_frame_size"),
	OVERFLOW("daemon", "max_frame_size"),
	BAD_SUFFIX("daemon", "max_frame_size"),
	{ "daemon", "max_frame_size", "0", "must be greater than 0" },
	{ "daemon", "max_frame_size", "0M", "must be greater than 0" },
	{ "daemon", "max_frame_size", "4G", "\"4G\" is too large (at most 4294967295)" },
	{ "daemon", "max_frame_size", "4194304K",
	  "\"4194304K\" is too large (at most 4294967295)" },
	{ "daemon", "max_frame_size", "4096M", "\"4096M\" is too large (at most 4294967295)" },

	NOT_A_NUMBER("pool p", "frames"),
	NEGATIVE("pool p", "frames"),
	OVERFLOW("pool p", "frames"),
	BAD_SUFFIX("pool p", "frames"),
	{ "pool p", "frames", "0", "must be greater than 0" },

	NOT_A_NUMBER("pool p", "frame_size"),
	NEGATIVE("pool p", "frame_size"),
	OVERFLOW("pool p", "frame_size"),
	BAD_SUFFIX("pool p", "frame_size"),
	{ "pool p", "frame_size", "0", "must be greater than 0" },
	{ "pool p", "frame_size", "5G", "\"5G\" is too large (at most 4294967295)" },

	NOT_A_NUMBER("pool p", "alignment"),
	NEGATIVE("pool p", "alignment"),
	OVERFLOW("pool p", "alignment"),
	BAD_SUFFIX("pool p", "alignment"),
	{ "pool p", "alignment", "0", "must be a power of two from 1 to 4096" },
	{ "pool p", "alignment", "3", "must be a power of two from 1 to 4096" },
	{ "pool p", "alignment", "48", "must be a power of two from 1 to 4096" },
	{ "pool p", "alignment", "8192", "must be a power of two from 1 to 4096" },
	{ "pool p", "alignment", "1M", "must be a power of two from 1 to 4096" },

	/* The shapes a number must not have, on one key each. */
	{ "pool p", "frames", "", "expected a decimal number, got \"\"" },
	{ "pool p", "frames", "+8", "expected a decimal number, got \"+8\"" },
	{ "pool p", "frames", "0x10",
	  "unknown suffix \"x10\" in \"0x10\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frames", "1.5",
	  "unknown suffix \".5\" in \"1.5\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frame_size", "4 K",
	  "unknown suffix \" K\" in \"4 K\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frame_size", "4KB",
	  "unknown suffix \"KB\" in \"4KB\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frame_size", "4Ki",
	  "unknown suffix \"Ki\" in \"4Ki\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frame_size", "4T",
	  "unknown suffix \"T\" in \"4T\" (expected K, M, G, KiB, MiB or GiB)" },
	{ "pool p", "frame_size", "99999999999999999999999",
	  "\"99999999999999999999999\" is too large (at most 4294967295)" },

	{ "pool p", "backend", "dmaheap",
	  "backend dmaheap needs a heap: dmaheap:<heap>, e.g. "
	  "dmaheap:system" },
	{ "pool p", "backend", "dmaheap:",
	  "backend \"dmaheap:\": the heap name is empty "
	  "(dmaheap:<heap>, e.g. dmaheap:system)" },
	{ "pool p", "backend", "dmaheap:../x",
	  "backend \"dmaheap:../x\": a heap name may only "
	  "contain A-Z a-z 0-9 . _ - and not start with '.'" },
	{ "pool p", "backend", "hugetlb:x", "backend hugetlb takes no heap (\"hugetlb:x\")" },
	{ "pool p", "backend", "MEMFD",
	  "unknown backend \"MEMFD\" (known: memfd, hugetlb, "
	  "udmabuf, dmaheap:<heap>)" },
	{ "pool p", "backend", "",
	  "unknown backend \"\" (known: memfd, hugetlb, udmabuf, "
	  "dmaheap:<heap>)" },
	{ "pool p", "optional", "maybe", "expected yes or no, got \"maybe\"" },
	{ "pool p", "lock", "2", "expected yes or no, got \"2\"" },

	{ "daemon", "socket", "run/ksallocd.sock",
	  "must be an absolute path, got \"run/ksallocd.sock\"" },
	{ "daemon", "socket", "", "must be an absolute path, got \"\"" },
	{ "daemon", "socket",
	  "/run/ksallocd/a-socket-path-that-is-far-too-long-to-fit-into-the-sun-path-field-of-"
	  "sockaddr-un/ksallocd.sock",
	  "is 108 bytes long, but sockaddr_un.sun_path holds at most 107" },

	{ "daemon", "max_sessions_per_uid", "0", "must be between 1 and 1000000" },
	{ "daemon", "max_pool_bytes_per_uid", "5000000000000000000",
	  "\"5000000000000000000\" is too large (at most 4611686018427387904)" },
	{ "daemon", "max_pool_bytes_per_uid", "5000000000G",
	  "\"5000000000G\" is too large (at most 4611686018427387904)" },
	NOT_A_NUMBER("daemon", "max_frames_per_session"),

	NOT_A_NUMBER("daemon", "max_pool_sessions"),
	NEGATIVE("daemon", "max_pool_sessions"),
	{ "daemon", "max_pool_sessions", "0", "must be between 1 and 1024" },
	{ "daemon", "max_pool_sessions", "1025", "must be between 1 and 1024" },

	{ "daemon", "keep_created_pools", "maybe", "expected yes or no, got \"maybe\"" },
	{ "daemon", "keep_created_pools", "1", "expected yes or no, got \"1\"" },
	{ "daemon", "keep_created_pools", "", "expected yes or no, got \"\"" },

	{ "pool p", "owner", "no-such-user-here", "unknown user \"no-such-user-here\"" },
	{ "pool p", "owner", "-1", "unknown user \"-1\"" },
	{ "pool p", "owner", "", "unknown user \"\"" },
	{ "pool p", "group", "no-such-group-here", "unknown group \"no-such-group-here\"" },
	{ "daemon", "create_group", "no-such-group-here", "unknown group \"no-such-group-here\"" },
	{ "pool p", "mode", "", "expected an octal mode such as 0660, got \"\"" },
	{ "pool p", "mode", "rw-r-----", "expected an octal mode such as 0660, got \"rw-r-----\"" },
	{ "pool p", "mode", "0668", "expected an octal mode such as 0660, got \"0668\"" },
	{ "pool p", "mode", "4755", "expected an octal mode such as 0660, got \"4755\"" },
	{ "pool p", "mode", "00660", "expected an octal mode such as 0660, got \"00660\"" },
	{ "daemon", "created_pool_mode", "0x1b0",
	  "expected an octal mode such as 0660, got \"0x1b0\"" },

	{ "daemon", "log_level", "verbose",
	  "unknown log level \"verbose\" (expected error, warning, info or debug)" },
	{ "daemon", "log_level", "Info",
	  "unknown log level \"Info\" (expected error, warning, info or debug)" },
};

START_TEST(test_config_rejects_bad_values_naming_section_key_and_rule)
{
	const struct bad_value *b = &bad_values[_i];
	char text[512], want[512];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", b->section, b->key, b->value);
	snprintf(want, sizeof(want), ":2: [%s] %s: %s", b->section, b->key, b->reason);
	assert_rejects(text, want);
}
END_TEST

/* ---- rules that need the whole file ---- */

START_TEST(test_config_rejects_a_pool_without_frames_at_its_header_line)
{
	assert_rejects("[daemon]\n\n[pool video]\nframe_size = 1M\n[pool other]\n",
		       ":3: [pool video] frames: required key missing");
	/* An empty pool lacks both; frames is named first. */
	assert_rejects("[pool empty]\n", ":1: [pool empty] frames: required key missing");
}
END_TEST

START_TEST(test_config_rejects_a_pool_without_frame_size_at_its_header_line)
{
	assert_rejects("[pool ok]\nframes = 1\nframe_size = 1\n\n[pool video]\nframes = 8\n"
		       "alignment = 64\n",
		       ":5: [pool video] frame_size: required key missing");
}
END_TEST

START_TEST(test_config_rejects_frames_above_max_pool_frames)
{
	assert_rejects("[pool video]\nframes = 4097\nframe_size = 1\n",
		       ":1: [pool video] frames: Frames exceeds the daemon's max_pool_frames");
}
END_TEST

START_TEST(test_config_rejects_frame_size_above_max_frame_size)
{
	assert_rejects(
		"[daemon]\n[pool video]\nframes = 1\nframe_size = 268435457\n",
		":2: [pool video] frame_size: FrameSize exceeds the daemon's max_frame_size");
}
END_TEST

START_TEST(test_config_checks_pools_against_a_daemon_section_given_later)
{
	assert_rejects("[pool small]\nframes = 4\nframe_size = 1K\n"
		       "[pool video]\nframes = 8\nframe_size = 3110400\n"
		       "[daemon]\nmax_pool_frames = 4\n",
		       ":4: [pool video] frames: Frames exceeds the daemon's max_pool_frames");
	assert_rejects(
		"[pool video]\nframes = 8\nframe_size = 3110400\n"
		"[daemon]\nmax_frame_size = 2M\n",
		":1: [pool video] frame_size: FrameSize exceeds the daemon's max_frame_size");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("valid files");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_init_sets_the_documented_defaults);
	tcase_add_test(tc, test_config_free_and_deinit_accept_null);
	tcase_add_test(tc, test_log_level_from_string_parses_the_four_names_only);
	tcase_add_test(tc, test_config_reads_every_key_of_a_full_file_exactly);
	tcase_add_test(tc, test_config_uses_defaults_when_daemon_section_is_absent);
	tcase_add_test(tc, test_config_accepts_an_empty_file_as_all_defaults);
	tcase_add_test(tc, test_config_accepts_an_empty_daemon_section_and_comment_only_file);
	tcase_add_test(tc, test_config_applies_daemon_section_given_after_the_pools);
	tcase_add_test(tc, test_config_reads_size_suffixes_case_insensitively);
	tcase_add_test(tc, test_config_accepts_every_alignment_that_is_a_power_of_two_up_to_4096);
	tcase_add_test(tc, test_config_accepts_the_range_limits_of_daemon_keys);
	tcase_add_test(tc, test_config_accepts_a_socket_path_of_107_bytes);
	tcase_add_test(tc, test_config_accepts_a_pool_name_of_63_bytes);
	tcase_add_test(tc, test_config_accepts_indentation_crlf_bom_colons_and_inline_comments);
	tcase_add_test(tc, test_config_accepts_many_pools);
	tcase_add_test(tc, test_config_loads_the_shipped_default_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreadable files");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_reports_a_missing_file_with_strerror);
	tcase_add_test(tc, test_config_reports_a_directory_with_strerror);
	tcase_add_test(tc, test_config_leaves_ret_config_untouched_on_a_malformed_file);
	tcase_add_test(tc, test_config_accepts_null_ret_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_rejects_a_line_without_equals_sign_as_syntax_error);
	tcase_add_test(tc, test_config_rejects_an_unterminated_section_header_as_syntax_error);
	tcase_add_test(tc, test_config_rejects_a_key_without_a_name_as_syntax_error);
	tcase_add_test(tc, test_config_rejects_a_key_before_any_section);
	tcase_add_test(tc, test_config_rejects_a_line_longer_than_inih_can_hold);
	tcase_add_test(tc, test_config_rejects_a_nul_byte);
	tcase_add_test(tc, test_config_reports_only_the_first_error);
	tcase_add_test(tc, test_config_treats_a_hash_after_a_value_as_part_of_the_value);
	tcase_add_test(tc, test_config_escapes_control_characters_in_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_rejects_an_unknown_section);
	tcase_add_test(tc, test_config_rejects_an_empty_section_with_an_unknown_name);
	tcase_add_test(tc, test_config_rejects_a_pool_without_a_name);
	tcase_add_test(tc, test_config_reads_streams_on_its_pools);
	tcase_add_test(tc, test_config_rejects_a_stream_that_names_no_pool_of_the_file);
	tcase_add_test(tc, test_config_rejects_a_pool_name_longer_than_63_bytes);
	tcase_add_test(tc, test_config_rejects_a_pool_name_with_a_bad_character);
	tcase_add_test(tc, test_config_rejects_a_pool_name_starting_with_dot_or_dash);
	tcase_add_test(tc, test_config_rejects_duplicate_pool_naming_both_lines);
	tcase_add_test(tc, test_config_rejects_duplicate_daemon_section_naming_both_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_rejects_duplicate_key_naming_the_key);
	tcase_add_test(tc, test_config_allows_the_same_key_in_different_pools);
	tcase_add_test(tc, test_config_rejects_unknown_daemon_key_listing_the_valid_ones);
	tcase_add_test(tc, test_config_rejects_unknown_pool_key_listing_the_valid_ones);
	tcase_add_test(tc, test_config_quotes_a_long_unknown_key_whole);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_config_rejects_bad_values_naming_section_key_and_rule, 0,
			    (int)ELEMENTSOF(bad_values));
	suite_add_tcase(s, tc);

	tc = tcase_create("whole-file rules");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_rejects_a_pool_without_frames_at_its_header_line);
	tcase_add_test(tc, test_config_rejects_a_pool_without_frame_size_at_its_header_line);
	tcase_add_test(tc, test_config_rejects_frames_above_max_pool_frames);
	tcase_add_test(tc, test_config_rejects_frame_size_above_max_frame_size);
	tcase_add_test(tc, test_config_checks_pools_against_a_daemon_section_given_later);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ksalloc_check_run(config_suite());
}
