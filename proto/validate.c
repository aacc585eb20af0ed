/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/validate.h"

#include <stdint.h>
#include <string.h>

/* Nested messages looked into at most: ksalloc.proto nests three deep. */
#define MAX_DEPTH 8

/* Reads a varint at *@p (before @end). Returns 0, or -1 when it is cut short or too long. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -1;
}

static const ProtobufCFieldDescriptor *field_by_id(const ProtobufCMessageDescriptor *d, uint64_t id)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].id == id)
			return &d->fields[i];
	return NULL;
}

static const ProtobufCFieldDescriptor *find(const ProtobufCMessageDescriptor *d, const uint8_t *p,
					    const uint8_t *end, unsigned depth)
{
	while (p < end) {
		const ProtobufCFieldDescriptor *f, *inner;
		uint64_t key, n;

		if (read_varint(&p, end, &key) < 0)
			return NULL;
		switch (key & 7) {
		case 0: /* varint */
			if (read_varint(&p, end, &n) < 0)
				return NULL;
			break;
		case 1: /* 64-bit */
			if (end - p < 8)
				return NULL;
			p += 8;
			break;
		case 5: /* 32-bit */
			if (end - p < 4)
				return NULL;
			p += 4;
			break;
		case 2: /* length-delimited: a string, bytes, a message or a packed list */
			if (read_varint(&p, end, &n) < 0 || n > (uint64_t)(end - p))
				return NULL;
			f = field_by_id(d, key >> 3);
			if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, n))
				return f;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH &&
			    (inner = find(f->descriptor, p, p + n, depth + 1)))
				return inner;
			p += n;
			break;
		default: /* groups: protobuf-c refuses them */
			return NULL;
		}
	}
	return NULL;
}

const ProtobufCFieldDescriptor *validate_find_nul_string(const ProtobufCMessageDescriptor *d,
							 const void *buf, size_t len)
{
	const uint8_t *p = buf;

	return find(d, p, p + len, 0);
}
