/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl metrics and advise: one snapshot of the daemon's counters (its
 * own, every pool's and stream's this user may see, every session's), printed
 * for a Prometheus scrape, or turned into pool sizes for ksallocd.conf.
 *
 * metrics writes the Prometheus text exposition format 0.0.4, not OpenMetrics
 * 1.0, because that is what node_exporter's textfile collector and promtool
 * check metrics parse. Where the two differ, 0.0.4 wins: a counter's TYPE line
 * names it with its "_total" (OpenMetrics names the family without it, which a
 * 0.0.4 parser takes for a family without samples beside an untyped one), and
 * the version is a gauge of 1 with a label (0.0.4 has no "info" type). The
 * "# UNIT" lines and the closing "# EOF" are comments to a 0.0.4 parser, kept
 * because they say the unit and that the output is whole. No sample carries a
 * timestamp: the textfile collector refuses files that do.
 */
#include "tools/ksallocctl/metrics.h"
#include "tools/ksallocctl/prom.h"
#include "tools/ksallocctl/streams.h"
#include "tools/ksallocctl/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

struct snapshot {
	struct ksalloc_daemon_stats daemon; /* only when asked for everything */
	struct ksalloc_pool_info *pools;
	struct ksalloc_pool_stats *stats; /* stats[i] is pools[i]'s */
	size_t n_pools;
	struct ksalloc_session_info *sessions; /* without ksallocctl's own */
	size_t n_sessions;
	struct ksalloc_stream_info *streams; /* only when asked for everything */
	size_t n_streams;
};

static void snapshot_clear(struct snapshot *s)
{
	for (size_t i = 0; i < s->n_pools; i++)
		free(s->stats[i].holders);
	free(s->stats);
	free(s->pools);
	free(s->sessions);
	free(s->streams);
	free(s->daemon.requests);
	*s = (struct snapshot){ 0 };
}

/*
 * Lists the pools and gets each one's extended status; with @everything, the
 * streams, the sessions and the daemon's own numbers too. A pool destroyed
 * between the list and its status is left out. Prints what failed, as "ksallocctl: @command: ...",
 * and returns a negative errno; 0 and *ret on success.
 */
static int snapshot_take(struct ksalloc_client *c, const char *command, bool everything,
			 struct snapshot *ret)
{
	struct snapshot s = { 0 };
	size_t n_listed, n_kept = 0;
	uint32_t self;
	int r;

	r = ksalloc_client_list_pools(c, &s.pools, &n_listed);
	if (r < 0)
		goto fail;
	s.stats = calloc(n_listed ? n_listed : 1, sizeof(*s.stats));
	if (!s.stats) {
		free(s.pools);
		fprintf(stderr, "ksallocctl: %s: out of memory\n", command);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_listed; i++) {
		r = ksalloc_client_pool_stats(c, s.pools[i].name, &s.stats[s.n_pools]);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			fprintf(stderr, "ksallocctl: %s: pool %s: %s\n", command, s.pools[i].name,
				ksalloc_client_error(c));
			goto out;
		}
		if (n_kept != i)
			s.pools[n_kept] = s.pools[i];
		s.n_pools = ++n_kept;
	}
	if (!everything) {
		*ret = s;
		return 0;
	}

	r = ksalloc_client_list_streams(c, &s.streams, &s.n_streams);
	if (r < 0)
		goto fail;
	r = ksalloc_client_list_sessions(c, &s.sessions, &s.n_sessions);
	if (r < 0)
		goto fail;
	/* Our own session would be a new series at every scrape: it is left out. */
	self = ksalloc_client_session_id(c);
	n_kept = 0;
	for (size_t i = 0; i < s.n_sessions; i++) {
		if (s.sessions[i].session_id == self)
			continue;
		if (n_kept != i)
			s.sessions[n_kept] = s.sessions[i];
		n_kept++;
	}
	s.n_sessions = n_kept;

	/* Last, so that its request counts include the requests above. */
	r = ksalloc_client_daemon_stats(c, &s.daemon);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;

fail:
	fprintf(stderr, "ksallocctl: %s: %s\n", command, ksalloc_client_error(c));
out:
	snapshot_clear(&s);
	return r;
}

/* Flushes stdout: a failed write (a full disk) fails the command, so `&& mv` moves no half file. */
static int finish_output(const char *command)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ksallocctl: %s: cannot write the output: %m\n", command);
		return 1;
	}
	return 0;
}

static int print_json(json_object *o, const char *command)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return finish_output(command);
}

/* ---- metrics: the text exposition format ------------------------------------------------ */

enum {
	DAEMON_INFO,
	DAEMON_UPTIME,
	DAEMON_SESSIONS,
	DAEMON_POOLS,
	DAEMON_REQUESTS,
	DAEMON_UNDECODABLE,
	_DAEMON_MAX,
};

static const struct ctl_prom_family daemon_families[_DAEMON_MAX] = {
	[DAEMON_INFO] = { "ksalloc_daemon_info", "gauge", NULL,
			  "The daemon's version, in its label; always 1." },
	[DAEMON_UPTIME] = { "ksalloc_daemon_uptime_seconds", "gauge", "seconds",
			    "Time since the daemon started." },
	[DAEMON_SESSIONS] = { "ksalloc_daemon_sessions", "gauge", NULL,
			      "Sessions connected to the daemon, the one that asked among them." },
	[DAEMON_POOLS] = { "ksalloc_daemon_pools", "gauge", NULL,
			   "Pools of the daemon, those this user may not see among them." },
	[DAEMON_REQUESTS] = { "ksalloc_daemon_requests_total", "counter", NULL,
			      "Requests the daemon answered, by type and result." },
	[DAEMON_UNDECODABLE] = { "ksalloc_daemon_undecodable_requests_total", "counter", NULL,
				 "Requests the daemon could not decode." },
};

enum {
	POOL_FRAMES,
	POOL_IN_USE,
	POOL_FREE,
	POOL_PEAK,
	POOL_WAITERS,
	POOL_ACQUISITIONS,
	POOL_TIMEOUTS,
	POOL_RECLAIMED,
	POOL_SIZE,
	POOL_SESSIONS,
	_POOL_MAX,
};

static const struct ctl_prom_family pool_families[_POOL_MAX] = {
	[POOL_FRAMES] = { "ksalloc_pool_frames", "gauge", NULL, "Frames in the pool." },
	[POOL_IN_USE] = { "ksalloc_pool_frames_in_use", "gauge", NULL,
			  "Frames handed out and not yet returned." },
	[POOL_FREE] = { "ksalloc_pool_frames_free", "gauge", NULL, "Frames free to be acquired." },
	[POOL_PEAK] = { "ksalloc_pool_frames_peak", "gauge", NULL,
			"Most frames in use at once since the pool was created." },
	[POOL_WAITERS] = { "ksalloc_pool_waiters", "gauge", NULL, "Threads waiting for a frame." },
	[POOL_ACQUISITIONS] = { "ksalloc_pool_acquisitions_total", "counter", NULL,
				"Frames acquired." },
	[POOL_TIMEOUTS] = { "ksalloc_pool_timeouts_total", "counter", NULL,
			    "Acquires that gave up waiting for a frame." },
	[POOL_RECLAIMED] = { "ksalloc_pool_reclaimed_frames_total", "counter", NULL,
			     "Frames taken back from sessions that ended holding them." },
	[POOL_SIZE] = {
		"ksalloc_pool_size_bytes", "gauge", "bytes",
		"The pool's shared memory, without frames that are dma-bufs of their own.",
	},
	[POOL_SESSIONS] = { "ksalloc_pool_sessions", "gauge", NULL,
			    "Sessions that have the pool open." },
};

static uint64_t pool_value(const struct ksalloc_pool_info *p, const struct ksalloc_pool_stats *st,
			   int which)
{
	switch (which) {
	case POOL_FRAMES:
		return st->status.framing.frames;
	case POOL_IN_USE:
		return st->status.allocated_frames;
	case POOL_FREE:
		return st->free_frames;
	case POOL_PEAK:
		return st->peak_frames;
	case POOL_WAITERS:
		return st->waiters;
	case POOL_ACQUISITIONS:
		return st->acquisitions;
	case POOL_TIMEOUTS:
		return st->timeouts;
	case POOL_RECLAIMED:
		return st->reclaimed;
	case POOL_SIZE:
		return p->size_bytes;
	default:
		return st->sessions;
	}
}

static const struct ctl_prom_family holder_frames = { "ksalloc_pool_holder_frames", "gauge", NULL,
						      "Frames of the pool that a session holds." };
static const struct ctl_prom_family holder_oldest = {
	"ksalloc_pool_holder_oldest_hold_seconds", "gauge", "seconds",
	"How long the session has held its oldest frame of the pool."
};
static const struct ctl_prom_family session_frames = {
	"ksalloc_session_frames_held", "gauge", NULL,
	"Frames the session holds, in all pools (ksallocctl's own session is not listed)."
};
static const struct ctl_prom_family session_pools = {
	"ksalloc_session_pools_open", "gauge", NULL,
	"Pools the session has open (ksallocctl's own session is not listed)."
};

static void put_daemon(const struct ksalloc_daemon_stats *d)
{
	const struct ctl_prom_label version = { "version", d->version };
	char value[32];

	ctl_prom_family(stdout, &daemon_families[DAEMON_INFO]);
	ctl_prom_sample(stdout, &daemon_families[DAEMON_INFO], &version, 1, "1");
	ctl_prom_family(stdout, &daemon_families[DAEMON_UPTIME]);
	ctl_prom_ms_as_seconds(d->uptime_ms, value, sizeof(value));
	ctl_prom_sample(stdout, &daemon_families[DAEMON_UPTIME], NULL, 0, value);
	ctl_prom_family(stdout, &daemon_families[DAEMON_SESSIONS]);
	ctl_prom_u64(d->sessions, value, sizeof(value));
	ctl_prom_sample(stdout, &daemon_families[DAEMON_SESSIONS], NULL, 0, value);
	ctl_prom_family(stdout, &daemon_families[DAEMON_POOLS]);
	ctl_prom_u64(d->pools, value, sizeof(value));
	ctl_prom_sample(stdout, &daemon_families[DAEMON_POOLS], NULL, 0, value);
	if (d->n_requests)
		ctl_prom_family(stdout, &daemon_families[DAEMON_REQUESTS]);
	for (size_t i = 0; i < d->n_requests; i++) {
		struct ctl_prom_label labels[] = { { "type", d->requests[i].type },
						   { "result", "ok" } };

		ctl_prom_u64(d->requests[i].ok, value, sizeof(value));
		ctl_prom_sample(stdout, &daemon_families[DAEMON_REQUESTS], labels, 2, value);
		labels[1].value = "failed";
		ctl_prom_u64(d->requests[i].failed, value, sizeof(value));
		ctl_prom_sample(stdout, &daemon_families[DAEMON_REQUESTS], labels, 2, value);
	}
	ctl_prom_family(stdout, &daemon_families[DAEMON_UNDECODABLE]);
	ctl_prom_u64(d->undecodable, value, sizeof(value));
	ctl_prom_sample(stdout, &daemon_families[DAEMON_UNDECODABLE], NULL, 0, value);
}

static bool same_holder(const struct ksalloc_holder *a, const struct ksalloc_holder *b)
{
	return a->session_id == b->session_id && a->pid == b->pid && strcmp(a->name, b->name) == 0;
}

/*
 * Holder @j of @st with those after it that have its labels (a session's
 * stream consumers of one name, "stream S consumer NAME", are a holder each):
 * a label set is one series, so their frames add up and the oldest hold is
 * the oldest of theirs. False when a holder before @j had its labels: it was
 * counted there.
 */
static bool holder_series(const struct ksalloc_pool_stats *st, size_t j, uint64_t *ret_frames,
			  uint64_t *ret_oldest_ms)
{
	const struct ksalloc_holder *h = &st->holders[j];

	for (size_t k = 0; k < j; k++)
		if (same_holder(&st->holders[k], h))
			return false;
	*ret_frames = 0;
	*ret_oldest_ms = 0;
	for (size_t k = j; k < st->n_holders; k++) {
		if (!same_holder(&st->holders[k], h))
			continue;
		*ret_frames += st->holders[k].frames_held;
		if (st->holders[k].oldest_hold_ms > *ret_oldest_ms)
			*ret_oldest_ms = st->holders[k].oldest_hold_ms;
	}
	return true;
}

/*
 * Families whose samples would all be holders or sessions are left out when
 * there are none, rather than printed as metadata without samples.
 */
static void put_pools(const struct snapshot *s)
{
	bool any_holder = false;
	char value[32];

	for (int which = 0; which < _POOL_MAX && s->n_pools; which++) {
		ctl_prom_family(stdout, &pool_families[which]);
		for (size_t i = 0; i < s->n_pools; i++) {
			const struct ctl_prom_label labels[] = {
				{ "pool", s->pools[i].name }, { "backend", s->pools[i].backend }
			};

			ctl_prom_u64(pool_value(&s->pools[i], &s->stats[i], which), value,
				     sizeof(value));
			ctl_prom_sample(stdout, &pool_families[which], labels, 2, value);
		}
	}

	for (size_t i = 0; i < s->n_pools; i++)
		any_holder |= s->stats[i].n_holders > 0;
	for (int which = 0; which < 2 && any_holder; which++) {
		const struct ctl_prom_family *f = which == 0 ? &holder_frames : &holder_oldest;

		ctl_prom_family(stdout, f);
		for (size_t i = 0; i < s->n_pools; i++) {
			for (size_t j = 0; j < s->stats[i].n_holders; j++) {
				const struct ksalloc_holder *h = &s->stats[i].holders[j];
				char session[16], pid[16];
				const struct ctl_prom_label labels[] = { { "pool",
									   s->pools[i].name },
									 { "session", session },
									 { "pid", pid },
									 { "name", h->name } };
				uint64_t frames, oldest_ms;

				if (!holder_series(&s->stats[i], j, &frames, &oldest_ms))
					continue;
				snprintf(session, sizeof(session), "%" PRIu32, h->session_id);
				snprintf(pid, sizeof(pid), "%" PRIu32, h->pid);
				if (which == 0)
					ctl_prom_u64(frames, value, sizeof(value));
				else
					ctl_prom_ms_as_seconds(oldest_ms, value, sizeof(value));
				ctl_prom_sample(stdout, f, labels, 4, value);
			}
		}
	}
}

static void put_sessions(const struct snapshot *s)
{
	char value[32];

	for (int which = 0; which < 2 && s->n_sessions; which++) {
		const struct ctl_prom_family *f = which == 0 ? &session_frames : &session_pools;

		ctl_prom_family(stdout, f);
		for (size_t i = 0; i < s->n_sessions; i++) {
			const struct ksalloc_session_info *si = &s->sessions[i];
			char session[16], pid[16], uid[16];
			const struct ctl_prom_label labels[] = { { "session", session },
								 { "pid", pid },
								 { "uid", uid },
								 { "name", si->name } };

			snprintf(session, sizeof(session), "%" PRIu32, si->session_id);
			snprintf(pid, sizeof(pid), "%" PRIu32, si->pid);
			snprintf(uid, sizeof(uid), "%" PRIu32, si->uid);
			ctl_prom_u64(which == 0 ? si->frames_held : si->pools_open, value,
				     sizeof(value));
			ctl_prom_sample(stdout, f, labels, 4, value);
		}
	}
}

/* ---- metrics: JSON ------------------------------------------------------------------------ */

static json_object *daemon_to_json(const struct ksalloc_daemon_stats *d)
{
	json_object *o = json_object_new_object(), *requests = json_object_new_array();

	json_object_object_add(o, "version", json_object_new_string(d->version));
	json_object_object_add(o, "uptime_ms", json_object_new_uint64(d->uptime_ms));
	json_object_object_add(o, "sessions", json_object_new_uint64(d->sessions));
	json_object_object_add(o, "pools", json_object_new_uint64(d->pools));
	json_object_object_add(o, "undecodable", json_object_new_uint64(d->undecodable));
	for (size_t i = 0; i < d->n_requests; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "type", json_object_new_string(d->requests[i].type));
		json_object_object_add(r, "ok", json_object_new_uint64(d->requests[i].ok));
		json_object_object_add(r, "failed", json_object_new_uint64(d->requests[i].failed));
		json_object_array_add(requests, r);
	}
	json_object_object_add(o, "requests", requests);
	return o;
}

static json_object *session_to_json(const struct ksalloc_session_info *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "session_id", json_object_new_uint64(s->session_id));
	json_object_object_add(o, "pid", json_object_new_uint64(s->pid));
	json_object_object_add(o, "uid", json_object_new_uint64(s->uid));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "frames_held", json_object_new_uint64(s->frames_held));
	json_object_object_add(o, "pools_open", json_object_new_uint64(s->pools_open));
	return o;
}

static int print_metrics_json(const struct snapshot *s)
{
	json_object *o = json_object_new_object(), *pools = json_object_new_array();
	json_object *streams = json_object_new_array(), *sessions = json_object_new_array();

	json_object_object_add(o, "daemon", daemon_to_json(&s->daemon));
	for (size_t i = 0; i < s->n_pools; i++)
		json_object_array_add(pools, ctl_pool_to_json(&s->pools[i], &s->stats[i]));
	json_object_object_add(o, "pools", pools);
	for (size_t i = 0; i < s->n_streams; i++)
		json_object_array_add(streams, ctl_stream_to_json(&s->streams[i]));
	json_object_object_add(o, "streams", streams);
	for (size_t i = 0; i < s->n_sessions; i++)
		json_object_array_add(sessions, session_to_json(&s->sessions[i]));
	json_object_object_add(o, "sessions", sessions);
	return print_json(o, "metrics");
}

int ctl_metrics(struct ksalloc_client *c, bool json)
{
	struct snapshot s;
	int ret;

	if (snapshot_take(c, "metrics", true, &s) < 0)
		return 1;
	if (json) {
		ret = print_metrics_json(&s);
	} else {
		put_daemon(&s.daemon);
		put_pools(&s);
		ctl_put_stream_metrics(stdout, s.streams, s.n_streams);
		put_sessions(&s);
		fputs("# EOF\n", stdout);
		ret = finish_output("metrics");
	}
	snapshot_clear(&s);
	return ret;
}

/* ---- advise ------------------------------------------------------------------------------- */

struct advice {
	uint32_t frames;
	uint32_t peak;
	uint32_t suggested; /* 0: unknown (never used) */
	bool ran_dry;
	bool oversized;
	uint64_t unused_bytes_at_peak;
};

/*
 * What pool @st would have needed. A pool that timed out an acquire, or whose
 * peak reached its frames, ran dry: its real need is unknown, and half as many
 * frames again is the next size to try, whatever the margin. Otherwise the
 * peak plus @margin_percent, rounded up, and at least one frame.
 */
static struct advice advise_pool(const struct ksalloc_pool_stats *st, unsigned margin_percent)
{
	const uint32_t frames = st->status.framing.frames;
	/* The daemon is a peer too: a peak above the frames is taken as the frames. */
	const uint32_t peak = st->peak_frames < frames ? st->peak_frames : frames;
	struct advice a = { .frames = frames, .peak = peak };
	uint64_t want;

	a.ran_dry = st->timeouts > 0 || peak == frames;
	a.unused_bytes_at_peak = (uint64_t)(frames - peak) * st->status.framing.frame_size;
	if (a.ran_dry)
		want = ((uint64_t)frames * 3 + 1) / 2;
	else if (peak == 0)
		return a;
	else
		want = ((uint64_t)peak * (100 + margin_percent) + 99) / 100;
	if (want < 1)
		want = 1;
	a.suggested = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
	a.oversized = !a.ran_dry && a.suggested < frames;
	return a;
}

static void print_advice_text(const struct ksalloc_pool_info *p,
			      const struct ksalloc_pool_stats *st, const struct advice *a,
			      unsigned margin_percent)
{
	const struct ksalloc_framing *f = &st->status.framing;

	printf("\n# %s: peak %" PRIu32 " of %" PRIu32 " frames; ", p->name, a->peak, a->frames);
	if (a->ran_dry) {
		printf("too small: it ran dry");
		if (st->timeouts)
			printf(", %" PRIu64 " acquire%s timed out", st->timeouts,
			       st->timeouts == 1 ? "" : "s");
		if (st->waiters)
			printf(", %" PRIu32 " waiting now", st->waiters);
		printf("; the peak hit the limit, so the real need is unknown\n");
	} else if (a->suggested == 0) {
		printf("never used (%" PRIu64 " bytes): keep its section if something needs it "
		       "now and then, or remove it\n",
		       (uint64_t)a->frames * f->frame_size);
		return;
	} else if (a->oversized) {
		printf("oversized: %" PRIu32 " frames (%" PRIu64 " bytes) unused at peak\n",
		       a->frames - a->peak, a->unused_bytes_at_peak);
	} else if (a->suggested == a->frames) {
		printf("right-sized for a margin of %u%%\n", margin_percent);
	} else {
		printf("tight: less than the margin of %u%% was free at peak\n", margin_percent);
	}
	printf("[pool %s]\nframes = %" PRIu32 "\nframe_size = %" PRIu32 "\nalignment = %" PRIu64
	       "\n",
	       p->name, a->suggested, f->frame_size, (uint64_t)f->file_alignment + 1);
	if (strcmp(p->backend, "memfd") != 0)
		printf("backend = %s\n", p->backend);
}

static int print_advice(const struct snapshot *s, bool json, unsigned margin_percent)
{
	json_object *array = json ? json_object_new_array() : NULL;
	uint64_t unused_bytes = 0;
	size_t n_oversized = 0;

	if (!json)
		printf("# ksallocd.conf pool sizes from ksallocctl advise: the most frames each\n"
		       "# pool had in use at once since it was created, plus a margin of %u%%.\n"
		       "# Only the size keys are given: keep the other keys of your sections.\n",
		       margin_percent);
	for (size_t i = 0; i < s->n_pools; i++) {
		const struct advice a = advise_pool(&s->stats[i], margin_percent);

		if (a.oversized) {
			n_oversized++;
			unused_bytes += a.unused_bytes_at_peak;
		}
		if (!json) {
			print_advice_text(&s->pools[i], &s->stats[i], &a, margin_percent);
		} else {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(s->pools[i].name));
			json_object_object_add(o, "frames", json_object_new_uint64(a.frames));
			json_object_object_add(o, "peak", json_object_new_uint64(a.peak));
			json_object_object_add(o, "suggested_frames",
					       a.suggested ? json_object_new_uint64(a.suggested) :
							     NULL);
			json_object_object_add(o, "oversized",
					       json_object_new_boolean(a.oversized));
			json_object_object_add(o, "ran_dry", json_object_new_boolean(a.ran_dry));
			json_object_object_add(o, "unused_bytes_at_peak",
					       json_object_new_uint64(a.unused_bytes_at_peak));
			json_object_array_add(array, o);
		}
	}
	if (json)
		return print_json(array, "advise");

	if (n_oversized == 0) {
		printf("\n# oversized: none of the %zu pools\n", s->n_pools);
	} else {
		printf("\n# oversized: %zu of %zu pools (", n_oversized, s->n_pools);
		for (size_t i = 0, listed = 0; i < s->n_pools; i++) {
			if (advise_pool(&s->stats[i], margin_percent).oversized)
				printf("%s%s", listed++ ? ", " : "", s->pools[i].name);
		}
		printf("), %" PRIu64 " bytes unused at peak\n", unused_bytes);
	}
	return finish_output("advise");
}

int ctl_advise(struct ksalloc_client *c, bool json, unsigned margin_percent)
{
	struct snapshot s;
	int ret;

	if (snapshot_take(c, "advise", false, &s) < 0)
		return 1;
	ret = print_advice(&s, json, margin_percent);
	snapshot_clear(&s);
	return ret;
}
