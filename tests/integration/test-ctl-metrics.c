/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl metrics and advise against the real daemon: the exposition text
 * with the numbers of a real workload (a client process holding frames under
 * a name that needs escaping), checked line by line, by promtool as a
 * Prometheus scrape would see it, and against --json; the pool sizes advise
 * draws from recorded peaks, and the daemon taking its snippet as a config.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/harness.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/ksalloc-check.h"

#define PROMTOOL "/usr/bin/promtool"

static const char config[] = "[pool video]\nframes = 8\nframe_size = 64K\nalignment = 64\n"
			     "[pool audio]\nframes = 2\nframe_size = 4K\n";

/* A client name with what a label value must escape: double quotes and a backslash. */
#define ODD_NAME "cam \"one\" \\ two"
#define ODD_NAME_ESCAPED "cam \\\"one\\\" \\\\ two"

static struct test_daemon daemon_;

static struct ksalloc_client *client(void)
{
	struct ksalloc_client *c = NULL;

	ck_assert_msg(ksalloc_client_open(NULL, &c) == 0, "%s", ksalloc_client_open_error());
	return c;
}

/* stderr of a `ksallocctl ARGS...` that fails with a usage error (2). */
#define CTL_USAGE(...) ctl_usage((const char *const[]){ __VA_ARGS__, NULL })

static char *ctl_usage(const char *const *args)
{
	char *err;

	free(test_ctl_run(2, &err, args));
	return err;
}

/* The parsed stdout of a `ksallocctl --json ARGS...` that succeeds: JSON of @type. */
#define CTL_JSON(type, ...) ctl_json(type, (const char *const[]){ "--json", __VA_ARGS__, NULL })

static json_object *ctl_json(json_type type, const char *const *args)
{
	char *text = test_ctl_ok(args);
	json_object *o = json_tokener_parse(text);

	ck_assert_msg(o && json_object_is_type(o, type), "not JSON of the right type: %.1500s",
		      text);
	free(text);
	return o;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key \"%s\" in %s", key,
		      json_object_to_json_string(o));
	return v;
}

static uint64_t get_u64(json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

/* The object of array @a whose @key is the string @value, or whose @key is the number @number. */
static json_object *find(json_object *a, const char *key, const char *value, uint64_t number)
{
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *o = json_object_array_get_idx(a, i), *v;

		if (!json_object_object_get_ex(o, key, &v))
			continue;
		if (value ? strcmp(json_object_get_string(v), value) == 0 :
			    json_object_get_uint64(v) == number)
			return o;
	}
	return NULL;
}

/* The session id the daemon gave the process @pid. */
static uint32_t session_of(struct ksalloc_client *c, pid_t pid)
{
	struct ksalloc_session_info *sessions;
	uint32_t id = 0;
	size_t n;

	ck_assert_int_eq(ksalloc_client_list_sessions(c, &sessions, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (sessions[i].pid == (uint32_t)pid)
			id = sessions[i].session_id;
	free(sessions);
	ck_assert_msg(id, "pid %d has no session", (int)pid);
	return id;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

/*
 * `promtool check metrics` on @text, fed on its stdin as a scrape would be:
 * its exit status, and what it said in *ret_said. promtool must be there
 * (scripts/test installs the package prometheus): its absence fails the test.
 */
static int promtool_check(const char *text, char **ret_said)
{
	char path[] = "/tmp/ksalloc-metrics-XXXXXX";
	char *argv[] = { "/bin/sh", "-c", "exec " PROMTOOL " check metrics < \"$1\"",
			 "sh",      path, NULL };
	char *out = NULL, *err = NULL;
	int fd, r;

	ck_assert_msg(access(PROMTOOL, X_OK) == 0,
		      PROMTOOL " is missing: install the package prometheus (scripts/test does)");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	r = test_run(argv, &out, &err);
	unlink(path);
	ck_assert_int_eq(asprintf(ret_said, "%s%s", out, err) >= 0, 1);
	free(out);
	free(err);
	return r;
}

/* ---- metrics ------------------------------------------------------------------------------ */

START_TEST(test_metrics_shows_pools_holders_and_sessions_and_passes_promtool)
{
	struct ksalloc_client *c;
	uint32_t session;
	char *text, *said;
	pid_t holder;

	test_daemon_up(&daemon_, config);
	holder = test_spawn_holder(ODD_NAME, "video", 2);
	c = client();
	session = session_of(c, holder);
	text = CTL("metrics");

	/* The pools: two of them, with what the holder did to video. */
	assert_line(text, "# TYPE ksalloc_pool_frames gauge");
	assert_line(text, "ksalloc_pool_frames{pool=\"video\",backend=\"memfd\"} 8");
	assert_line(text, "ksalloc_pool_frames{pool=\"audio\",backend=\"memfd\"} 2");
	assert_line(text, "ksalloc_pool_frames_in_use{pool=\"video\",backend=\"memfd\"} 2");
	assert_line(text, "ksalloc_pool_frames_in_use{pool=\"audio\",backend=\"memfd\"} 0");
	assert_line(text, "ksalloc_pool_frames_free{pool=\"video\",backend=\"memfd\"} 6");
	assert_line(text, "ksalloc_pool_frames_peak{pool=\"video\",backend=\"memfd\"} 2");
	assert_line(text, "ksalloc_pool_waiters{pool=\"video\",backend=\"memfd\"} 0");
	assert_line(text, "# TYPE ksalloc_pool_acquisitions_total counter");
	assert_line(text, "ksalloc_pool_acquisitions_total{pool=\"video\",backend=\"memfd\"} 2");
	assert_line(text, "ksalloc_pool_timeouts_total{pool=\"video\",backend=\"memfd\"} 0");
	assert_line(text, "ksalloc_pool_reclaimed_frames_total{pool=\"video\",backend=\"memfd\"} "
			  "0");
	assert_line(text, "ksalloc_pool_sessions{pool=\"video\",backend=\"memfd\"} 1");
	assert_line(text, "ksalloc_pool_sessions{pool=\"audio\",backend=\"memfd\"} 0");
	assert_line(text, "# UNIT ksalloc_pool_size_bytes bytes");
	ck_assert_ptr_nonnull(
		strstr(text, "\nksalloc_pool_size_bytes{pool=\"video\",backend=\"memfd\"} "));

	/* The holder, by its pid and session, its name escaped. */
	assert_line(text,
		    "ksalloc_pool_holder_frames{pool=\"video\",session=\"%u\",pid=\"%d\","
		    "name=\"" ODD_NAME_ESCAPED "\"} 2",
		    session, (int)holder);
	assert_line(text, "# UNIT ksalloc_pool_holder_oldest_hold_seconds seconds");
	ck_assert_ptr_nonnull(
		strstr(text, "\nksalloc_pool_holder_oldest_hold_seconds{pool=\"video\","));
	assert_line(text,
		    "ksalloc_session_frames_held{session=\"%u\",pid=\"%d\",uid=\"%u\","
		    "name=\"" ODD_NAME_ESCAPED "\"} 2",
		    session, (int)holder, (unsigned)getuid());
	assert_line(text,
		    "ksalloc_session_pools_open{session=\"%u\",pid=\"%d\",uid=\"%u\","
		    "name=\"" ODD_NAME_ESCAPED "\"} 1",
		    session, (int)holder, (unsigned)getuid());
	/* ksallocctl's own session would be a new series at every scrape. */
	ck_assert_ptr_null(strstr(text, "name=\"ksallocctl\""));

	/* The daemon: the holder, this test and ksallocctl are connected. */
	assert_line(text, "ksalloc_daemon_info{version=\"" KSALLOC_VERSION "\"} 1");
	assert_line(text, "ksalloc_daemon_sessions 3");
	assert_line(text, "ksalloc_daemon_pools 2");
	assert_line(text, "# TYPE ksalloc_daemon_requests_total counter");
	assert_line(text, "ksalloc_daemon_requests_total{type=\"hello\",result=\"failed\"} 0");
	ck_assert_ptr_nonnull(strstr(text, "\nksalloc_daemon_requests_total{type=\"get_status\","
					   "result=\"ok\"} "));
	assert_line(text, "ksalloc_daemon_undecodable_requests_total 0");
	ck_assert_ptr_nonnull(strstr(text, "\nksalloc_daemon_uptime_seconds "));
	ck_assert_msg(strlen(text) > 6 && strcmp(text + strlen(text) - 6, "# EOF\n") == 0,
		      "does not end with # EOF: %.1500s", text);

	/* A Prometheus scrape takes it as it is: no parse error, no lint complaint. */
	ck_assert_msg(promtool_check(text, &said) == 0, "promtool check metrics: %.500s\n%.1500s",
		      said, text);
	ck_assert_msg(said[0] == '\0', "promtool check metrics said: %s", said);
	free(said);
	/* And promtool does complain when there is something to complain about. */
	ck_assert_int_ne(promtool_check("# HELP x_frames Frames.\n# TYPE x_frames counter\n"
					"x_frames 1\n",
					&said),
			 0);
	ck_assert_msg(strstr(said, "_total"), "promtool said: %s", said);
	free(said);

	free(text);
	reap(holder);
	ksalloc_client_close(c);
	test_daemon_down(&daemon_);
}
END_TEST

/* The value of the line of @text that starts with @prefix and a space. */
static const char *value_of(const char *text, const char *prefix)
{
	static char value[64];
	char needle[512];
	const char *p;

	snprintf(needle, sizeof(needle), "\n%s ", prefix);
	p = strstr(text, needle);
	ck_assert_msg(p, "no line \"%s ...\" in:\n%.1500s", prefix, text);
	p += strlen(needle);
	snprintf(value, sizeof(value), "%.*s", (int)strcspn(p, "\n"), p);
	return value;
}

static void assert_value(const char *text, const char *prefix, uint64_t want)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)want);
	ck_assert_msg(strcmp(value_of(text, prefix), s) == 0, "%s is %s in the text, %s in JSON",
		      prefix, value_of(text, prefix), s);
}

START_TEST(test_metrics_json_has_the_same_numbers)
{
	static const struct {
		const char *key, *metric;
	} pool_keys[] = {
		{ "frames", "ksalloc_pool_frames" },
		{ "allocated_frames", "ksalloc_pool_frames_in_use" },
		{ "free_frames", "ksalloc_pool_frames_free" },
		{ "peak_frames", "ksalloc_pool_frames_peak" },
		{ "waiters", "ksalloc_pool_waiters" },
		{ "acquisitions", "ksalloc_pool_acquisitions_total" },
		{ "timeouts", "ksalloc_pool_timeouts_total" },
		{ "reclaimed", "ksalloc_pool_reclaimed_frames_total" },
		{ "size_bytes", "ksalloc_pool_size_bytes" },
		{ "sessions", "ksalloc_pool_sessions" },
	};
	json_object *all, *daemon, *pools, *sessions, *o, *h;
	struct ksalloc_client *c;
	struct ksalloc_pool *audio;
	struct ksalloc_frame f;
	char *text, prefix[512];
	pid_t holder;

	test_daemon_up(&daemon_, config);
	holder = test_spawn_holder("camera", "video", 3);
	c = client();
	ck_assert_int_eq(ksalloc_pool_open(c, "audio", &audio), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(audio, 0, &f), 0);
	text = CTL("metrics");
	all = CTL_JSON(json_type_object, "metrics");

	daemon = get(all, "daemon");
	ck_assert_str_eq(json_object_get_string(get(daemon, "version")), KSALLOC_VERSION);
	ck_assert_uint_eq(get_u64(daemon, "pools"), 2);
	ck_assert_uint_eq(get_u64(daemon, "sessions"), 3);
	ck_assert_uint_eq(get_u64(daemon, "undecodable"), 0);
	ck_assert_ptr_nonnull(get(daemon, "uptime_ms"));
	o = find(get(daemon, "requests"), "type", "open_pool", 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get_u64(o, "ok"), 2); /* the holder's and this test's */
	ck_assert_uint_eq(get_u64(o, "failed"), 0);
	assert_value(text, "ksalloc_daemon_requests_total{type=\"open_pool\",result=\"ok\"}", 2);
	assert_value(text, "ksalloc_daemon_sessions", get_u64(daemon, "sessions"));
	assert_value(text, "ksalloc_daemon_pools", get_u64(daemon, "pools"));

	pools = get(all, "pools");
	ck_assert_uint_eq(json_object_array_length(pools), 2);
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		const char *name;

		o = json_object_array_get_idx(pools, i);
		name = json_object_get_string(get(o, "name"));
		ck_assert_str_eq(json_object_get_string(get(o, "backend")), "memfd");
		for (size_t k = 0; k < sizeof(pool_keys) / sizeof(pool_keys[0]); k++) {
			snprintf(prefix, sizeof(prefix), "%s{pool=\"%s\",backend=\"memfd\"}",
				 pool_keys[k].metric, name);
			assert_value(text, prefix, get_u64(o, pool_keys[k].key));
		}
	}
	o = find(pools, "name", "video", 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get_u64(o, "allocated_frames"), 3);
	ck_assert_uint_eq(json_object_array_length(get(o, "holders")), 1);
	h = json_object_array_get_idx(get(o, "holders"), 0);
	ck_assert_uint_eq(get_u64(h, "pid"), (uint64_t)holder);
	ck_assert_uint_eq(get_u64(h, "frames_held"), 3);
	ck_assert_str_eq(json_object_get_string(get(h, "name")), "camera");
	snprintf(prefix, sizeof(prefix),
		 "ksalloc_pool_holder_frames{pool=\"video\",session=\"%llu\",pid=\"%d\","
		 "name=\"camera\"}",
		 (unsigned long long)get_u64(h, "session_id"), (int)holder);
	assert_value(text, prefix, 3);
	o = find(pools, "name", "audio", 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get_u64(o, "allocated_frames"), 1);
	h = json_object_array_get_idx(get(o, "holders"), 0);
	ck_assert_uint_eq(get_u64(h, "pid"), (uint64_t)getpid());

	/* The holder and this test; not ksallocctl itself. */
	sessions = get(all, "sessions");
	ck_assert_uint_eq(json_object_array_length(sessions), 2);
	ck_assert_ptr_null(find(sessions, "name", "ksallocctl", 0));
	o = find(sessions, "pid", NULL, (uint64_t)holder);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get_u64(o, "frames_held"), 3);
	ck_assert_uint_eq(get_u64(o, "pools_open"), 1);
	for (size_t i = 0; i < json_object_array_length(sessions); i++) {
		o = json_object_array_get_idx(sessions, i);
		snprintf(prefix, sizeof(prefix),
			 "{session=\"%llu\",pid=\"%llu\",uid=\"%llu\",name=\"%s\"}",
			 (unsigned long long)get_u64(o, "session_id"),
			 (unsigned long long)get_u64(o, "pid"),
			 (unsigned long long)get_u64(o, "uid"),
			 json_object_get_string(get(o, "name")));
		{
			char metric[600];

			snprintf(metric, sizeof(metric), "ksalloc_session_frames_held%s", prefix);
			assert_value(text, metric, get_u64(o, "frames_held"));
			snprintf(metric, sizeof(metric), "ksalloc_session_pools_open%s", prefix);
			assert_value(text, metric, get_u64(o, "pools_open"));
		}
	}

	json_object_put(all);
	free(text);
	ck_assert_int_eq(ksalloc_pool_release(audio, &f), 0);
	ksalloc_pool_close(audio);
	ksalloc_client_close(c);
	reap(holder);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_metrics_lists_only_the_pools_the_user_may_see)
{
	const char *argv[] = { "/usr/bin/setpriv",
			       "--reuid=4243",
			       "--regid=4243",
			       "--clear-groups",
			       test_binary("ksallocctl"),
			       "metrics",
			       NULL };
	char *out = NULL, *err = NULL;
	int r;

	if (geteuid() != 0) {
		printf("skipped: running ksallocctl as another user takes root\n");
		return;
	}
	test_daemon_up(&daemon_, "[pool private]\nframes = 1\nframe_size = 64\n"
				 "owner = 0\ngroup = 0\nmode = 0600\n"
				 "[pool readable]\nframes = 1\nframe_size = 64\n"
				 "owner = 0\ngroup = 0\nmode = 0644\n");
	r = test_run((char *const *)argv, &out, &err);
	ck_assert_msg(r == 0, "ksallocctl metrics as uid 4243: %d: %s", r, err);
	ck_assert_str_eq(err, "");
	assert_line(out, "ksalloc_pool_frames{pool=\"readable\",backend=\"memfd\"} 1");
	ck_assert_msg(!strstr(out, "pool=\"private\""), "%.1500s", out);
	free(out);
	free(err);
	/* Root sees both. */
	out = CTL("metrics");
	assert_line(out, "ksalloc_pool_frames{pool=\"private\",backend=\"memfd\"} 1");
	free(out);
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- advise ------------------------------------------------------------------------------- */

static const char advise_config[] = "[pool video]\nframes = 8\nframe_size = 64K\nalignment = 64\n"
				    "[pool audio]\nframes = 2\nframe_size = 4K\n"
				    "[pool spare]\nframes = 4\nframe_size = 4K\n";

/* A workload to advise on: 3 of video's 8 frames at once; audio's 2, and one acquire too many. */
static void record_workload(struct ksalloc_client *c)
{
	struct ksalloc_pool *video, *audio;
	struct ksalloc_frame f[3];

	ck_assert_int_eq(ksalloc_pool_open(c, "video", &video), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(video, 0, &f[i]), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ksalloc_pool_release(video, &f[i]), 0);
	ksalloc_pool_close(video);

	ck_assert_int_eq(ksalloc_pool_open(c, "audio", &audio), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(ksalloc_pool_acquire(audio, 0, &f[i]), 0);
	ck_assert_int_eq(ksalloc_pool_acquire(audio, 10, &f[2]), -ETIMEDOUT);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(ksalloc_pool_release(audio, &f[i]), 0);
	ksalloc_pool_close(audio);
}

static void assert_advice(json_object *all, const char *name, uint64_t frames, uint64_t peak,
			  int64_t suggested, bool oversized, bool ran_dry, uint64_t unused_bytes)
{
	json_object *o = find(all, "name", name, 0), *v;

	ck_assert_msg(o, "pool %s is not in %s", name, json_object_to_json_string(all));
	ck_assert_uint_eq(get_u64(o, "frames"), frames);
	ck_assert_uint_eq(get_u64(o, "peak"), peak);
	v = get(o, "suggested_frames");
	if (suggested < 0)
		ck_assert_msg(!v, "%s: suggested_frames is %s, not null", name,
			      json_object_to_json_string(v));
	else
		ck_assert_uint_eq(json_object_get_uint64(v), (uint64_t)suggested);
	ck_assert_int_eq(json_object_get_boolean(get(o, "oversized")), oversized);
	ck_assert_int_eq(json_object_get_boolean(get(o, "ran_dry")), ran_dry);
	ck_assert_uint_eq(get_u64(o, "unused_bytes_at_peak"), unused_bytes);
}

START_TEST(test_advise_sizes_pools_from_their_peaks)
{
	struct ksalloc_pool_info *pools;
	struct ksalloc_client *c;
	json_object *all;
	char *text;
	size_t n;

	test_daemon_up(&daemon_, advise_config);
	c = client();
	record_workload(c);
	ksalloc_client_close(c);

	text = CTL("advise");
	ck_assert_msg(strstr(text, "plus a margin of 25%."), "%.1500s", text);
	/* video: 3 frames at most, and a quarter more: 4. */
	ck_assert_msg(strstr(text, "\n# video: peak 3 of 8 frames; oversized: 5 frames "
				   "(327680 bytes) unused at peak\n[pool video]\nframes = 4\n"
				   "frame_size = 65536\nalignment = 64\n"),
		      "%s", text);
	/* audio ran dry: its need is unknown, half as many frames again is the next try. */
	ck_assert_msg(strstr(text, "\n# audio: peak 2 of 2 frames; too small: it ran dry, "
				   "1 acquire timed out; the peak hit the limit, so the real "
				   "need is unknown\n[pool audio]\nframes = 3\n"
				   "frame_size = 4096\nalignment = 1\n"),
		      "%s", text);
	/* spare was never used: no number, and no section. */
	ck_assert_msg(strstr(text, "\n# spare: peak 0 of 4 frames; never used (16384 bytes): "
				   "keep its section if something needs it now and then, or "
				   "remove it\n"),
		      "%s", text);
	ck_assert_msg(!strstr(text, "[pool spare]"), "%.1500s", text);
	assert_line(text, "# oversized: 1 of 3 pools (video), 327680 bytes unused at peak");

	all = CTL_JSON(json_type_array, "advise");
	ck_assert_uint_eq(json_object_array_length(all), 3);
	assert_advice(all, "video", 8, 3, 4, true, false, 5 * 65536);
	assert_advice(all, "audio", 2, 2, 3, false, true, 0);
	assert_advice(all, "spare", 4, 0, -1, false, false, 4 * 4096);
	json_object_put(all);

	/* The margin changes what a known peak needs; not what a pool that ran dry gets. */
	all = CTL_JSON(json_type_array, "advise", "--margin", "50");
	assert_advice(all, "video", 8, 3, 5, true, false, 5 * 65536);
	assert_advice(all, "audio", 2, 2, 3, false, true, 0);
	assert_advice(all, "spare", 4, 0, -1, false, false, 4 * 4096);
	json_object_put(all);
	all = CTL_JSON(json_type_array, "advise", "--margin", "0");
	assert_advice(all, "video", 8, 3, 3, true, false, 5 * 65536);
	json_object_put(all);
	all = CTL_JSON(json_type_array, "advise", "--margin", "200");
	assert_advice(all, "video", 8, 3, 9, false, false, 5 * 65536);
	json_object_put(all);
	{
		char *tight = CTL("advise", "--margin", "200");

		ck_assert_msg(strstr(tight, "\n# video: peak 3 of 8 frames; tight: less than the "
					    "margin of 200% was free at peak\n[pool video]\n"
					    "frames = 9\n"),
			      "%s", tight);
		assert_line(tight, "# oversized: none of the 3 pools");
		free(tight);
	}

	/* The snippet is a config the daemon takes, with the sizes it suggests. */
	test_daemon_down(&daemon_);
	test_daemon_up(&daemon_, text);
	c = client();
	ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_framing *fr = &pools[i].status.framing;

		if (strcmp(pools[i].name, "video") == 0) {
			ck_assert_uint_eq(fr->frames, 4);
			ck_assert_uint_eq(fr->frame_size, 65536);
			ck_assert_uint_eq(fr->file_alignment, 63);
		} else {
			ck_assert_str_eq(pools[i].name, "audio");
			ck_assert_uint_eq(fr->frames, 3);
			ck_assert_uint_eq(fr->frame_size, 4096);
		}
	}
	free(pools);
	ksalloc_client_close(c);
	free(text);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_advise_refuses_a_margin_that_is_no_percentage)
{
	static const char *const bad[] = {
		"x", "-1", "1001", "25%", " 5", "", "99999999999999999999"
	};
	char *err;

	/* Arguments are checked before the daemon is asked: none is running. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];

		err = CTL_USAGE("advise", "--margin", bad[i]);
		snprintf(want, sizeof(want),
			 "ksallocctl: --margin takes a percentage, 0 to 1000; got '%s'\n", bad[i]);
		ck_assert_str_eq(err, want);
		free(err);
	}
	err = CTL_USAGE("advise", "--margin");
	ck_assert_str_eq(err, "ksallocctl: usage: ksallocctl advise [--margin PERCENT]\n");
	free(err);
	err = CTL_USAGE("advise", "video");
	ck_assert_str_eq(err, "ksallocctl: usage: ksallocctl advise [--margin PERCENT]\n");
	free(err);
	err = CTL_USAGE("advise", "--margin", "10", "--margin", "20");
	ck_assert_str_eq(err, "ksallocctl: usage: ksallocctl advise [--margin PERCENT]\n");
	free(err);
	err = CTL_USAGE("metrics", "video");
	ck_assert_str_eq(err, "ksallocctl: metrics takes no arguments\n");
	free(err);
}
END_TEST

static Suite *ctl_metrics_suite(void)
{
	Suite *s = suite_create("ctl-metrics");
	TCase *tc;

	tc = tcase_create("metrics");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_metrics_shows_pools_holders_and_sessions_and_passes_promtool);
	tcase_add_test(tc, test_metrics_json_has_the_same_numbers);
	tcase_add_test(tc, test_metrics_lists_only_the_pools_the_user_may_see);
	suite_add_tcase(s, tc);

	tc = tcase_create("advise");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_advise_sizes_pools_from_their_peaks);
	tcase_add_test(tc, test_advise_refuses_a_margin_that_is_no_percentage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(ctl_metrics_suite());
}
