/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams as ksallocctl prints them: the streams command's table and JSON,
 * top's rows and the metrics' families. Only formatting: the commands ask the
 * daemon (ksalloc_client_list_streams()) and hand the result over.
 */
#include "tools/ksallocctl/streams.h"
#include "tools/ksallocctl/prom.h"

#include <inttypes.h>
#include <string.h>

const char *ctl_stream_state_name(enum ksalloc_stream_state state)
{
	switch (state) {
	case KSALLOC_STREAM_WAITING:
		return "waiting";
	case KSALLOC_STREAM_FLOWING:
		return "flowing";
	case KSALLOC_STREAM_ENDED:
		return "ended";
	case KSALLOC_STREAM_PRODUCER_GONE:
		return "producer-gone";
	}
	return "unknown";
}

const char *ctl_stream_policy_name(enum ksalloc_stream_policy policy)
{
	switch (policy) {
	case KSALLOC_STREAM_BLOCK:
		return "block";
	case KSALLOC_STREAM_DROP_NEWEST:
		return "drop-newest";
	case KSALLOC_STREAM_DROP_OLDEST:
		return "drop-oldest";
	case KSALLOC_STREAM_LATEST:
		return "latest";
	}
	return "unknown";
}

/* The daemon is a peer: it says how many consumers there are, the array says how many fit. */
static uint32_t n_consumers(const struct ksalloc_stream_info *s)
{
	return s->n_consumers < KSALLOC_STREAM_MAX_CONSUMERS ? s->n_consumers :
							       KSALLOC_STREAM_MAX_CONSUMERS;
}

/*
 * The unit that keeps the number under 1000, with a tenth under 10 of it:
 * "850 ns", "1.5 µs", "12 µs", "1.3 ms", "250 ms", "2.5 s". Rounded, in
 * integers, so that 999.96 µs is "1.0 ms" and not "1000 µs".
 */
void ctl_format_latency(uint64_t ns, char *buf, size_t size)
{
	static const struct {
		const char *name;
		uint64_t scale;
	} units[] = { { "µs", 1000 }, { "ms", 1000000 }, { "s", 1000000000 } };

	if (ns == 0) {
		snprintf(buf, size, "-");
		return;
	}
	if (ns < 1000) {
		snprintf(buf, size, "%" PRIu64 " ns", ns);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		const uint64_t scale = units[i].scale;
		const uint64_t tenths = ns / (scale / 10) + (ns % (scale / 10) >= scale / 20);
		const uint64_t whole = ns / scale + (ns % scale >= scale / 2);

		if (tenths < 100) {
			snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10,
				 units[i].name);
			return;
		}
		if (whole < 1000 || i + 1 == sizeof(units) / sizeof(units[0])) {
			snprintf(buf, size, "%" PRIu64 " %s", whole, units[i].name);
			return;
		}
	}
}

/* printf's width counts bytes: the width that shows @s in @columns columns (µ is two bytes). */
static int width_for(const char *s, int columns)
{
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) == 0x80)
			columns++;
	return columns;
}

/* ---- streams: JSON ------------------------------------------------------------------------ */

/* A latency in ns, or null when there is no data. */
static json_object *latency_to_json(uint64_t ns)
{
	return ns ? json_object_new_uint64(ns) : NULL;
}

static json_object *consumer_to_json(const struct ksalloc_stream_consumer_info *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "slot", json_object_new_uint64(c->slot));
	json_object_object_add(o, "session_id", json_object_new_uint64(c->session_id));
	json_object_object_add(o, "pid", json_object_new_uint64(c->pid));
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "policy",
			       json_object_new_string(ctl_stream_policy_name(c->policy)));
	json_object_object_add(o, "depth", json_object_new_uint64(c->depth));
	json_object_object_add(o, "max_held", json_object_new_uint64(c->max_held));
	json_object_object_add(o, "queued", json_object_new_uint64(c->queued));
	json_object_object_add(o, "held", json_object_new_uint64(c->held));
	json_object_object_add(o, "delivered", json_object_new_uint64(c->delivered));
	json_object_object_add(o, "dropped", json_object_new_uint64(c->dropped));
	json_object_object_add(o, "read_only", json_object_new_boolean(c->read_only));
	json_object_object_add(o, "latency_p50_ns", latency_to_json(c->latency_p50_ns));
	json_object_object_add(o, "latency_p99_ns", latency_to_json(c->latency_p99_ns));
	return o;
}

json_object *ctl_stream_to_json(const struct ksalloc_stream_info *s)
{
	json_object *o = json_object_new_object(), *consumers = json_object_new_array();
	json_object *producer = NULL;
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", s->mode);
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "pool", json_object_new_string(s->pool));
	json_object_object_add(o, "stream_id", json_object_new_uint64(s->stream_id));
	json_object_object_add(o, "state", json_object_new_string(ctl_stream_state_name(s->state)));
	json_object_object_add(o, "persistent", json_object_new_boolean(s->persistent));
	json_object_object_add(o, "owner", json_object_new_uint64(s->owner));
	json_object_object_add(o, "group", json_object_new_uint64(s->group));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	if (s->producer_session) {
		producer = json_object_new_object();
		json_object_object_add(producer, "session_id",
				       json_object_new_uint64(s->producer_session));
		json_object_object_add(producer, "pid", json_object_new_uint64(s->producer_pid));
		json_object_object_add(producer, "name", json_object_new_string(s->producer_name));
	}
	json_object_object_add(o, "producer", producer);
	json_object_object_add(o, "published", json_object_new_uint64(s->published));
	json_object_object_add(o, "format_size", json_object_new_uint64(s->format_size));
	for (uint32_t i = 0; i < n_consumers(s); i++)
		json_object_array_add(consumers, consumer_to_json(&s->consumers[i]));
	json_object_object_add(o, "consumers", consumers);
	return o;
}

/* ---- streams: text ------------------------------------------------------------------------ */

/* "3358 camera", or "-" without a producer. */
static void format_producer(const struct ksalloc_stream_info *s, char *buf, size_t size)
{
	if (s->producer_session)
		snprintf(buf, size, "%" PRIu32 " %s", s->producer_pid, s->producer_name);
	else
		snprintf(buf, size, "-");
}

static void print_consumers(FILE *out, const struct ksalloc_stream_info *s)
{
	fprintf(out, "  %4s %8s %-16s %-11s %5s %6s %4s %10s %8s %-3s %8s %8s\n", "SLOT", "PID",
		"NAME", "POLICY", "DEPTH", "QUEUED", "HELD", "DELIVERED", "DROPPED", "RO", "P50",
		"P99");
	for (uint32_t i = 0; i < n_consumers(s); i++) {
		const struct ksalloc_stream_consumer_info *c = &s->consumers[i];
		char p50[32], p99[32];

		ctl_format_latency(c->latency_p50_ns, p50, sizeof(p50));
		ctl_format_latency(c->latency_p99_ns, p99, sizeof(p99));
		fprintf(out,
			"  %4" PRIu32 " %8" PRIu32 " %-16s %-11s %5" PRIu32 " %6" PRIu32
			" %4" PRIu32 " %10" PRIu64 " %8" PRIu64 " %-3s %*s %*s\n",
			c->slot, c->pid, c->name, ctl_stream_policy_name(c->policy), c->depth,
			c->queued, c->held, c->delivered, c->dropped, c->read_only ? "yes" : "no",
			width_for(p50, 8), p50, width_for(p99, 8), p99);
	}
}

void ctl_print_streams(FILE *out, const struct ksalloc_stream_info *streams, size_t n)
{
	fprintf(out, "%-24s %-24s %-13s %6s %6s %4s %-24s %10s %7s\n", "STREAM", "POOL", "STATE",
		"OWNER", "GROUP", "MODE", "PRODUCER", "PUBLISHED", "FORMAT");
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_stream_info *s = &streams[i];
		char producer[96], format[32];

		format_producer(s, producer, sizeof(producer));
		if (s->format_size)
			snprintf(format, sizeof(format), "%" PRIu32 " B", s->format_size);
		else
			snprintf(format, sizeof(format), "-");
		fprintf(out,
			"%-24s %-24s %-13s %6" PRIu32 " %6" PRIu32 " %04o %-24s %10" PRIu64
			" %7s%s\n",
			s->name, s->pool, ctl_stream_state_name(s->state), s->owner, s->group,
			s->mode, producer, s->published, format, s->persistent ? " (config)" : "");
		if (n_consumers(s)) {
			print_consumers(out, s);
			/* A blank line before the next stream, whose line would read as a consumer's. */
			if (i + 1 < n)
				putc('\n', out);
		}
	}
}

/* ---- top ---------------------------------------------------------------------------------- */

const struct ksalloc_stream_consumer_info *
ctl_stream_fullest_consumer(const struct ksalloc_stream_info *s)
{
	const struct ksalloc_stream_consumer_info *worst = NULL;

	for (uint32_t i = 0; i < n_consumers(s); i++) {
		const struct ksalloc_stream_consumer_info *c = &s->consumers[i];

		/* queued / depth above worst's, in integers: a depth of 0 counts as 1. */
		if (!worst || (uint64_t)c->queued * (worst->depth ? worst->depth : 1) >
				      (uint64_t)worst->queued * (c->depth ? c->depth : 1))
			worst = c;
	}
	return worst;
}

uint64_t ctl_stream_worst_p99(const struct ksalloc_stream_info *s)
{
	uint64_t worst = 0;

	for (uint32_t i = 0; i < n_consumers(s); i++)
		if (s->consumers[i].latency_p99_ns > worst)
			worst = s->consumers[i].latency_p99_ns;
	return worst;
}

uint64_t ctl_stream_dropped_since(const struct ksalloc_stream_info *prev,
				  const struct ksalloc_stream_info *cur)
{
	uint64_t dropped = 0;

	if (prev && prev->stream_id != cur->stream_id)
		prev = NULL;
	for (uint32_t i = 0; i < n_consumers(cur); i++) {
		const struct ksalloc_stream_consumer_info *c = &cur->consumers[i];
		uint64_t before = 0;

		for (uint32_t j = 0; prev && j < n_consumers(prev); j++) {
			const struct ksalloc_stream_consumer_info *p = &prev->consumers[j];

			if (p->slot == c->slot && p->session_id == c->session_id) {
				before = p->dropped;
				break;
			}
		}
		if (c->dropped > before)
			dropped += c->dropped - before;
	}
	return dropped;
}

uint64_t ctl_stream_published_since(const struct ksalloc_stream_info *prev,
				    const struct ksalloc_stream_info *cur)
{
	if (!prev || prev->stream_id != cur->stream_id || cur->published < prev->published)
		return 0;
	return cur->published - prev->published;
}

#define TOP_STREAM_FORMAT "%-24s %-24s %9s %9s %9s %9s %*s"

void ctl_format_top_stream_header(char *buf, size_t size)
{
	snprintf(buf, size, TOP_STREAM_FORMAT, "STREAM", "PRODUCER", "CONSUMERS", "PUB/S", "DROP/S",
		 "WORST Q", 8, "P99");
}

void ctl_format_top_stream_row(const struct ksalloc_stream_info *s, double published_per_s,
			       double dropped_per_s, char *buf, size_t size)
{
	const struct ksalloc_stream_consumer_info *worst = ctl_stream_fullest_consumer(s);
	char producer[96], consumers[16], published[32], dropped[32], queue[32], p99[32];

	/* Without a producer, what became of it: "- (ended)". */
	if (s->producer_session)
		format_producer(s, producer, sizeof(producer));
	else
		snprintf(producer, sizeof(producer), "- (%s)", ctl_stream_state_name(s->state));
	snprintf(consumers, sizeof(consumers), "%" PRIu32, n_consumers(s));
	snprintf(published, sizeof(published), "%.1f", published_per_s);
	snprintf(dropped, sizeof(dropped), "%.1f", dropped_per_s);
	if (worst)
		snprintf(queue, sizeof(queue), "%" PRIu32 "/%" PRIu32, worst->queued, worst->depth);
	else
		snprintf(queue, sizeof(queue), "-");
	ctl_format_latency(ctl_stream_worst_p99(s), p99, sizeof(p99));
	snprintf(buf, size, TOP_STREAM_FORMAT, s->name, producer, consumers, published, dropped,
		 queue, width_for(p99, 8), p99);
}

/* ---- metrics ------------------------------------------------------------------------------ */

enum {
	STREAM_PUBLISHED,
	STREAM_CONSUMERS,
	STREAM_PRODUCER,
	_STREAM_MAX,
};

static const struct ctl_prom_family stream_families[_STREAM_MAX] = {
	[STREAM_PUBLISHED] = { "ksalloc_stream_published_total", "counter", NULL,
			       "Frames published on the stream, by all its producers." },
	[STREAM_CONSUMERS] = { "ksalloc_stream_consumers", "gauge", NULL,
			       "Consumers attached to the stream." },
	[STREAM_PRODUCER] = { "ksalloc_stream_producer_attached", "gauge", NULL,
			      "1 while a producer is attached to the stream, else 0." },
};

enum {
	CONSUMER_DELIVERED,
	CONSUMER_DROPPED,
	CONSUMER_QUEUED,
	CONSUMER_HELD,
	CONSUMER_DEPTH,
	CONSUMER_P50,
	CONSUMER_P99,
	_CONSUMER_MAX,
};

static const struct ctl_prom_family consumer_families[_CONSUMER_MAX] = {
	[CONSUMER_DELIVERED] = { "ksalloc_stream_consumer_delivered_total", "counter", NULL,
				 "Frames the consumer has received." },
	[CONSUMER_DROPPED] = { "ksalloc_stream_consumer_dropped_total", "counter", NULL,
			       "Frames the consumer missed: its queue was full and its policy "
			       "drops." },
	[CONSUMER_QUEUED] = { "ksalloc_stream_consumer_queued", "gauge", NULL,
			      "Frames waiting in the consumer's queue." },
	[CONSUMER_HELD] = { "ksalloc_stream_consumer_held", "gauge", NULL,
			    "Frames the consumer received and has not released." },
	[CONSUMER_DEPTH] = { "ksalloc_stream_consumer_depth", "gauge", NULL,
			     "Frames the consumer's queue holds at most." },
	[CONSUMER_P50] = { "ksalloc_stream_consumer_latency_p50_seconds", "gauge", "seconds",
			   "Median publish to receive latency of the consumer (the upper bound "
			   "of its histogram bucket)." },
	[CONSUMER_P99] = { "ksalloc_stream_consumer_latency_p99_seconds", "gauge", "seconds",
			   "99th percentile publish to receive latency of the consumer (the upper "
			   "bound of its histogram bucket)." },
};

static uint64_t stream_value(const struct ksalloc_stream_info *s, int which)
{
	switch (which) {
	case STREAM_PUBLISHED:
		return s->published;
	case STREAM_CONSUMERS:
		return n_consumers(s);
	default:
		return s->producer_session != 0;
	}
}

static uint64_t consumer_value(const struct ksalloc_stream_consumer_info *c, int which)
{
	switch (which) {
	case CONSUMER_DELIVERED:
		return c->delivered;
	case CONSUMER_DROPPED:
		return c->dropped;
	case CONSUMER_QUEUED:
		return c->queued;
	case CONSUMER_HELD:
		return c->held;
	case CONSUMER_DEPTH:
		return c->depth;
	case CONSUMER_P50:
		return c->latency_p50_ns;
	default:
		return c->latency_p99_ns;
	}
}

/* Latencies are left out where there is no data (0): a 0 would read as instant delivery. */
static bool has_sample(const struct ksalloc_stream_consumer_info *c, int which)
{
	return (which != CONSUMER_P50 && which != CONSUMER_P99) || consumer_value(c, which) != 0;
}

void ctl_put_stream_metrics(FILE *out, const struct ksalloc_stream_info *streams, size_t n)
{
	char value[32];

	for (int which = 0; which < _STREAM_MAX && n; which++) {
		ctl_prom_family(out, &stream_families[which]);
		for (size_t i = 0; i < n; i++) {
			const struct ctl_prom_label labels[] = { { "stream", streams[i].name },
								 { "pool", streams[i].pool } };

			ctl_prom_u64(stream_value(&streams[i], which), value, sizeof(value));
			ctl_prom_sample(out, &stream_families[which], labels, 2, value);
		}
	}

	for (int which = 0; which < _CONSUMER_MAX; which++) {
		bool any = false;

		for (size_t i = 0; i < n && !any; i++)
			for (uint32_t j = 0; j < n_consumers(&streams[i]) && !any; j++)
				any = has_sample(&streams[i].consumers[j], which);
		if (!any)
			continue;
		ctl_prom_family(out, &consumer_families[which]);
		for (size_t i = 0; i < n; i++) {
			for (uint32_t j = 0; j < n_consumers(&streams[i]); j++) {
				const struct ksalloc_stream_consumer_info *c =
					&streams[i].consumers[j];
				char slot[16], pid[16];
				const struct ctl_prom_label labels[] = { { "stream",
									   streams[i].name },
									 { "slot", slot },
									 { "pid", pid },
									 { "name", c->name } };

				if (!has_sample(c, which))
					continue;
				snprintf(slot, sizeof(slot), "%" PRIu32, c->slot);
				snprintf(pid, sizeof(pid), "%" PRIu32, c->pid);
				if (which == CONSUMER_P50 || which == CONSUMER_P99)
					ctl_prom_ns_as_seconds(consumer_value(c, which), value,
							       sizeof(value));
				else
					ctl_prom_u64(consumer_value(c, which), value,
						     sizeof(value));
				ctl_prom_sample(out, &consumer_families[which], labels, 4, value);
			}
		}
	}
}
