/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/storage/access.h"

#include <stdio.h>

bool peer_in_group(const struct peer *peer, gid_t group)
{
	if (peer->gid == group)
		return true;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == group)
			return true;
	return false;
}

bool access_allows(const struct pool_access *access, const struct peer *peer, uint32_t what)
{
	if (peer->uid == 0)
		return true;
	if (peer->uid == access->owner)
		return (access->mode >> 6 & what) == what;
	if (peer_in_group(peer, access->group))
		return (access->mode >> 3 & what) == what;
	return (access->mode & what) == what;
}

const char *access_mode_string(uint32_t mode, char *buf)
{
	snprintf(buf, 8, "%04o", mode & ACCESS_MODE_MASK);
	return buf;
}
