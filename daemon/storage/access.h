/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Who may do what with a pool: an owner, a group and a mode, read the way a
 * file's are. In each class (owner, group, others) r lets a peer see the pool
 * (list, status) and w lets it open the pool (map it, acquire and release
 * frames, commit, decommit, reshape). The first class the peer belongs to
 * decides, as for files. Root may do everything. Pure: no I/O.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ACCESS_READ 04u
#define ACCESS_WRITE 02u
#define ACCESS_MODE_MASK 0777u
#define ACCESS_DEFAULT_MODE 0660u

struct pool_access {
	uid_t owner;
	gid_t group;
	uint32_t mode; /* rwx for owner, group, others; x is ignored */
};

/* A peer, as SO_PEERCRED and SO_PEERGROUPS tell it. */
struct peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups */
	size_t n_groups;
};

bool peer_in_group(const struct peer *peer, gid_t group);

/* Whether @peer may do @what (ACCESS_READ or ACCESS_WRITE) with a pool of @access. */
bool access_allows(const struct pool_access *access, const struct peer *peer, uint32_t what);

/* "0640" for messages; @buf holds at least 8 bytes. */
const char *access_mode_string(uint32_t mode, char *buf);
