/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's configuration: an INI file parsed with inih.
 *
 *   [daemon]                    every key optional
 *   socket = /run/ksallocd/ksallocd.sock
 *   max_sessions = 1024
 *   max_message_size = 65536    bytes (4096 .. 1048576)
 *   max_pool_frames = 4096      limit for any pool
 *   max_frame_size = 256M       limit for any pool; K, M, G suffixes (1024-based)
 *   log_level = info            error, warning, info or debug
 *   max_pool_sessions = 64      sessions that may have one pool open at once (1 .. 1024)
 *   keep_created_pools = no     yes: pools created by clients stay after their last
 *                               session closes (until the daemon stops)
 *   max_sessions_per_uid = 512  sessions one uid may have at once (root: no limit)
 *   max_pools_per_uid = 64      pools one uid may have created and not destroyed
 *   max_pool_bytes_per_uid = 4G shared memory of the pools one uid created
 *   max_frames_per_session = 0  frames one session may hold at once, all pools; 0: no limit
 *   create_group =              who may create pools: empty, anyone who can connect;
 *                               else root and members of this group (name or gid)
 *   created_pool_mode = 0660    mode of pools clients create (owner, group: the creator's)
 *
 *   [pool NAME]                 one section per pool created at start
 *   frames = 8                  required
 *   frame_size = 3110400        required; K, M, G suffixes
 *   alignment = 64              bytes, a power of two up to 4096; default 1
 *   backend = memfd             default memfd; or hugetlb, udmabuf, dmaheap:<heap>, or
 *                               device: whichever hardware backend the machine has
 *   optional = no               yes: on a machine without its backend, start without it
 *   lock = no                   yes: lock its pages in memory
 *   owner = ksalloc             user name or uid; default: the daemon's own user
 *   group = video               group name or gid; default: the daemon's own group
 *   mode = 0660                 octal, as for files: r sees the pool, w opens it (access.h)
 *
 *   [stream NAME]               one section per stream declared at start
 *   pool = NAME                 required: a [pool NAME] of this file
 *   owner = ksalloc             as a pool's; default: the daemon's own user
 *   group = video               as a pool's; default: the daemon's own group
 *   mode = 0660                 octal: r consumes from the stream, w produces into it
 *
 * Errors name the file, the line, the section and key, and the rule broken:
 *   "/etc/ksallocd/ksallocd.conf:12: [pool video] frames: must be greater than 0"
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/storage/access.h"
#include "daemon/storage/backend.h"
#include "shm/framing.h"
#include "daemon/util/log.h"

#define CONFIG_POOL_NAME_MAX 63 /* bytes, without the NUL */
#define CONFIG_POOL_SESSIONS_MAX 1024
#define CONFIG_DEFAULT_SOCKET "/run/ksallocd/ksallocd.sock"

struct pool_config {
	char name[CONFIG_POOL_NAME_MAX + 1];
	struct framing framing;         /* options_flags and pool_type are 0 for config pools */
	char backend[BACKEND_NAME_MAX]; /* "memfd", "dmaheap:system", "device" */
	bool optional; /* on a machine without its backend, the daemon starts without it */
	bool locked;   /* its pages are locked in memory */
	struct pool_access access;
	unsigned line; /* line of the [pool NAME] header, for later messages */
};

struct stream_config {
	char name[CONFIG_POOL_NAME_MAX + 1];
	char pool[CONFIG_POOL_NAME_MAX + 1]; /* "" until given */
	struct pool_access access;
	unsigned line; /* line of the [stream NAME] header */
};

struct daemon_config {
	char *socket_path;
	uint32_t max_sessions;
	uint32_t max_message_size;
	struct framing_limits limits;
	enum log_level log_level;
	uint32_t max_pool_sessions;
	uint32_t max_sessions_per_uid;
	uint32_t max_pools_per_uid;
	uint64_t max_pool_bytes_per_uid;
	uint32_t max_frames_per_session; /* 0: no limit */
	bool keep_created_pools;
	bool create_group_set; /* create_group given and not empty */
	gid_t create_group;
	uint32_t created_pool_mode;

	struct pool_config *pools;
	size_t n_pools;
	struct stream_config *streams;
	size_t n_streams;
};

/* Fills @cfg with the defaults above and no pools. */
int config_init(struct daemon_config *cfg);
void config_deinit(struct daemon_config *cfg);

/*
 * config_load() parses @path into a new config (defaults for missing keys).
 *
 * Returns 0 and *ret_config, or -errno: -ENOENT (and others from fopen) when
 * the file cannot be opened, -EINVAL when its contents break a rule, -ENOMEM.
 * On failure *ret_error receives a malloc'ed one-line message for the user
 * ("PATH:LINE: [SECTION] KEY: what is wrong", or "PATH: strerror" when the
 * file can't be read) and *ret_config is untouched; the caller frees the message.
 */
int config_load(const char *path, struct daemon_config **ret_config, char **ret_error);

/* Frees a config from config_load(); accepts NULL; returns NULL. */
struct daemon_config *config_free(struct daemon_config *cfg);
