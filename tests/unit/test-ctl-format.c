/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What ksallocctl prints about streams, without a daemon: the streams table
 * and JSON, top's rows and rates, and the metrics' families (checked by
 * promtool when it is installed), from hand-filled ksalloc_stream_info.
 */
#include <check.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>

#include "tests/lib/ksalloc-check.h"
#include "tools/ksallocctl/streams.h"

#define PROMTOOL "/usr/bin/promtool"

/* Two streams: camera flowing to an encoder and a preview, audio waiting with nobody. */
static void fill(struct ksalloc_stream_info s[2])
{
	memset(s, 0, 2 * sizeof(*s));
	snprintf(s[0].name, sizeof(s[0].name), "camera0");
	snprintf(s[0].pool, sizeof(s[0].pool), "video");
	s[0].stream_id = 3;
	s[0].state = KSALLOC_STREAM_FLOWING;
	s[0].owner = 1000;
	s[0].group = 44;
	s[0].mode = 0660;
	s[0].producer_session = 7;
	s[0].producer_pid = 3358;
	snprintf(s[0].producer_name, sizeof(s[0].producer_name), "camera");
	s[0].published = 12345;
	s[0].format_size = 312;
	s[0].n_consumers = 2;
	s[0].consumers[0] = (struct ksalloc_stream_consumer_info){
		.slot = 0,
		.session_id = 8,
		.pid = 3401,
		.policy = KSALLOC_STREAM_BLOCK,
		.depth = 4,
		.max_held = 8,
		.queued = 1,
		.held = 2,
		.delivered = 12340,
		.dropped = 0,
		.latency_p50_ns = 12000,
		.latency_p99_ns = 1300000,
	};
	snprintf(s[0].consumers[0].name, sizeof(s[0].consumers[0].name), "encoder");
	s[0].consumers[1] = (struct ksalloc_stream_consumer_info){
		.slot = 3,
		.session_id = 9,
		.pid = 3502,
		.policy = KSALLOC_STREAM_LATEST,
		.depth = 1,
		.max_held = 8,
		.queued = 1,
		.held = 0,
		.delivered = 600,
		.dropped = 11745,
		.read_only = true,
	};
	/* What a label value must escape. */
	snprintf(s[0].consumers[1].name, sizeof(s[0].consumers[1].name), "pre\"view\\");

	snprintf(s[1].name, sizeof(s[1].name), "mic");
	snprintf(s[1].pool, sizeof(s[1].pool), "audio");
	s[1].stream_id = 4;
	s[1].state = KSALLOC_STREAM_WAITING;
	s[1].persistent = true;
	s[1].mode = 0640;
}

/* What @print wrote to a FILE, as a string to free(). */
static char *capture(void (*print)(FILE *, const struct ksalloc_stream_info *, size_t),
		     const struct ksalloc_stream_info *s, size_t n)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(out);
	print(out, s, n);
	ck_assert_int_eq(fclose(out), 0);
	return text;
}

/* Columns a line takes on a terminal: UTF-8 continuation bytes take none. */
static size_t columns(const char *line, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)line[i] & 0xc0) != 0x80;
	return n;
}

START_TEST(test_latency_is_for_people)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "-" },
		{ 1, "1 ns" },
		{ 850, "850 ns" },
		{ 999, "999 ns" },
		{ 1000, "1.0 µs" },
		{ 1500, "1.5 µs" },
		{ 9949, "9.9 µs" },
		{ 9950, "10 µs" },
		{ 12000, "12 µs" },
		{ 999499, "999 µs" },
		{ 999500, "1.0 ms" },
		{ 1300000, "1.3 ms" },
		{ 250000000, "250 ms" },
		{ 2500000000, "2.5 s" },
		{ 3600000000000, "3600 s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_format_latency(cases[i].ns, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, cases[i].want) == 0, "%llu ns: \"%s\", not \"%s\"",
			      (unsigned long long)cases[i].ns, buf, cases[i].want);
	}
}
END_TEST

START_TEST(test_states_and_policies_have_names)
{
	ck_assert_str_eq(ctl_stream_state_name(KSALLOC_STREAM_WAITING), "waiting");
	ck_assert_str_eq(ctl_stream_state_name(KSALLOC_STREAM_FLOWING), "flowing");
	ck_assert_str_eq(ctl_stream_state_name(KSALLOC_STREAM_ENDED), "ended");
	ck_assert_str_eq(ctl_stream_state_name(KSALLOC_STREAM_PRODUCER_GONE), "producer-gone");
	ck_assert_str_eq(ctl_stream_state_name((enum ksalloc_stream_state)77), "unknown");
	ck_assert_str_eq(ctl_stream_policy_name(KSALLOC_STREAM_BLOCK), "block");
	ck_assert_str_eq(ctl_stream_policy_name(KSALLOC_STREAM_DROP_NEWEST), "drop-newest");
	ck_assert_str_eq(ctl_stream_policy_name(KSALLOC_STREAM_DROP_OLDEST), "drop-oldest");
	ck_assert_str_eq(ctl_stream_policy_name(KSALLOC_STREAM_LATEST), "latest");
	ck_assert_str_eq(ctl_stream_policy_name((enum ksalloc_stream_policy)77), "unknown");
}
END_TEST

START_TEST(test_streams_table_has_a_line_per_stream_and_consumer)
{
	struct ksalloc_stream_info s[2];
	char *text;
	const char *head, *row, *p50;

	fill(s);
	text = capture(ctl_print_streams, s, 2);
	assert_line(text, "%-24s %-24s %-13s %6s %6s %4s %-24s %10s %7s", "STREAM", "POOL", "STATE",
		    "OWNER", "GROUP", "MODE", "PRODUCER", "PUBLISHED", "FORMAT");
	assert_line(text, "%-24s %-24s %-13s %6u %6u %s %-24s %10u %7s", "camera0", "video",
		    "flowing", 1000, 44, "0660", "3358 camera", 12345, "312 B");
	assert_line(text, "  %4s %8s %-16s %-11s %5s %6s %4s %10s %8s %-3s %8s %8s", "SLOT", "PID",
		    "NAME", "POLICY", "DEPTH", "QUEUED", "HELD", "DELIVERED", "DROPPED", "RO",
		    "P50", "P99");
	/* µ is two bytes and one column: the columns stay aligned. */
	assert_line(text, "  %4u %8u %-16s %-11s %5u %6u %4u %10u %8u %-3s %9s %8s", 0, 3401,
		    "encoder", "block", 4, 1, 2, 12340, 0, "no", "12 µs", "1.3 ms");
	assert_line(text, "  %4u %8u %-16s %-11s %5u %6u %4u %10u %8u %-3s %8s %8s", 3, 3502,
		    "pre\"view\\", "latest", 1, 1, 0, 600, 11745, "yes", "-", "-");
	/* The heading's "P50" and the value "12 µs" end in the same column. */
	head = strstr(text, "\n  SLOT") + 1;
	row = strstr(text, "\n     0     3401 ") + 1;
	p50 = strstr(row, "12 µs");
	ck_assert_ptr_nonnull(p50);
	ck_assert_uint_eq(columns(row, (size_t)(p50 - row) + strlen("12 µs")),
			  columns(head, (size_t)(strstr(head, "P50") - head) + 3));
	/* No producer: "-"; a stream of the config is marked; a blank line before it. */
	assert_line(text, "%-24s %-24s %-13s %6u %6u %s %-24s %10u %7s (config)", "mic", "audio",
		    "waiting", 0, 0, "0640", "-", 0, "-");
	ck_assert_ptr_nonnull(strstr(text, "\n\nmic "));
	free(text);

	/* None: the heading alone. */
	text = capture(ctl_print_streams, s, 0);
	ck_assert_str_eq(text, "STREAM                   POOL                     STATE          "
			       "OWNER  GROUP MODE PRODUCER                  PUBLISHED  FORMAT\n");
	free(text);
}
END_TEST

START_TEST(test_streams_table_shows_no_more_consumers_than_fit)
{
	struct ksalloc_stream_info s[2];
	char *text;
	size_t lines = 0;

	fill(s);
	/* A daemon that says more than the array holds is believed up to the array. */
	s[0].n_consumers = 1000;
	text = capture(ctl_print_streams, s, 1);
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	/* The heading, the stream, its consumers' heading and 32 consumers. */
	ck_assert_uint_eq(lines, 3 + KSALLOC_STREAM_MAX_CONSUMERS);
	free(text);
}
END_TEST

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key \"%s\" in %s", key,
		      json_object_to_json_string(o));
	return v;
}

static uint64_t get_u64(json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

static const char *get_str(json_object *o, const char *key)
{
	return json_object_get_string(get(o, key));
}

START_TEST(test_stream_json_has_every_field)
{
	struct ksalloc_stream_info s[2];
	json_object *o, *c, *p;

	fill(s);
	/* Through text, as a script reads it. */
	o = ctl_stream_to_json(&s[0]);
	c = json_tokener_parse(json_object_to_json_string(o));
	json_object_put(o);
	o = c;
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(get_str(o, "name"), "camera0");
	ck_assert_str_eq(get_str(o, "pool"), "video");
	ck_assert_uint_eq(get_u64(o, "stream_id"), 3);
	ck_assert_str_eq(get_str(o, "state"), "flowing");
	ck_assert(!json_object_get_boolean(get(o, "persistent")));
	ck_assert_uint_eq(get_u64(o, "owner"), 1000);
	ck_assert_uint_eq(get_u64(o, "group"), 44);
	ck_assert_str_eq(get_str(o, "mode"), "0660");
	ck_assert_uint_eq(get_u64(o, "published"), 12345);
	ck_assert_uint_eq(get_u64(o, "format_size"), 312);
	p = get(o, "producer");
	ck_assert_uint_eq(get_u64(p, "session_id"), 7);
	ck_assert_uint_eq(get_u64(p, "pid"), 3358);
	ck_assert_str_eq(get_str(p, "name"), "camera");
	ck_assert_uint_eq(json_object_array_length(get(o, "consumers")), 2);
	c = json_object_array_get_idx(get(o, "consumers"), 0);
	ck_assert_uint_eq(get_u64(c, "slot"), 0);
	ck_assert_uint_eq(get_u64(c, "session_id"), 8);
	ck_assert_uint_eq(get_u64(c, "pid"), 3401);
	ck_assert_str_eq(get_str(c, "name"), "encoder");
	ck_assert_str_eq(get_str(c, "policy"), "block");
	ck_assert_uint_eq(get_u64(c, "depth"), 4);
	ck_assert_uint_eq(get_u64(c, "max_held"), 8);
	ck_assert_uint_eq(get_u64(c, "queued"), 1);
	ck_assert_uint_eq(get_u64(c, "held"), 2);
	ck_assert_uint_eq(get_u64(c, "delivered"), 12340);
	ck_assert_uint_eq(get_u64(c, "dropped"), 0);
	ck_assert(!json_object_get_boolean(get(c, "read_only")));
	ck_assert_uint_eq(get_u64(c, "latency_p50_ns"), 12000);
	ck_assert_uint_eq(get_u64(c, "latency_p99_ns"), 1300000);
	c = json_object_array_get_idx(get(o, "consumers"), 1);
	ck_assert_str_eq(get_str(c, "name"), "pre\"view\\");
	ck_assert_str_eq(get_str(c, "policy"), "latest");
	ck_assert(json_object_get_boolean(get(c, "read_only")));
	/* No data is null, not 0 ns. */
	ck_assert_ptr_null(get(c, "latency_p50_ns"));
	ck_assert_ptr_null(get(c, "latency_p99_ns"));
	json_object_put(o);

	o = ctl_stream_to_json(&s[1]);
	ck_assert_ptr_null(get(o, "producer"));
	ck_assert_str_eq(get_str(o, "state"), "waiting");
	ck_assert(json_object_get_boolean(get(o, "persistent")));
	ck_assert_uint_eq(json_object_array_length(get(o, "consumers")), 0);
	json_object_put(o);
}
END_TEST

START_TEST(test_top_rows_and_rates)
{
	struct ksalloc_stream_info prev[2], cur[2];
	char row[512], want[512];

	fill(prev);
	fill(cur);
	cur[0].published += 300;
	cur[0].consumers[1].dropped += 200;
	/* A consumer that came since counts whole; one that went counts nothing. */
	cur[0].consumers[0].session_id = 20;
	cur[0].consumers[0].dropped = 5;
	ck_assert_uint_eq(ctl_stream_published_since(&prev[0], &cur[0]), 300);
	ck_assert_uint_eq(ctl_stream_dropped_since(&prev[0], &cur[0]), 205);
	ck_assert_uint_eq(ctl_stream_published_since(NULL, &cur[0]), 0);
	ck_assert_uint_eq(ctl_stream_dropped_since(NULL, &cur[0]), 11745 + 200 + 5);
	/* Another stream of the same name (made again): no rate from the old one's counts. */
	cur[0].stream_id = 9;
	ck_assert_uint_eq(ctl_stream_published_since(&prev[0], &cur[0]), 0);
	cur[0].stream_id = prev[0].stream_id;
	cur[0].published = 1;
	ck_assert_uint_eq(ctl_stream_published_since(&prev[0], &cur[0]), 0);

	/* The fullest queue: 1 of 1 beats 1 of 4; the worst p99 of all. */
	ck_assert_ptr_eq(ctl_stream_fullest_consumer(&cur[0]), &cur[0].consumers[1]);
	ck_assert_ptr_null(ctl_stream_fullest_consumer(&cur[1]));
	ck_assert_uint_eq(ctl_stream_worst_p99(&cur[0]), 1300000);
	ck_assert_uint_eq(ctl_stream_worst_p99(&cur[1]), 0);

	ctl_format_top_stream_header(row, sizeof(row));
	ck_assert_str_eq(row, "STREAM                   PRODUCER                 CONSUMERS     "
			      "PUB/S    DROP/S   WORST Q      P99");
	ctl_format_top_stream_row(&cur[0], 30.04, 1.25, row, sizeof(row));
	snprintf(want, sizeof(want), "%-24s %-24s %9s %9s %9s %9s %8s", "camera0", "3358 camera",
		 "2", "30.0", "1.2", "1/1", "1.3 ms");
	ck_assert_str_eq(row, want);
	ctl_format_top_stream_row(&cur[1], 0, 0, row, sizeof(row));
	snprintf(want, sizeof(want), "%-24s %-24s %9s %9s %9s %9s %8s", "mic", "- (waiting)", "0",
		 "0.0", "0.0", "-", "-");
	ck_assert_str_eq(row, want);
	/* µ: the line is as wide on the screen as the others. */
	cur[0].consumers[0].latency_p99_ns = 12000;
	cur[0].consumers[1].latency_p99_ns = 0;
	ctl_format_top_stream_row(&cur[0], 0, 0, row, sizeof(row));
	ck_assert_uint_eq(columns(row, strlen(row)), strlen(want));
}
END_TEST

/* `promtool check metrics` on @text: its exit status, what it said in *ret_said; -1 without it. */
static int promtool_check(const char *text, char **ret_said)
{
	char path[] = "/tmp/ksalloc-ctl-format-XXXXXX", command[256];
	char said[4096] = "";
	size_t n;
	FILE *p;
	int fd, status;

	if (access(PROMTOOL, X_OK) < 0)
		return -1;
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(command, sizeof(command), PROMTOOL " check metrics < %s 2>&1", path);
	p = popen(command, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(said, 1, sizeof(said) - 1, p);
	said[n] = 0;
	status = pclose(p);
	unlink(path);
	*ret_said = strdup(said);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(test_metrics_families_of_streams)
{
	struct ksalloc_stream_info s[2];
	char *text, *said = NULL;
	int r;

	fill(s);
	text = capture(ctl_put_stream_metrics, s, 2);
	assert_line(text, "# TYPE ksalloc_stream_published_total counter");
	assert_line(text,
		    "ksalloc_stream_published_total{stream=\"camera0\",pool=\"video\"} 12345");
	assert_line(text, "ksalloc_stream_published_total{stream=\"mic\",pool=\"audio\"} 0");
	assert_line(text, "# TYPE ksalloc_stream_consumers gauge");
	assert_line(text, "ksalloc_stream_consumers{stream=\"camera0\",pool=\"video\"} 2");
	assert_line(text, "ksalloc_stream_consumers{stream=\"mic\",pool=\"audio\"} 0");
	assert_line(text, "ksalloc_stream_producer_attached{stream=\"camera0\",pool=\"video\"} 1");
	assert_line(text, "ksalloc_stream_producer_attached{stream=\"mic\",pool=\"audio\"} 0");
	assert_line(text, "# TYPE ksalloc_stream_consumer_delivered_total counter");
	assert_line(text, "ksalloc_stream_consumer_delivered_total{stream=\"camera0\",slot=\"0\","
			  "pid=\"3401\",name=\"encoder\"} 12340");
	assert_line(text, "ksalloc_stream_consumer_dropped_total{stream=\"camera0\",slot=\"3\","
			  "pid=\"3502\",name=\"pre\\\"view\\\\\"} 11745");
	assert_line(text, "ksalloc_stream_consumer_queued{stream=\"camera0\",slot=\"0\","
			  "pid=\"3401\",name=\"encoder\"} 1");
	assert_line(text, "ksalloc_stream_consumer_held{stream=\"camera0\",slot=\"0\","
			  "pid=\"3401\",name=\"encoder\"} 2");
	assert_line(text, "ksalloc_stream_consumer_depth{stream=\"camera0\",slot=\"3\","
			  "pid=\"3502\",name=\"pre\\\"view\\\\\"} 1");
	assert_line(text, "# UNIT ksalloc_stream_consumer_latency_p99_seconds seconds");
	assert_line(text, "ksalloc_stream_consumer_latency_p50_seconds{stream=\"camera0\","
			  "slot=\"0\",pid=\"3401\",name=\"encoder\"} 0.000012000");
	assert_line(text, "ksalloc_stream_consumer_latency_p99_seconds{stream=\"camera0\","
			  "slot=\"0\",pid=\"3401\",name=\"encoder\"} 0.001300000");
	/* No data, no sample: a 0 would read as instant delivery. */
	ck_assert_msg(!strstr(text, "latency_p99_seconds{stream=\"camera0\",slot=\"3\""), "%s",
		      text);

	r = promtool_check(text, &said);
	if (r < 0)
		printf("promtool is missing: the streams' families were not linted\n");
	else
		ck_assert_msg(r == 0 && said[0] == '\0', "promtool check metrics: %d: %s\n%s", r,
			      said, text);
	free(said);
	free(text);

	/* No consumer has latencies: their families are left out, the others stay. */
	s[0].consumers[0].latency_p50_ns = s[0].consumers[0].latency_p99_ns = 0;
	text = capture(ctl_put_stream_metrics, s, 2);
	ck_assert_ptr_null(strstr(text, "latency"));
	ck_assert_ptr_nonnull(strstr(text, "ksalloc_stream_consumer_held{"));
	free(text);
	/* No consumers: no consumer family. */
	text = capture(ctl_put_stream_metrics, &s[1], 1);
	ck_assert_ptr_null(strstr(text, "ksalloc_stream_consumer_"));
	ck_assert_ptr_nonnull(strstr(text, "ksalloc_stream_consumers{"));
	free(text);
	/* No streams: nothing at all. */
	text = capture(ctl_put_stream_metrics, s, 0);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

static Suite *ctl_format_suite(void)
{
	Suite *s = suite_create("ctl-format");
	TCase *tc = tcase_create("streams");

	tcase_add_test(tc, test_latency_is_for_people);
	tcase_add_test(tc, test_states_and_policies_have_names);
	tcase_add_test(tc, test_streams_table_has_a_line_per_stream_and_consumer);
	tcase_add_test(tc, test_streams_table_shows_no_more_consumers_than_fit);
	tcase_add_test(tc, test_stream_json_has_every_field);
	tcase_add_test(tc, test_top_rows_and_rates);
	tcase_add_test(tc, test_metrics_families_of_streams);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(ctl_format_suite());
}
