/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "proto/fastpath.h"

#include <errno.h>
#include <string.h>

/* Field tags of ksalloc.proto: (number << 3) | wire type (0 varint, 2 length-delimited). */
#define TAG_VARINT(n) ((uint8_t)((n) << 3 | 0))
#define TAG_LEN(n) ((uint8_t)((n) << 3 | 2))

enum {
	REQUEST_ID = 1,
	REQUEST_GET_STATUS = 13,
	STATUS_REQUEST_POOL_ID = 1,
	REPLY_ID = 1,
	REPLY_GET_STATUS = 13,
	STATUS_REPLY_FRAMING = 1,
	STATUS_REPLY_ALLOCATED = 2,
	FRAMING_OPTIONS_FLAGS = 1, /* then pool_type, frames, frame_size, file_alignment: 2 to 5 */
};

/* Room for the largest message here: four nested headers and seven 5-byte varints. */
#define FASTPATH_MAX 64

static size_t put_varint(uint8_t *p, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* proto3 leaves out a scalar at its default (0): so does this. */
static size_t put_field(uint8_t *p, uint8_t tag, uint32_t v)
{
	if (v == 0)
		return 0;
	p[0] = tag;
	return 1 + put_varint(p + 1, v);
}

/* A length-delimited field around @len bytes of @body. */
static size_t put_nested(uint8_t *p, uint8_t tag, const uint8_t *body, size_t len)
{
	size_t n = 1;

	p[0] = tag;
	n += put_varint(p + n, (uint32_t)len);
	memcpy(p + n, body, len);
	return n + len;
}

static ssize_t finish(void *buf, size_t size, const uint8_t *msg, size_t len)
{
	if (len > size)
		return -EMSGSIZE;
	memcpy(buf, msg, len);
	return (ssize_t)len;
}

ssize_t fastpath_pack_status_request(void *buf, size_t size, uint32_t id, uint32_t pool_id)
{
	uint8_t body[8], msg[FASTPATH_MAX];
	size_t b = put_field(body, TAG_VARINT(STATUS_REQUEST_POOL_ID), pool_id);
	size_t n = put_field(msg, TAG_VARINT(REQUEST_ID), id);

	n += put_nested(msg + n, TAG_LEN(REQUEST_GET_STATUS), body, b);
	return finish(buf, size, msg, n);
}

ssize_t fastpath_pack_status_reply(void *buf, size_t size, uint32_t id, const struct framing *f,
				   uint32_t allocated_frames)
{
	const uint32_t values[5] = { f->options_flags, f->pool_type, f->frames, f->frame_size,
				     f->file_alignment };
	uint8_t framing[32], body[48], msg[FASTPATH_MAX];
	size_t fl = 0, b, n;

	for (int i = 0; i < 5; i++)
		fl += put_field(framing + fl, TAG_VARINT(FRAMING_OPTIONS_FLAGS + i), values[i]);
	/* The framing is a message that is there, so it goes out even when empty. */
	b = put_nested(body, TAG_LEN(STATUS_REPLY_FRAMING), framing, fl);
	b += put_field(body + b, TAG_VARINT(STATUS_REPLY_ALLOCATED), allocated_frames);
	n = put_field(msg, TAG_VARINT(REPLY_ID), id);
	n += put_nested(msg + n, TAG_LEN(REPLY_GET_STATUS), body, b);
	return finish(buf, size, msg, n);
}

/* A bounded reader: any malformed or unexpected byte makes the parse give up. */
struct reader {
	const uint8_t *p, *end;
};

static bool get_varint(struct reader *r, uint32_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 35 && r->p < r->end; shift += 7) {
		uint8_t byte = *r->p++;

		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			if (v > UINT32_MAX)
				return false;
			*ret = (uint32_t)v;
			return true;
		}
	}
	return false;
}

/* Takes a length-delimited field's body as a reader of its own. */
static bool get_nested(struct reader *r, struct reader *ret)
{
	uint32_t len;

	if (!get_varint(r, &len) || len > (size_t)(r->end - r->p))
		return false;
	*ret = (struct reader){ .p = r->p, .end = r->p + len };
	r->p += len;
	return true;
}

bool fastpath_parse_status_request(const void *buf, size_t len, uint32_t *ret_id,
				   uint32_t *ret_pool_id)
{
	struct reader r = { .p = buf, .end = (const uint8_t *)buf + len }, body;
	uint32_t id = 0, pool_id = 0;
	bool status = false;

	while (r.p < r.end) {
		uint8_t tag = *r.p++;

		if (tag == TAG_VARINT(REQUEST_ID) && !status) {
			if (!get_varint(&r, &id))
				return false;
		} else if (tag == TAG_LEN(REQUEST_GET_STATUS) && !status) {
			if (!get_nested(&r, &body))
				return false;
			while (body.p < body.end) {
				if (*body.p++ != TAG_VARINT(STATUS_REQUEST_POOL_ID) ||
				    !get_varint(&body, &pool_id))
					return false; /* a name, extended, or more: not ours */
			}
			status = true;
		} else {
			return false;
		}
	}
	/* By name (pool_id 0) is protobuf-c's to decode. */
	if (!status || pool_id == 0)
		return false;
	*ret_id = id;
	*ret_pool_id = pool_id;
	return true;
}

bool fastpath_parse_status_reply(const void *buf, size_t len, uint32_t *ret_id,
				 struct framing *ret_f, uint32_t *ret_allocated_frames)
{
	struct reader r = { .p = buf, .end = (const uint8_t *)buf + len }, body, framing;
	uint32_t id = 0, allocated = 0, values[5] = { 0 };
	bool status = false, framed = false;

	while (r.p < r.end) {
		uint8_t tag = *r.p++;

		if (tag == TAG_VARINT(REPLY_ID) && !status) {
			if (!get_varint(&r, &id))
				return false;
		} else if (tag == TAG_LEN(REPLY_GET_STATUS) && !status) {
			/* Only a success has no hresult and no message: anything else, not ours. */
			if (!get_nested(&r, &body))
				return false;
			while (body.p < body.end) {
				uint8_t t = *body.p++;

				if (t == TAG_LEN(STATUS_REPLY_FRAMING)) {
					/*
					 * Twice: the wire merges the two, which protobuf-c
					 * (1.4.1) does its own way for proto3 fields; the
					 * daemon never sends that, so it is protobuf-c's.
					 */
					if (framed || !get_nested(&body, &framing))
						return false;
					framed = true;
					while (framing.p < framing.end) {
						uint8_t ft = *framing.p++;
						unsigned field = ft >> 3;

						if ((ft & 7) != 0 || field < 1 || field > 5 ||
						    !get_varint(&framing, &values[field - 1]))
							return false;
					}
				} else if (t == TAG_VARINT(STATUS_REPLY_ALLOCATED)) {
					if (!get_varint(&body, &allocated))
						return false;
				} else {
					return false; /* an extended status */
				}
			}
			status = true;
		} else {
			return false;
		}
	}
	if (!status)
		return false;
	*ret_id = id;
	*ret_f = (struct framing){
		.options_flags = values[0],
		.pool_type = values[1],
		.frames = values[2],
		.frame_size = values[3],
		.file_alignment = values[4],
	};
	*ret_allocated_frames = allocated;
	return true;
}
