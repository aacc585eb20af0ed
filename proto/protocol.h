/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The protocol's messages (generated from ksalloc.proto) and its constants,
 * without the socket code: what the daemon's request handlers may see.
 */

#include "proto/ksalloc.pb-c.h"

#define WIRE_PROTOCOL_VERSION 1u
#define WIRE_DEFAULT_MAX_MESSAGE 65536u /* bytes; the daemon may announce another */
#define WIRE_MIN_MAX_MESSAGE 4096u
#define WIRE_MAX_FDS 253 /* SCM_MAX_FD: the kernel's limit of fds per message */
