/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state image (daemon/state.c): what a daemon hands the next one in the
 * file descriptor store. Encoded and decoded again it is the same; anything
 * malformed is refused; an image of the version before is still read.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/state.h"

static const gid_t groups[] = { 10, 20 };
static const struct binding bindings[] = { { 1, 0 } };

/* One pool, two sessions: one subscribed to pool "video", one to nothing. */
static void sample(struct state *st, struct state_pool *pool, struct state_session *sessions)
{
	*pool = (struct state_pool){ .id = 1, .access = { .mode = 0660 } };
	strcpy(pool->name, "video");
	strcpy(pool->backend, "memfd");
	sessions[0] = (struct state_session){ .id = 1,
					      .pid = 100,
					      .n_groups = 2,
					      .groups = groups,
					      .n_bindings = 1,
					      .bindings = bindings,
					      .subscribed = true,
					      .sub_interval_ms = 10,
					      .sub_hold_ms = 500 };
	strcpy(sessions[0].name, "cam");
	strcpy(sessions[0].sub_pool, "video");
	sessions[1] = (struct state_session){ .id = 2, .pid = 101 };
	strcpy(sessions[1].name, "pid 101");
	*st = (struct state){ .pool_id_base = 0,
			      .pool_ids_used = 1,
			      .next_session_id = 3,
			      .n_pools = 1,
			      .pools = pool,
			      .n_sessions = 2,
			      .sessions = sessions };
}

/* Where session @i's subscription flag sits in an encoded sample (version 2). */
static size_t sub_offset(unsigned i)
{
	size_t head = 5 * 4;
	size_t pool = 4 + SHM_NAME_MAX + BACKEND_NAME_MAX + 4 * 4 + 8 * 4 + 4;
	size_t session = 4 + 8 + 4 * 3 + SESSION_NAME_MAX + 4 + 8 + 4 + 4;
	size_t sub = 4 + SHM_NAME_MAX + 4 + 4;
	size_t first = session + sub + 2 * 4 + 1 * 8;

	return head + pool + (size_t)i * first + session;
}

START_TEST(test_a_subscription_is_decoded_as_it_was_encoded)
{
	struct state_session sessions[2];
	struct state_pool pool;
	struct state st, back;
	const char *reason = NULL;
	uint8_t *buf;
	size_t len;

	sample(&st, &pool, sessions);
	ck_assert_int_eq(state_encode(&st, &buf, &len), 0);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), 0);
	ck_assert_uint_eq(back.n_sessions, 2);
	ck_assert(back.sessions[0].subscribed);
	ck_assert_str_eq(back.sessions[0].sub_pool, "video");
	ck_assert_uint_eq(back.sessions[0].sub_interval_ms, 10);
	ck_assert_uint_eq(back.sessions[0].sub_hold_ms, 500);
	ck_assert_uint_eq(back.sessions[0].groups[1], 20);
	ck_assert_uint_eq(back.sessions[0].bindings[0].pool_id, 1);
	ck_assert(!back.sessions[1].subscribed);
	state_clear(&back);

	/* The offsets the malformed cases below write at are where the encoder put it. */
	ck_assert_uint_eq(*(uint32_t *)(buf + sub_offset(0)), 1);
	ck_assert_str_eq((char *)buf + sub_offset(0) + 4, "video");
	ck_assert_uint_eq(*(uint32_t *)(buf + sub_offset(1)), 0);
	free(buf);
}
END_TEST

START_TEST(test_a_subscription_to_streams_is_bit_1_of_the_flag)
{
	struct state_session sessions[2];
	struct state_pool pool;
	struct state st, back;
	const char *reason = NULL;
	uint8_t *buf;
	size_t len;

	sample(&st, &pool, sessions);
	sessions[0].sub_streams = true;
	ck_assert_int_eq(state_encode(&st, &buf, &len), 0);
	ck_assert_uint_eq(*(uint32_t *)(buf + sub_offset(0)), 3);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), 0);
	ck_assert(back.sessions[0].subscribed);
	ck_assert(back.sessions[0].sub_streams);
	ck_assert(!back.sessions[1].sub_streams);
	state_clear(&back);
	free(buf);
}
END_TEST

/* Encodes the sample, lets @spoil change it, and expects the decoder to refuse it. */
static void assert_refused(void (*spoil)(uint8_t *buf))
{
	struct state_session sessions[2];
	struct state_pool pool;
	struct state st, back;
	const char *reason = NULL;
	uint8_t *buf;
	size_t len;

	sample(&st, &pool, sessions);
	ck_assert_int_eq(state_encode(&st, &buf, &len), 0);
	spoil(buf);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "a session's record is out of bounds");
	free(buf);
}

static void flag_two(uint8_t *buf)
{
	*(uint32_t *)(buf + sub_offset(0)) = 2;
}

static void flag_four(uint8_t *buf)
{
	*(uint32_t *)(buf + sub_offset(0)) = 4;
}

static void bad_pool_name(uint8_t *buf)
{
	memcpy(buf + sub_offset(0) + 4, "../x", 5);
}

static void unterminated_pool_name(uint8_t *buf)
{
	memset(buf + sub_offset(0) + 4, 'a', SHM_NAME_MAX);
}

static void interval_below_floor(uint8_t *buf)
{
	*(uint32_t *)(buf + sub_offset(0) + 4 + SHM_NAME_MAX) = 5;
}

static void unsubscribed_with_a_pool(uint8_t *buf)
{
	memcpy(buf + sub_offset(1) + 4, "video", 6);
}

static void unsubscribed_with_a_hold(uint8_t *buf)
{
	*(uint32_t *)(buf + sub_offset(1) + 4 + SHM_NAME_MAX + 4) = 1;
}

START_TEST(test_a_malformed_subscription_is_refused)
{
	assert_refused(flag_two);
	assert_refused(flag_four);
	assert_refused(bad_pool_name);
	assert_refused(unterminated_pool_name);
	assert_refused(interval_below_floor);
	assert_refused(unsubscribed_with_a_pool);
	assert_refused(unsubscribed_with_a_hold);
}
END_TEST

START_TEST(test_streams_are_decoded_as_they_were_encoded)
{
	struct state_session sessions[2];
	struct state_stream streams[1] = { {
		.id = 3,
		.pool_id = 1,
		.access = { .owner = 5, .group = 6, .mode = 0640 },
		.flags = STATE_STREAM_FROM_CONFIG,
		.producer = 1,
		.consumers = { [0] = 2, [31] = 1 },
		.read_only = 1u << 31,
	} };
	struct state_pool pool;
	struct state st, back;
	const char *reason = NULL;
	uint8_t *buf;
	size_t len;

	strcpy(streams[0].name, "cam");
	sample(&st, &pool, sessions);
	st.n_streams = 1;
	st.streams = streams;
	ck_assert_int_eq(state_encode(&st, &buf, &len), 0);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), 0);
	ck_assert_uint_eq(back.n_streams, 1);
	ck_assert(memcmp(&back.streams[0], &streams[0], sizeof(streams[0])) == 0);
	state_clear(&back);
	/* Read as version 2 (no streams), the streams are bytes too many. */
	ck_assert_int_eq(state_decode(buf, len, 2, &back, &reason), -EBADMSG);
	/* A record out of bounds: an id with the stream bit, then a bad name. */
	*(uint32_t *)(buf + len - 4 * (8 + SHM_STREAM_CONSUMERS) - SHM_NAME_MAX) =
		SHM_TENANT_STREAM;
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "a stream's record is out of bounds");
	*(uint32_t *)(buf + len - 4 * (8 + SHM_STREAM_CONSUMERS) - SHM_NAME_MAX) = 3;
	memcpy(buf + len - 4 * (7 + SHM_STREAM_CONSUMERS) - SHM_NAME_MAX, "../x", 5);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION, &back, &reason), -EBADMSG);
	/* A count of streams larger than the bytes left. */
	ck_assert_int_eq(state_decode(buf, len - 8, STATE_VERSION, &back, &reason), -EBADMSG);
	free(buf);
}
END_TEST

START_TEST(test_an_image_of_version_1_is_read_without_subscriptions)
{
	struct state_session sessions[2];
	struct state_pool pool;
	struct state st, back;
	const char *reason = NULL;
	uint8_t *buf, *v1;
	size_t len, sub = 4 + SHM_NAME_MAX + 4 + 4, v1_len = 0;

	sample(&st, &pool, sessions);
	ck_assert_int_eq(state_encode(&st, &buf, &len), 0);
	/*
	 * The same image without each session's subscription fields, nor the
	 * count of streams that ends it (0 here): version 1.
	 */
	v1 = malloc(len);
	ck_assert_ptr_nonnull(v1);
	ck_assert_uint_eq(*(uint32_t *)(buf + len - 4), 0);
	for (size_t at = 0; at < len - 4;) {
		size_t next = at == sub_offset(0) || at == sub_offset(1) ? at + sub : at + 1;

		if (next == at + 1)
			v1[v1_len++] = buf[at];
		at = next;
	}
	ck_assert_uint_eq(v1_len, len - 4 - 2 * sub);
	ck_assert_int_eq(state_decode(v1, v1_len, 1, &back, &reason), 0);
	ck_assert_uint_eq(back.n_sessions, 2);
	ck_assert(!back.sessions[0].subscribed);
	ck_assert_str_eq(back.sessions[0].name, "cam");
	ck_assert_uint_eq(back.sessions[0].bindings[0].slot, 0);
	state_clear(&back);
	/* Read as version 2 it ends inside a record; a version from the future is refused. */
	ck_assert_int_eq(state_decode(v1, v1_len, 2, &back, &reason), -EBADMSG);
	ck_assert_int_eq(state_decode(buf, len, STATE_VERSION + 1, &back, &reason), -EBADMSG);
	free(v1);
	free(buf);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("image");

	tcase_add_test(tc, test_a_subscription_is_decoded_as_it_was_encoded);
	tcase_add_test(tc, test_a_subscription_to_streams_is_bit_1_of_the_flag);
	tcase_add_test(tc, test_a_malformed_subscription_is_refused);
	tcase_add_test(tc, test_an_image_of_version_1_is_read_without_subscriptions);
	tcase_add_test(tc, test_streams_are_decoded_as_they_were_encoded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
