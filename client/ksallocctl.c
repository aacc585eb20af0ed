/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl: the operator's view of ksallocd. Human-readable tables by
 * default; --json output is built with json-c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <ksalloc/ksalloc.h>

struct ctl {
	struct ksalloc_client *client;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksallocctl [OPTIONS] COMMAND [ARGS]\n"
		"Inspect the frame pools of ksallocd.\n"
		"\n"
		"Commands:\n"
		"  list           list the pools with their framing and frames in use\n"
		"  status NAME    show the framing and status of pool NAME\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH  daemon socket (default $KSALLOC_SOCKET, else "
		KSALLOC_DEFAULT_SOCKET ")\n"
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

		for (size_t i = 0; i < n; i++)
			json_object_array_add(array, pool_to_json(pools[i].name, pools[i].backend,
								  pools[i].size_bytes,
								  &pools[i].status));
		free(pools);
		return print_json(array);
	}
	printf("%-24s %8s %12s %6s %10s %-8s\n", "NAME", "FRAMES", "FRAME SIZE", "ALIGN",
	       "ALLOCATED", "BACKEND");
	for (size_t i = 0; i < n; i++) {
		const struct ksalloc_status *st = &pools[i].status;

		printf("%-24s %8u %12u %6u %10u %-8s\n", pools[i].name, st->framing.frames,
		       st->framing.frame_size, st->framing.file_alignment + 1, st->allocated_frames,
		       pools[i].backend);
	}
	free(pools);
	return 0;
}

static int cmd_status(struct ctl *ctl, const char *name)
{
	struct ksalloc_status st;
	const struct ksalloc_framing *f = &st.framing;
	int r;

	r = ksalloc_client_pool_status(ctl->client, name, &st);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: status %s: %s\n", name,
			ksalloc_client_error(ctl->client));
		return 1;
	}
	if (ctl->json)
		return print_json(pool_to_json(name, NULL, 0, &st));
	printf("pool:             %s\n", name);
	printf("frames:           %u\n", f->frames);
	printf("frame size:       %u bytes\n", f->frame_size);
	printf("file alignment:   0x%x (%u bytes)\n", f->file_alignment, f->file_alignment + 1);
	printf("pool type:        %u (%s)\n", f->pool_type,
	       f->pool_type == 0 ? "NonPagedPool" : f->pool_type == 1 ? "PagedPool" : "unknown");
	printf("options flags:    0x%x\n", f->options_flags);
	printf("allocated frames: %u\n", st.allocated_frames);
	return 0;
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
	int c, r, ret;

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
		fprintf(stderr, "ksallocctl: missing command (list, status NAME)\n");
		return 2;
	}
	command = argv[optind++];
	if (strcmp(command, "list") == 0) {
		if (optind != argc) {
			fprintf(stderr, "ksallocctl: list takes no arguments\n");
			return 2;
		}
	} else if (strcmp(command, "status") == 0) {
		if (argc - optind != 1) {
			fprintf(stderr, "ksallocctl: usage: ksallocctl status NAME\n");
			return 2;
		}
	} else {
		fprintf(stderr, "ksallocctl: unknown command '%s' (list, status NAME)\n", command);
		return 2;
	}

	r = ksalloc_client_open(&opts, &ctl.client);
	if (r < 0) {
		fprintf(stderr, "ksallocctl: %s\n", ksalloc_client_open_error());
		return 1;
	}
	if (strcmp(command, "list") == 0)
		ret = cmd_list(&ctl);
	else
		ret = cmd_status(&ctl, argv[optind]);
	ksalloc_client_close(ctl.client);
	return ret;
}
