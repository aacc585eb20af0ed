/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl: the operator's view of ksallocd. Human-readable tables by
 * default; --json output is built with json-c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <ksalloc/ksalloc.h>

#include "tools/ksallocctl/top.h"
#include "tools/ksallocctl/metrics.h"
#include "tools/ksallocctl/streams.h"
#include "tools/ksallocctl/util.h"

struct ctl {
	struct ksalloc_client *client;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksallocctl [OPTIONS] COMMAND [ARGS]\n"
		"Inspect the frame pools and streams of ksallocd.\n"
		"\n"
		"Commands:\n"
		"  list           list the pools with their framing and frames in use\n"
		"  status NAME    show the framing, counters and frame holders of pool NAME\n"
		"  clients        list the sessions connected to the daemon\n"
		"  destroy NAME   destroy pool NAME once none of its frames is held (its owner, root)\n"
		"  backends       list the memory backends and whether the daemon's machine has them\n"
		"  streams [NAME] list the streams (stream NAME) with their producer and consumers\n"
		"  top [--interval MS]\n"
		"                 live view of the pools, who holds their frames, and the streams\n"
		"                 (q quits)\n"
		"  watch [--interval MS] [--hold MS] [NAME]\n"
		"                 print the events of pool NAME (every pool) a line each, as they come\n"
		"  metrics        print the daemon's, pools', streams' and sessions' numbers for\n"
		"                 Prometheus\n"
		"  advise [--margin PERCENT]\n"
		"                 suggest pool sizes: the peaks seen plus PERCENT (default 25)\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH  daemon socket (default $KSALLOC_SOCKET, else " KSALLOC_DEFAULT_SOCKET
		")\n"
		"  -j, --json         print JSON instead of text\n"
		"  -h, --help         show this help and exit\n"
		"  -V, --version      show the version and exit\n"
		"\n"
		"Exit status: 0 on success, 1 when the daemon refused or could not be reached,\n"
		"2 on a usage error.\n");
}

static json_object *framing_to_json(const struct ksalloc_framing *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "options_flags", json_object_new_uint64(f->options_flags));
	json_object_object_add(o, "pool_type", json_object_new_uint64(f->pool_type));
	json_object_object_add(o, "frames", json_object_new_uint64(f->frames));
	json_object_object_add(o, "frame_size", json_object_new_uint64(f->frame_size));
	json_object_object_add(o, "file_alignment", json_object_new_uint64(f->file_alignment));
	return o;
}

/* The flat object of one pool: the keys scripts rely on are at the top level. */
static json_object *pool_to_json(const char *name, const char *backend, uint64_t size_bytes,
				 const struct ksalloc_status *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "frames", json_object_new_uint64(st->framing.frames));
	json_object_object_add(o, "frame_size", json_object_new_uint64(st->framing.frame_size));
	json_object_object_add(o, "alignment",
			       json_object_new_uint64((uint64_t)st->framing.file_alignment + 1));
	json_object_object_add(o, "allocated_frames", json_object_new_uint64(st->allocated_frames));
	if (backend)
		json_object_object_add(o, "backend", json_object_new_string(backend));
	if (size_bytes)
		json_object_object_add(o, "size_bytes", json_object_new_uint64(size_bytes));
	json_object_object_add(o, "framing", framing_to_json(&st->framing));
	return o;
}

static int print_json(json_object *o)
{
	int r = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return r < 0 ? 1 : 0;
}

static int cmd_list(struct ctl *ctl)
{
	struct ksalloc_pool_info *pools;
	size_t n;
	int r;

	r = ksalloc_client_list_pools(ctl->client, &pools, &n);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: list: %s\n", ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *o = pool_to_json(pools[i].name, pools[i].backend,
						      pools[i].size_bytes, &pools[i].status);
			char mode[8];

			snprintf(mode, sizeof(mode), "%04o", pools[i].mode);
			json_object_object_add(o, "owner", json_object_new_uint64(pools[i].owner));
			json_object_object_add(o, "group", json_object_new_uint64(pools[i].group));
			json_object_object_add(o, "mode", json_object_new_string(mode));
			json_object_object_add(o, "committed",
					       json_object_new_boolean(pools[i].committed));
			json_object_object_add(o, "locked",
					       json_object_new_boolean(pools[i].locked));
			json_object_array_add(array, o);
		}
		free(pools);
		return print_json(array);
	}
	printf("%-24s %8s %12s %6s %10s %-8s\n", "NAME", "FRAMES", "FRAME SIZE", "ALIGN",
	       "ALLOCATED", "BACKEND");
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_status *st = &pools[i].status;

		printf("%-24s %8u %12u %6u %10u %s%s\n", pools[i].name, st->framing.frames,
		       st->framing.frame_size, st->framing.file_alignment + 1, st->allocated_frames,
		       pools[i].backend, pools[i].locked ? " (locked)" : "");
	}
	free(pools);
	return 0;
}

static int print_status_json(const char *name, const struct ksalloc_pool_stats *st)
{
	json_object *o = pool_to_json(name, st->backend, 0, &st->status);

	json_object_object_add(o, "committed", json_object_new_boolean(st->committed));
	ctl_pool_counters_to_json(o, st);
	json_object_object_add(o, "sessions", json_object_new_uint64(st->sessions));
	json_object_object_add(o, "holders", ctl_holders_to_json(st));
	return print_json(o);
}

static int cmd_status(struct ctl *ctl, const char *name)
{
	struct ksalloc_pool_stats st;
	const struct ksalloc_framing *f = &st.status.framing;
	int r;

	r = ksalloc_client_pool_stats(ctl->client, name, &st);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: status %s: %s\n", name,
			ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json) {
		r = print_status_json(name, &st);
		free(st.holders);
		return r;
	}
	printf("pool:             %s\n", name);
	printf("backend:          %s\n", st.backend);
	printf("state:            %s\n", st.committed ? "committed" : "decommitted");
	printf("frames:           %u\n", f->frames);
	printf("frame size:       %u bytes\n", f->frame_size);
	printf("file alignment:   0x%x (%u bytes)\n", f->file_alignment, f->file_alignment + 1);
	printf("pool type:        %u (%s)\n", f->pool_type,
	       f->pool_type == 0 ? "NonPagedPool" :
	       f->pool_type == 1 ? "PagedPool" :
				   "unknown");
	printf("options flags:    0x%x\n", f->options_flags);
	printf("allocated frames: %u\n", st.status.allocated_frames);
	printf("free frames:      %u\n", st.free_frames);
	printf("peak:             %u\n", st.peak_frames);
	printf("waiters:          %u\n", st.waiters);
	printf("acquisitions:     %llu\n", (unsigned long long)st.acquisitions);
	printf("timeouts:         %llu\n", (unsigned long long)st.timeouts);
	printf("reclaimed:        %llu\n", (unsigned long long)st.reclaimed);
	printf("sessions:         %u\n", st.sessions);
	if (st.n_holders) {
		printf("\n%-8s %8s %6s %-24s %7s %12s\n", "SESSION", "PID", "UID", "NAME", "FRAMES",
		       "OLDEST HOLD");
		for (size_t i = 0; i < st.n_holders; i++) {
			const struct ksalloc_holder *h = &st.holders[i];
			char age[32];

			ctl_format_age(h->oldest_hold_ms, age, sizeof(age));
			printf("%-8u %8u %6u %-24s %7u %12s\n", h->session_id, h->pid, h->uid,
			       h->name, h->frames_held, age);
		}
	}
	free(st.holders);
	return 0;
}

static int cmd_destroy(struct ctl *ctl, const char *name)
{
	int r = ksalloc_client_destroy_pool(ctl->client, name);

	if (r < 0) {
		fprintf(stderr, "ksallocctl: destroy %s: %s\n", name,
			ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "destroyed", json_object_new_boolean(r == 1));
		return print_json(o);
	}
	printf(r == 1 ? "pool %s destroyed\n" :
			"pool %s takes no new opens and goes once its frames are released\n",
	       name);
	return 0;
}

static const char *contiguity_name(enum ksalloc_contiguity c)
{
	switch (c) {
	case KSALLOC_CONTIGUITY_PAGES:
		return "pages";
	case KSALLOC_CONTIGUITY_HUGE_PAGES:
		return "huge-pages";
	case KSALLOC_CONTIGUITY_WHOLE:
		return "whole";
	case KSALLOC_CONTIGUITY_UNKNOWN:
		break;
	}
	return "unknown";
}

static int cmd_backends(struct ctl *ctl)
{
	struct ksalloc_backend_info *backends;
	size_t n;
	int r;

	r = ksalloc_client_list_backends(ctl->client, &backends, &n);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: backends: %s\n", ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			const struct ksalloc_backend_info *b = &backends[i];
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(b->name));
			json_object_object_add(o, "available",
					       json_object_new_boolean(b->available));
			json_object_object_add(o, "reason",
					       b->available ? NULL :
							      json_object_new_string(b->reason));
			json_object_object_add(o, "dmabuf_frames",
					       json_object_new_boolean(b->dmabuf_frames));
			json_object_object_add(
				o, "contiguity",
				json_object_new_string(contiguity_name(b->contiguity)));
			json_object_object_add(o, "max_frame_size",
					       b->max_frame_size ?
						       json_object_new_uint64(b->max_frame_size) :
						       NULL);
			json_object_object_add(o, "description",
					       json_object_new_string(b->description));
			json_object_array_add(array, o);
		}
		free(backends);
		return print_json(array);
	}
	printf("%-20s %-9s %-7s %-10s %-9s %s\n", "BACKEND", "AVAILABLE", "DMA-BUF", "CONTIGUITY",
	       "MAX FRAME", "DESCRIPTION, OR WHY NOT");
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_backend_info *b = &backends[i];
		char max[24] = "-";

		if (b->max_frame_size)
			snprintf(max, sizeof(max), "%" PRIu64 " MiB", b->max_frame_size >> 20);
		printf("%-20s %-9s %-7s %-10s %-9s %s\n", b->name, b->available ? "yes" : "no",
		       b->dmabuf_frames ? "yes" : "no", contiguity_name(b->contiguity), max,
		       b->available ? b->description : b->reason);
	}
	free(backends);
	return 0;
}

static int cmd_clients(struct ctl *ctl)
{
	struct ksalloc_session_info *sessions;
	size_t n;
	int r;

	r = ksalloc_client_list_sessions(ctl->client, &sessions, &n);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: clients: %s\n", ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			const struct ksalloc_session_info *s = &sessions[i];
			json_object *o = json_object_new_object();

			json_object_object_add(o, "session_id",
					       json_object_new_uint64(s->session_id));
			json_object_object_add(o, "pid", json_object_new_uint64(s->pid));
			json_object_object_add(o, "uid", json_object_new_uint64(s->uid));
			json_object_object_add(o, "gid", json_object_new_uint64(s->gid));
			json_object_object_add(o, "name", json_object_new_string(s->name));
			json_object_object_add(o, "pools_open",
					       json_object_new_uint64(s->pools_open));
			json_object_object_add(o, "frames_held",
					       json_object_new_uint64(s->frames_held));
			json_object_object_add(o, "connected_ms",
					       json_object_new_uint64(s->connected_ms));
			json_object_object_add(
				o, "self",
				json_object_new_boolean(s->session_id ==
							ksalloc_client_session_id(ctl->client)));
			json_object_array_add(array, o);
		}
		free(sessions);
		return print_json(array);
	}
	printf("%-8s %8s %6s %-24s %6s %7s %10s\n", "SESSION", "PID", "UID", "NAME", "POOLS",
	       "FRAMES", "CONNECTED");
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_session_info *s = &sessions[i];
		char age[32];

		ctl_format_age(s->connected_ms, age, sizeof(age));
		printf("%-8u %8u %6u %-24s %6u %7u %10s%s\n", s->session_id, s->pid, s->uid,
		       s->name, s->pools_open, s->frames_held, age,
		       s->session_id == ksalloc_client_session_id(ctl->client) ? "  (this one)" :
										 "");
	}
	free(sessions);
	return 0;
}

/* `ksallocctl streams [NAME]`: every stream this user may see, or stream NAME alone. */
static int cmd_streams(struct ctl *ctl, const char *name)
{
	struct ksalloc_stream_info *streams;
	size_t n, n_kept = 0;
	int r;

	r = ksalloc_client_list_streams(ctl->client, &streams, &n);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: streams: %s\n", ksalloc_client_error(ctl->client));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (name && strcmp(streams[i].name, name) != 0)
			continue;
		if (n_kept != i)
			streams[n_kept] = streams[i];
		n_kept++;
	}
	if (name && n_kept == 0) {
		fprintf(stderr,
			"ksallocctl: streams: no stream named \"%s\" (ksallocctl streams shows the "
			"streams)\n",
			name);
		free(streams);
		return 1;
	}
	if (ctl->json) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < n_kept; i++)
			json_object_array_add(array, ctl_stream_to_json(&streams[i]));
		free(streams);
		return print_json(array);
	}
	ctl_print_streams(stdout, streams, n_kept);
	free(streams);
	return 0;
}

#define COMMANDS                                                                                  \
	"list, status NAME, clients, destroy NAME, backends, streams [NAME], top, watch [NAME], " \
	"metrics, advise"

/* Parses a count of milliseconds for @option: 1 to 3600000. Returns it, or 0 (a usage error). */
static uint32_t parse_ms(const char *option, const char *text)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = text ? strtoul(text, &end, 10) : 0;
	if (!text || errno || end == text || *end || text[0] == '-' || v > 3600000 ||
	    (v == 0 && strcmp(option, "--hold") != 0)) {
		fprintf(stderr, "ksallocctl: %s takes milliseconds, %s to 3600000; got '%s'\n",
			option, strcmp(option, "--hold") == 0 ? "0" : "1", text ? text : "");
		return UINT32_MAX;
	}
	return (uint32_t)v;
}

/* Parses advise's arguments, [--margin PERCENT] of 0 to 1000: the margin, or -1 (a usage error). */
static int parse_advise_args(int argc, char **argv)
{
	unsigned long v;
	char *end;

	if (argc == 0)
		return 25;
	if (argc != 2 || strcmp(argv[0], "--margin") != 0) {
		fprintf(stderr, "ksallocctl: usage: ksallocctl advise [--margin PERCENT]\n");
		return -1;
	}
	errno = 0;
	v = strtoul(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || argv[1][0] < '0' || argv[1][0] > '9' || v > 1000) {
		fprintf(stderr, "ksallocctl: --margin takes a percentage, 0 to 1000; got '%s'\n",
			argv[1]);
		return -1;
	}
	return (int)v;
}

/* top and watch, with their options: they open subscriptions, not a client. */
static int live_command(const struct ksalloc_client_options *opts, const struct ctl *ctl,
			const char *command, int argc, char **argv)
{
	bool watch = strcmp(command, "watch") == 0;
	uint32_t interval_ms = watch ? 0 : 500, hold_ms = 1000;
	const char *pool = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--interval") == 0) {
			interval_ms = parse_ms("--interval", i + 1 < argc ? argv[++i] : NULL);
			if (interval_ms == UINT32_MAX)
				return 2;
		} else if (watch && strcmp(argv[i], "--hold") == 0) {
			hold_ms = parse_ms("--hold", i + 1 < argc ? argv[++i] : NULL);
			if (hold_ms == UINT32_MAX)
				return 2;
		} else if (watch && !pool && argv[i][0] != '-') {
			pool = argv[i];
		} else {
			fprintf(stderr, "ksallocctl: usage: ksallocctl %s\n",
				watch ? "watch [--interval MS] [--hold MS] [NAME]" :
					"top [--interval MS]");
			return 2;
		}
	}
	if (watch)
		return ctl_watch(opts, pool, ctl->json, interval_ms, hold_ms);
	return ctl_top(opts, interval_ms, ctl->json);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct ksalloc_client_options opts;
	struct ctl ctl = { 0 };
	const char *command;
	int c, r, ret, margin_percent = 25;

	ksalloc_client_options_init(&opts);
	opts.client_name = "ksallocctl";
	while ((c = getopt_long(argc, argv, "+s:jhV", options, NULL)) != -1) {
		switch (c) {
		case 's':
			opts.socket_path = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ksallocctl %s\n", KSALLOC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ksallocctl: missing command (" COMMANDS ")\n");
		return 2;
	}
	command = argv[optind++];
	if (strcmp(command, "top") == 0 || strcmp(command, "watch") == 0)
		return live_command(&opts, &ctl, command, argc - optind, argv + optind);
	if (strcmp(command, "list") == 0 || strcmp(command, "clients") == 0 ||
	    strcmp(command, "backends") == 0 || strcmp(command, "metrics") == 0) {
		if (optind != argc) {
			fprintf(stderr, "ksallocctl: %s takes no arguments\n", command);
			return 2;
		}
	} else if (strcmp(command, "advise") == 0) {
		margin_percent = parse_advise_args(argc - optind, argv + optind);
		if (margin_percent < 0)
			return 2;
	} else if (strcmp(command, "streams") == 0) {
		if (argc - optind > 1) {
			fprintf(stderr, "ksallocctl: usage: ksallocctl streams [NAME]\n");
			return 2;
		}
	} else if (strcmp(command, "status") == 0 || strcmp(command, "destroy") == 0) {
		if (argc - optind != 1) {
			fprintf(stderr, "ksallocctl: usage: ksallocctl %s NAME\n", command);
			return 2;
		}
	} else {
		fprintf(stderr, "ksallocctl: unknown command '%s' (" COMMANDS ")\n", command);
		return 2;
	}

	r = ksalloc_client_open(&opts, &ctl.client);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: %s\n", ksalloc_client_open_error());
		return 1;
	}
	if (strcmp(command, "list") == 0)
		ret = cmd_list(&ctl);
	else if (strcmp(command, "clients") == 0)
		ret = cmd_clients(&ctl);
	else if (strcmp(command, "destroy") == 0)
		ret = cmd_destroy(&ctl, argv[optind]);
	else if (strcmp(command, "backends") == 0)
		ret = cmd_backends(&ctl);
	else if (strcmp(command, "streams") == 0)
		ret = cmd_streams(&ctl, optind < argc ? argv[optind] : NULL);
	else if (strcmp(command, "metrics") == 0)
		ret = ctl_metrics(ctl.client, ctl.json);
	else if (strcmp(command, "advise") == 0)
		ret = ctl_advise(ctl.client, ctl.json, (unsigned)margin_percent);
	else
		ret = cmd_status(&ctl, argv[optind]);
	ksalloc_client_close(ctl.client);
	return ret;
}
