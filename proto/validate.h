/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What protobuf-c does not check of a message it decodes. It hands a string
 * field over as a C string, so a string with a NUL byte inside reaches the
 * handler cut at the NUL: get_status{name = "audio-period\0junk"} would read
 * as "audio-period". The check goes over the encoded bytes, where the field's
 * length is still known. Pure: no I/O.
 */

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Looks through the @len bytes at @buf, a message of type @d, for a string
 * field (at any depth of nested messages) that has a NUL byte inside. Returns
 * that field's descriptor, or NULL when there is none. Bytes that are not a
 * well-formed message are not its business: it returns NULL for them and
 * leaves them to protobuf-c's unpack, which refuses them.
 */
const ProtobufCFieldDescriptor *validate_find_nul_string(const ProtobufCMessageDescriptor *d,
							 const void *buf, size_t len);
