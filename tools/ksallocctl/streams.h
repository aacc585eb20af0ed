/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Streams as ksallocctl shows them: the table and JSON of `ksallocctl
 * streams`, top's rows and the Prometheus families of `ksallocctl metrics`.
 * Nothing here asks the daemon: each takes what ksalloc_client_list_streams()
 * returned, so that tests can hand it filled structs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <ksalloc/ksalloc.h>

/* "waiting", "flowing", "ended", "producer-gone"; "unknown" for another value. */
const char *ctl_stream_state_name(enum ksalloc_stream_state state);

/* "block", "drop-newest", "drop-oldest", "latest"; "unknown" for another value. */
const char *ctl_stream_policy_name(enum ksalloc_stream_policy policy);

/* A latency for people: "850 ns", "12 µs", "1.3 ms", "2.5 s"; 0 (no data) is "-". */
void ctl_format_latency(uint64_t ns, char *buf, size_t size);

/* The stream and its consumers, as `ksallocctl --json streams` prints it. */
json_object *ctl_stream_to_json(const struct ksalloc_stream_info *s);

/*
 * `ksallocctl streams`: a line per stream (name, pool, state, owner, group,
 * mode, producer, frames published, format bytes) and under it a line per
 * consumer (slot, pid, name, policy, depth, queued, held, delivered, dropped,
 * read-only, latency p50 and p99).
 */
void ctl_print_streams(FILE *out, const struct ksalloc_stream_info *streams, size_t n);

/* The consumer whose queue is fullest (queued / depth), or NULL when there is none. */
const struct ksalloc_stream_consumer_info *
ctl_stream_fullest_consumer(const struct ksalloc_stream_info *s);

/* The highest p99 latency of its consumers, ns (0: no data). */
uint64_t ctl_stream_worst_p99(const struct ksalloc_stream_info *s);

/*
 * Frames @cur dropped for its consumers since @prev, a sample of the same
 * stream (NULL: none): a consumer is matched by its slot and session; one
 * that is new since counts its drops whole, one that left counts nothing.
 */
uint64_t ctl_stream_dropped_since(const struct ksalloc_stream_info *prev,
				  const struct ksalloc_stream_info *cur);

/* Frames published since @prev (0 when @prev is NULL or another stream of the same name). */
uint64_t ctl_stream_published_since(const struct ksalloc_stream_info *prev,
				    const struct ksalloc_stream_info *cur);

/* top's heading of the streams' section, and one stream's row, with its rates per second. */
void ctl_format_top_stream_header(char *buf, size_t size);
void ctl_format_top_stream_row(const struct ksalloc_stream_info *s, double published_per_s,
			       double dropped_per_s, char *buf, size_t size);

/*
 * The streams' families of `ksallocctl metrics`, in the Prometheus text
 * format: per stream, ksalloc_stream_published_total, _consumers and
 * _producer_attached; per consumer, ksalloc_stream_consumer_delivered_total,
 * _dropped_total, _queued, _held, _depth and the p50 and p99 latencies.
 * Families without samples are left out.
 */
void ctl_put_stream_metrics(FILE *out, const struct ksalloc_stream_info *streams, size_t n);
