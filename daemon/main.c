/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocd: wires config, storage, rpc and transport together on one libuv
 * loop, and tells systemd how it is doing (READY, RELOADING, STATUS,
 * WATCHDOG, STOPPING).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "daemon/config.h"
#include "daemon/handover.h"
#include "daemon/util/log.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/rpc/rpc.h"
#include "daemon/transport/server.h"
#include "daemon/storage/storage.h"
#include "shm/liveness.h"

#ifndef KSALLOC_SYSCONFDIR
#define KSALLOC_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG KSALLOC_SYSCONFDIR "/ksallocd/ksallocd.conf"

/* How often pools being removed are looked at, and the status text refreshed. */
#define HOUSEKEEPING_MS 1000

struct daemon {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t housekeeping;
	uv_timer_t heartbeat; /* every SHM_HEARTBEAT_MS: clients see the daemon live */
	uv_timer_t watchdog;
	bool watchdog_running;

	const char *config_path; /* as given, or DEFAULT_CONFIG */
	bool config_given;
	const char *socket_override;
	struct daemon_config *cfg;
	struct storage *storage;
	struct rpc rpc;
	struct server *server;
	char status[128]; /* the STATUS= last sent */

	/* The file descriptor store (daemon/handover.h), under a service manager. */
	struct handover handover;
	uv_check_t handover_check;
	uv_timer_t handover_retry;
	uint64_t handover_retry_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksallocd [OPTIONS]\n"
		"Serve KS frame allocator pools to local processes.\n"
		"\n"
		"  -c, --config PATH   configuration file (default " DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH   listen on PATH instead of the config's socket\n"
		"                      (default " CONFIG_DEFAULT_SOCKET ")\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"SIGTERM or SIGINT shut the daemon down cleanly; SIGHUP reloads the configuration.\n"
		"Under systemd it takes its socket from socket activation when there is one.\n");
}

/* Loads the config; only a missing default file means built-in defaults. */
static int load_config(const struct daemon *d, struct daemon_config **ret_cfg)
{
	char *error = NULL;
	int r;

	r = config_load(d->config_path, ret_cfg, &error);
	if (r == -ENOENT && !d->config_given) {
		free(error);
		log_info("%s does not exist: built-in defaults, no pools", d->config_path);
		*ret_cfg = calloc(1, sizeof(**ret_cfg));
		if (!*ret_cfg || config_init(*ret_cfg) < 0) {
			*ret_cfg = config_free(*ret_cfg);
			return -ENOMEM;
		}
		return 0;
	}
	if (r < 0)
		log_error("%s", error ? error : strerror(-r));
	free(error);
	return r;
}

static struct rpc_limits limits_of(const struct daemon_config *cfg)
{
	return (struct rpc_limits){
		.max_message_size = cfg->max_message_size,
		.max_sessions = cfg->max_sessions,
		.max_pool_sessions = cfg->max_pool_sessions,
		.max_pools_per_uid = cfg->max_pools_per_uid,
		.max_pool_bytes_per_uid = cfg->max_pool_bytes_per_uid,
		.max_frames_per_session = cfg->max_frames_per_session,
		.framing = cfg->limits,
	};
}

static struct rpc_policy policy_of(const struct daemon_config *cfg)
{
	return (struct rpc_policy){
		.create_group_set = cfg->create_group_set,
		.create_group = cfg->create_group,
		.created_pool_mode = cfg->created_pool_mode,
		.keep_created_pools = cfg->keep_created_pools,
	};
}

/* Sends STATUS= when the text changed: a line for `systemctl status`. */
static void update_status(struct daemon *d)
{
	char status[sizeof(d->status)];

	snprintf(status, sizeof(status), "Serving %zu pools to %u sessions",
		 storage_count(d->storage), server_connection_count(d->server));
	if (strcmp(status, d->status) == 0)
		return;
	strcpy(d->status, status);
	notifyf("STATUS=%s", status);
}

static void on_housekeeping(uv_timer_t *t)
{
	struct daemon *d = t->data;

	rpc_collect(&d->rpc, server_evict, d->server);
	handover_touch(&d->handover);
	update_status(d);
}

static void on_heartbeat(uv_timer_t *t)
{
	struct daemon *d = t->data;

	storage_heartbeat(d->storage, shm_now_coarse_ms());
}

static void on_watchdog(uv_timer_t *t)
{
	notify("WATCHDOG=1");
}

/* SIGHUP: a config that does not load changes nothing. */
static void reload(struct daemon *d)
{
	struct daemon_config *cfg;
	struct rpc_limits limits;
	struct rpc_policy policy;
	unsigned failures;

	notify("RELOADING=1\nSTATUS=Reloading the configuration");
	log_info("reloading %s", d->config_path);
	if (load_config(d, &cfg) < 0) {
		log_error("reload failed: the running configuration stays");
		d->status[0] = 0;
		notify("READY=1");
		update_status(d);
		return;
	}
	if (strcmp(cfg->socket_path, d->cfg->socket_path) != 0 && !d->socket_override)
		log_warning("reload: socket changed to %s; it takes a restart", cfg->socket_path);
	if (cfg->max_message_size != d->cfg->max_message_size)
		log_warning("reload: max_message_size changed; it takes a restart");
	/* What cannot change while running stays as it started. */
	cfg->max_message_size = d->cfg->max_message_size;

	log_set_level(cfg->log_level);
	limits = limits_of(cfg);
	policy = policy_of(cfg);
	rpc_configure(&d->rpc, &limits, &policy);
	server_set_max_sessions(d->server, cfg->max_sessions, cfg->max_sessions_per_uid);
	failures = reload_pools(&d->rpc, d->storage, cfg, d->config_path);
	reload_streams(d->storage, cfg, d->config_path);
	handover_touch(&d->handover);
	config_free(d->cfg);
	d->cfg = cfg;
	log_info("reloaded %s%s", d->config_path,
		 failures ? " (some pools could not be created)" : "");
	d->status[0] = 0;
	notify("READY=1");
	update_status(d);
}

static void handover_stop_handles(struct daemon *d)
{
	if (!d->handover.enabled)
		return;
	uv_close((uv_handle_t *)&d->handover_check, NULL);
	uv_close((uv_handle_t *)&d->handover_retry, NULL);
}

static void stop(struct daemon *d)
{
	notify("STOPPING=1\nSTATUS=Stopping");
	handover_stop_handles(d);
	/* Waiters learn the pools are going before sessions close and frames come back. */
	storage_retire(d->storage);
	server_close(d->server);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->housekeeping, NULL);
	uv_close((uv_handle_t *)&d->heartbeat, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
}

static void hand_over(struct daemon *d);

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		reload(d);
		return;
	}
	if (signum == SIGTERM && d->handover.enabled)
		hand_over(d);
	log_info("received SIG%s, shutting down", sigabbrev_np(signum));
	stop(d);
}

static void on_handover_retry(uv_timer_t *t);

/* Brings the store up to date; when the manager's queue was full, again a little later. */
static void handover_sync_now(struct daemon *d)
{
	if (handover_sync(&d->handover) != -EAGAIN) {
		d->handover_retry_ms = 0;
		return;
	}
	if (uv_is_active((uv_handle_t *)&d->handover_retry))
		return;
	/* 10 ms, doubling to 1 s: a manager that does not read is not spun on. */
	d->handover_retry_ms = d->handover_retry_ms ? d->handover_retry_ms * 2 : 10;
	if (d->handover_retry_ms > 1000)
		d->handover_retry_ms = 1000;
	uv_timer_start(&d->handover_retry, on_handover_retry, d->handover_retry_ms, 0);
}

static void on_handover_retry(uv_timer_t *t)
{
	handover_sync_now(t->data);
}

/*
 * A request changed the state: to the store before its reply goes out, so a
 * crash after the client has its reply (an open pool's slot) cannot leave a
 * state that lacks what the reply said.
 */
static void on_state_changed(void *data)
{
	struct daemon *d = data;

	if (d->handover.enabled)
		handover_sync_now(d);
}

/* After each loop iteration's callbacks: whatever they changed goes to the store. */
static void on_handover_check(uv_check_t *c)
{
	handover_sync_now(c->data);
}

static void start_handover(struct daemon *d)
{
	if (!d->handover.enabled)
		return;
	uv_check_init(&d->loop, &d->handover_check);
	uv_timer_init(&d->loop, &d->handover_retry);
	d->handover_check.data = d->handover_retry.data = d;
	uv_check_start(&d->handover_check, on_handover_check);
	handover_sync_now(d);
}

/*
 * SIGTERM with a store: `systemctl restart` (the store stays) or `stop` (the
 * manager closes it, and clients see their hang-up then). Either way pools,
 * frames and connections are left as they are for the next daemon: nothing
 * is retired, reclaimed or closed, so the process just goes once the store
 * is current. Exiting here, not through the loop, is what keeps the
 * destructors (which mark pools destroyed and end sessions) from running.
 */
static void hand_over(struct daemon *d)
{
	int tries = 0;

	notify("STOPPING=1\nSTATUS=Handing over to the next ksallocd");
	while (handover_sync(&d->handover) == -EAGAIN && tries++ < 100)
		uv_sleep(10);
	if (tries > 100)
		log_warning("the service manager's queue stayed full: the store may be stale");
	/* A path we bound is ours to remove; the next daemon binds it again. */
	if (d->server->owns_path)
		unlink(d->server->socket_path);
	log_info("received SIGTERM: leaving %zu pools and %u sessions to the next ksallocd",
		 storage_count(d->storage), server_connection_count(d->server));
	notify_close();
	exit(EXIT_SUCCESS);
}

static int start_timers(struct daemon *d)
{
	uint64_t usec = 0;

	uv_timer_init(&d->loop, &d->housekeeping);
	uv_timer_init(&d->loop, &d->watchdog);
	d->housekeeping.data = d->watchdog.data = d;
	uv_timer_start(&d->housekeeping, on_housekeeping, HOUSEKEEPING_MS, HOUSEKEEPING_MS);
	uv_timer_init(&d->loop, &d->heartbeat);
	d->heartbeat.data = d;
	uv_timer_start(&d->heartbeat, on_heartbeat, SHM_HEARTBEAT_MS, SHM_HEARTBEAT_MS);
	/* systemd's WatchdogSec=: keep-alives at half the interval, as sd_watchdog_enabled(3) asks. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		uv_timer_start(&d->watchdog, on_watchdog, usec / 2000, usec / 2000);
		log_info("watchdog: keep-alive every %llu ms", (unsigned long long)(usec / 2000));
	}
	return 0;
}

static void start_signals(struct daemon *d)
{
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);
}

/*
 * One fd per session and per pool: the soft limit (1024 by default, for the
 * sake of select()) would cap max_sessions. The daemon uses no select(), so it
 * takes what the hard limit allows.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warning("cannot raise the open file limit: %s", strerror(errno));
	}
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c;

	d->config_path = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:s:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			d->config_given = true;
			break;
		case 's':
			d->socket_override = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ksallocd %s\n", KSALLOC_VERSION);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ksallocd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	struct rpc_limits limits;
	struct rpc_policy policy;
	int r, listen_fd, ret = EXIT_FAILURE;

	r = parse_args(&d, argc, argv);
	if (r <= 0)
		return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;

	/* Replies use MSG_NOSIGNAL; this covers anything else that writes to a dead peer. */
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (notify_open() < 0)
		log_warning(
			"NOTIFY_SOCKET is not a socket path: no messages to the service manager");

	if (load_config(&d, &d.cfg) < 0)
		goto out;
	log_set_level(d.cfg->log_level);
	if (d.socket_override) {
		char *copy = strdup(d.socket_override);

		if (!copy)
			goto out;
		free(d.cfg->socket_path);
		d.cfg->socket_path = copy;
	}
	handover_init(&d.handover, notify_enabled() && handover_available());
	if (handover_take_passed(&d.handover, &listen_fd) < 0)
		goto out;

	if (storage_new(&d.storage) < 0)
		goto out;
	limits = limits_of(d.cfg);
	policy = policy_of(d.cfg);
	rpc_init(&d.rpc, d.storage, &limits, &policy);
	/* Pools taken over keep their ids and names; the config's are matched to them by name. */
	handover_restore_pools(&d.handover, d.storage, &d.rpc);
	if (reload_pools(&d.rpc, d.storage, d.cfg, d.config_path) > 0)
		goto out;
	reload_streams(d.storage, d.cfg, d.config_path);

	r = uv_loop_init(&d.loop);
	if (r < 0) {
		log_error("cannot create the event loop: %s", uv_strerror(r));
		goto out;
	}
	r = server_new(&d.loop,
		       &(struct server_options){
			       .listen_fd = listen_fd,
			       .socket_path = d.cfg->socket_path,
			       .max_sessions = d.cfg->max_sessions,
			       .max_sessions_per_uid = d.cfg->max_sessions_per_uid,
			       .max_message_size = d.cfg->max_message_size,
			       .changed = on_state_changed,
			       .changed_data = &d,
		       },
		       &d.rpc, &d.server);
	if (r < 0) {
		if (listen_fd >= 0)
			log_error("cannot serve the socket systemd passed: %s", strerror(-r));
		else
			log_error("cannot listen on %s: %s%s", d.cfg->socket_path, strerror(-r),
				  r == -EADDRINUSE ? " (another ksallocd is serving it)" :
				  r == -ENOENT     ? " (does its folder exist?)" :
				  r == -EEXIST     ? " (the path exists and is not a socket)" :
						     "");
		uv_loop_close(&d.loop);
		goto out;
	}
	handover_restore_sessions(&d.handover, d.server);
	start_signals(&d);
	start_timers(&d);
	start_handover(&d);

	log_info("ksallocd %s serving %zu pools on %s%s", KSALLOC_VERSION, storage_count(d.storage),
		 d.cfg->socket_path, listen_fd >= 0 ? " (socket from systemd)" : "");
	/* Every pool is mapped by now: clients may come (those queued by socket activation too). */
	notify("READY=1");
	update_status(&d);

	uv_run(&d.loop, UV_RUN_DEFAULT);

	d.server = server_free(d.server);
	r = uv_loop_close(&d.loop);
	if (r < 0) {
		log_error("event loop still has open handles at exit: %s", uv_strerror(r));
		goto out;
	}
	ret = EXIT_SUCCESS;
out:
	handover_deinit(&d.handover);
	storage_free(d.storage);
	config_free(d.cfg);
	notify_close();
	return ret;
}
