/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocd: wires config, storage, rpc and transport together on one libuv
 * loop, and tells systemd how it is doing.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "rpc.h"
#include "server.h"
#include "storage.h"

struct daemon {
	uv_loop_t loop;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	struct server *server;
	struct storage *storage;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksallocd [OPTIONS]\n"
		"Serve KS frame allocator pools to local processes.\n"
		"\n"
		"  -c, --config PATH   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -s, --socket PATH   listen on PATH instead of the config's socket\n"
		"                      (default " CONFIG_DEFAULT_SOCKET ")\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"SIGTERM or SIGINT shut the daemon down cleanly.\n");
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	log_info("received SIG%s, shutting down", sigabbrev_np(signum));
	sd_notify(0, "STOPPING=1");
	/* Waiters learn the pools are going before sessions close and frames come back. */
	storage_retire(d->storage);
	server_close(d->server);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

/* Loads --config, or the default path; only a missing default file means built-in defaults. */
static int load_config(const char *path, struct daemon_config **ret_cfg)
{
	char *error = NULL;
	int r;

	r = config_load(path ? path : CONFIG_DEFAULT_PATH, ret_cfg, &error);
	if (r == -ENOENT && !path) {
		free(error);
		log_info("%s does not exist: built-in defaults, no pools", CONFIG_DEFAULT_PATH);
		*ret_cfg = calloc(1, sizeof(**ret_cfg));
		if (!*ret_cfg || config_init(*ret_cfg) < 0)
			return -ENOMEM;
		return 0;
	}
	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	free(error);
	return r;
}

static int create_pools(const struct daemon_config *cfg, const char *config_path,
			struct storage *storage)
{
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct pool_config *pc = &cfg->pools[i];
		struct pool *p;
		int r = storage_add(storage, pc->name, &pc->framing, pc->backend,
				    cfg->max_pool_sessions, true, &p);

		if (r < 0) {
			log_error("%s:%u: [pool %s]: cannot create the pool: %s",
				  config_path ? config_path : CONFIG_DEFAULT_PATH, pc->line, pc->name,
				  r == -EOVERFLOW ? "too large to map" : strerror(-r));
			return r;
		}
		log_info("pool %s: %u frames of %u bytes, alignment %u, %s, %llu bytes", p->name,
			 p->framing.frames, p->framing.frame_size, p->framing.file_alignment + 1,
			 p->backend->name, (unsigned long long)p->layout.size_bytes);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *config_path = NULL, *socket_path = NULL;
	struct daemon_config *cfg = NULL;
	struct storage *storage = NULL;
	struct daemon d = { 0 };
	struct rpc rpc;
	int c, r, ret = EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "c:s:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("ksallocd %s\n", KSALLOC_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ksallocd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_FAILURE;
	}

	/* Replies use MSG_NOSIGNAL; this covers anything else that writes to a dead peer. */
	signal(SIGPIPE, SIG_IGN);

	if (load_config(config_path, &cfg) < 0)
		goto out;
	log_set_level(cfg->log_level);
	if (socket_path) {
		char *copy = strdup(socket_path);

		if (!copy)
			goto out;
		free(cfg->socket_path);
		cfg->socket_path = copy;
	}

	if (storage_new(&storage) < 0 || create_pools(cfg, config_path, storage) < 0)
		goto out;
	d.storage = storage;

	rpc_init(&rpc, storage,
		 &(struct rpc_limits){
			 .max_message_size = cfg->max_message_size,
			 .max_sessions = cfg->max_sessions,
			 .max_pool_sessions = cfg->max_pool_sessions,
			 .framing = cfg->limits,
		 },
		 cfg->keep_created_pools);

	r = uv_loop_init(&d.loop);
	if (r < 0) {
		log_error("cannot create the event loop: %s", uv_strerror(r));
		goto out;
	}
	r = server_new(&d.loop,
		       &(struct server_options){
			       .socket_path = cfg->socket_path,
			       .max_sessions = cfg->max_sessions,
			       .max_message_size = cfg->max_message_size,
		       },
		       &rpc, &d.server);
	if (r < 0) {
		log_error("cannot listen on %s: %s%s", cfg->socket_path, strerror(-r),
			  r == -EADDRINUSE ? " (another ksallocd is serving it)" :
			  r == -ENOENT	   ? " (does its folder exist?)" :
			  r == -EEXIST	   ? " (the path exists and is not a socket)" :
					     "");
		uv_loop_close(&d.loop);
		goto out;
	}

	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);

	log_info("ksallocd %s listening on %s with %zu pools", KSALLOC_VERSION, cfg->socket_path,
		 storage_count(storage));
	sd_notifyf(0, "READY=1\nSTATUS=Serving %zu pools on %s", storage_count(storage),
		   cfg->socket_path);

	uv_run(&d.loop, UV_RUN_DEFAULT);

	d.server = server_free(d.server);
	r = uv_loop_close(&d.loop);
	if (r < 0) {
		log_error("event loop still has open handles at exit: %s", uv_strerror(r));
		goto out;
	}
	ret = EXIT_SUCCESS;
out:
	storage_free(storage);
	config_free(cfg);
	return ret;
}
