/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocd end to end: the real daemon on a temporary socket, real client
 * processes through libksalloc (KS shim and native API), ksallocctl, and raw
 * datagrams for what a well-behaved client never sends.
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksalloc/ksalloc.h>
#include <ksalloc/ksproxy.h>

#include "common/utf8.h"
#include "tests/lib/harness.h"
#include "proto/ksalloc.pb-c.h"
#include "tests/lib/ksalloc-check.h"

static const char two_pools[] = "[daemon]\n"
				"log_level = debug\n"
				"\n"
				"[pool video]\n"
				"frames = 8\n"
				"frame_size = 3110400\n"
				"alignment = 64\n"
				"\n"
				"[pool audio]\n"
				"frames = 32\n"
				"frame_size = 8K\n";

static struct test_daemon daemon_;

static void start(const char *config)
{
	test_daemon_up(&daemon_, config);
}

static void stop(void)
{
	test_daemon_down(&daemon_);
}

/* ---- KS shim ---------------------------------------------------------------------- */

/* One client process: open, check the status @rounds times, release. Exit 0 if all matched. */
static int ks_client(const char *pool, ULONG frames, ULONG frame_size, ULONG alignment_mask,
		     int rounds)
{
	IKsAllocatorEx *alloc;
	IKsAllocator *base = NULL;
	HRESULT hr = KsOpenAllocator(pool, &alloc);

	if (FAILED(hr))
		return 10;
	if (FAILED(IKsAllocatorEx_QueryInterface(alloc, &IID_IKsAllocator, (void **)&base)))
		return 11;
	for (int i = 0; i < rounds; i++) {
		KSSTREAMALLOCATOR_STATUS st;

		memset(&st, 0xa5, sizeof(st));
		hr = IKsAllocator_KsGetAllocatorStatus(base, &st);
		if (FAILED(hr))
			return 12;
		if (st.Framing.Frames != frames || st.Framing.FrameSize != frame_size ||
		    st.Framing.FileAlignment != alignment_mask || st.Framing.OptionsFlags != 0 ||
		    st.Framing.PoolType != 0 || st.Framing.Reserved != 0 ||
		    st.AllocatedFrames != 0 || st.Reserved != 0)
			return 13;
	}
	IKsAllocator_Release(base);
	return IKsAllocatorEx_Release(alloc) == 0 ? 0 : 14;
}

START_TEST(test_status_from_many_processes_matches_the_config)
{
	enum { N = 8 };
	pid_t pids[N];

	start(two_pools);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			_exit(i % 2 ? ks_client("video", 8, 3110400, 63, 200) :
				      ks_client("audio", 32, 8192, 0, 200));
	}
	for (int i = 0; i < N; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "client %d failed with status %d", i, status);
	}
	stop();
}
END_TEST

START_TEST(test_ks_allocator_reports_handle_mode_and_properties)
{
	IKsAllocatorEx *alloc;
	IUnknown *unknown = NULL;
	void *other = (void *)1;
	PALLOCATOR_PROPERTIES_EX props;

	start(two_pools);
	ck_assert_int_eq(KsOpenAllocator("video", &alloc), S_OK);
	ck_assert_ptr_nonnull(IKsAllocatorEx_KsGetAllocatorHandle(alloc));
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorMode(alloc), KsAllocatorMode_User);
	IKsAllocatorEx_KsSetAllocatorMode(alloc, KsAllocatorMode_Kernel);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorMode(alloc), KsAllocatorMode_Kernel);

	props = IKsAllocatorEx_KsGetProperties(alloc);
	ck_assert_int_eq(props->cBuffers, 8);
	ck_assert_int_eq(props->cbBuffer, 3110400);
	ck_assert_int_eq(props->cbAlign, 64);
	ck_assert_int_eq(props->cbPrefix, 0);

	ck_assert_int_eq(IKsAllocatorEx_QueryInterface(alloc, &IID_IUnknown, (void **)&unknown),
			 S_OK);
	ck_assert_ptr_eq(unknown, alloc);
	ck_assert_int_eq(IKsAllocatorEx_QueryInterface(alloc, &IID_IKsPin, &other), E_NOINTERFACE);
	ck_assert_ptr_null(other);
	ck_assert_int_eq(IKsAllocatorEx_QueryInterface(alloc, &IID_IKsAllocator, NULL), E_POINTER);
	ck_assert_ptr_null(IKsAllocatorEx_KsCreateAllocatorAndGetHandle(alloc, NULL));

	/* Two references: QueryInterface's and ours. */
	ck_assert_uint_eq(IUnknown_Release(unknown), 1);
	ck_assert_uint_eq(IKsAllocatorEx_Release(alloc), 0);
	stop();
}
END_TEST

START_TEST(test_ks_failures_are_documented_hresults)
{
	IKsAllocatorEx *alloc = (IKsAllocatorEx *)1;

	start(two_pools);
	ck_assert_int_eq(KsOpenAllocator("no-such-pool", &alloc),
			 HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
	ck_assert_ptr_null(alloc);
	ck_assert_int_eq(KsOpenAllocator("bad/name", &alloc), E_INVALIDARG);
	ck_assert_int_eq(KsOpenAllocator(NULL, &alloc), E_POINTER);
	ck_assert_int_eq(KsOpenAllocator("video", NULL), E_POINTER);

	ck_assert_int_eq(KsOpenAllocator("video", &alloc), S_OK);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(alloc, NULL), E_POINTER);
	IKsAllocatorEx_Release(alloc);
	stop();
}
END_TEST

START_TEST(test_ks_open_without_daemon_is_service_not_active)
{
	IKsAllocatorEx *alloc;

	setenv("KSALLOC_SOCKET", "/tmp/ksalloc-test-nonexistent/ksallocd.sock", 1);
	ck_assert_int_eq(KsOpenAllocator("video", &alloc),
			 HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE));
	ck_assert_ptr_null(alloc);
}
END_TEST

START_TEST(test_ks_status_after_daemon_death_is_broken_pipe_not_sigpipe)
{
	KSSTREAMALLOCATOR_STATUS st;
	IKsAllocatorEx *alloc;
	int fds_before;

	/* SIGPIPE left at its default: the library must not raise it. */
	signal(SIGPIPE, SIG_DFL);
	fds_before = test_count_fds();
	start(two_pools);
	ck_assert_int_eq(KsOpenAllocator("video", &alloc), S_OK);
	test_daemon_kill(&daemon_);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st),
			 HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE));
	/* The next call tries to reach a daemon again, and finds none... */
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st),
			 HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE));
	/* ...and the one after that waits for its turn: attempts are spaced out. */
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st),
			 HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE));
	IKsAllocatorEx_Release(alloc);
	ck_assert_int_eq(test_count_fds(), fds_before);
}
END_TEST

START_TEST(test_ks_allocator_works_again_once_the_daemon_is_back)
{
	KSSTREAMALLOCATOR_STATUS st;
	IKsAllocatorEx *alloc;
	KSALLOC_FRAME held, fresh;
	HRESULT hr;

	start(two_pools);
	ck_assert_int_eq(KsOpenAllocator("video", &alloc), S_OK);
	ck_assert_int_eq(KsAllocateFrame(alloc, 0, &held), S_OK);
	test_daemon_crash(&daemon_);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st),
			 HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE));
	/* The frame held stays memory the client may use. */
	memset(held.Data, 0x3c, held.Size);

	ck_assert_int_eq(test_daemon_restart(&daemon_), 0);
	/* The library reconnects by itself, spacing its attempts out: call until it answers. */
	for (int i = 0; (hr = IKsAllocatorEx_KsGetAllocatorStatus(alloc, &st)) != S_OK; i++) {
		ck_assert_msg(hr == HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE) ||
				      hr == HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE),
			      "hr 0x%x", (unsigned)hr);
		ck_assert_int_lt(i, 10000000);
		sched_yield();
	}
	ck_assert_uint_eq(st.Framing.Frames, 8);
	/* A new daemon, new pool memory: all of it free. */
	ck_assert_uint_eq(st.AllocatedFrames, 0);
	ck_assert_int_eq(KsAllocateFrame(alloc, 0, &fresh), S_OK);
	ck_assert_ptr_ne(fresh.Data, held.Data);
	/* The old frame belonged to the pool of the daemon that died. */
	ck_assert_int_eq(KsFreeFrame(alloc, &held), E_HANDLE);
	ck_assert_int_eq(KsFreeFrame(alloc, &fresh), S_OK);
	IKsAllocatorEx_Release(alloc);
	stop();
}
END_TEST

/* ---- native API -------------------------------------------------------------------- */

START_TEST(test_native_call_to_a_stopped_daemon_times_out_then_recovers)
{
	struct ksalloc_client_options opts;
	struct ksalloc_client *c;
	struct ksalloc_status st;

	start(two_pools);
	ksalloc_client_options_init(&opts);
	opts.timeout_ms = 200;
	ck_assert_int_eq(ksalloc_client_open(&opts, &c), 0);
	kill(daemon_.pid, SIGSTOP);
	ck_assert_int_eq(ksalloc_client_pool_status(c, "video", &st), -ETIME);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "did not answer within 200 ms"));
	kill(daemon_.pid, SIGCONT);
	/* The late reply to the timed-out request is skipped; this one gets its own. */
	ck_assert_int_eq(ksalloc_client_pool_status(c, "audio", &st), 0);
	ck_assert_uint_eq(st.framing.frames, 32);
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_native_list_pages_through_many_pools)
{
	enum { N = 300 };
	struct ksalloc_pool_info *pools;
	struct ksalloc_client *c;
	size_t n;
	char *config = NULL, *p;
	size_t size;
	FILE *f = open_memstream(&config, &size);

	/* The smallest message limit makes the list span several datagrams. */
	fprintf(f, "[daemon]\nmax_message_size = 4096\n");
	for (int i = 0; i < N; i++)
		fprintf(f, "[pool p%03d]\nframes = %d\nframe_size = %d\n", i, 1 + i % 7, 4096 + i);
	fclose(f);
	start(config);
	free(config);

	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_eq(ksalloc_client_list_pools(c, &pools, &n), 0);
	ck_assert_uint_eq(n, N);
	for (int i = 0; i < N; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%03d", i);
		ck_assert_str_eq(pools[i].name, name);
		ck_assert_uint_eq(pools[i].status.framing.frames, 1 + i % 7);
		ck_assert_uint_eq(pools[i].status.framing.frame_size, 4096 + i);
		ck_assert_str_eq(pools[i].backend, "memfd");
	}
	free(pools);
	p = NULL;
	ck_assert_int_eq(ksalloc_client_pool_status(c, "p999", &(struct ksalloc_status){ 0 }),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_error(c), "no pool named \"p999\""));
	(void)p;
	ksalloc_client_close(c);
	stop();
}
END_TEST

START_TEST(test_native_open_maps_the_sealed_pool)
{
	struct ksalloc_client *c;
	struct ksalloc_pool *pool;
	const struct ksalloc_pool_info *info;

	start(two_pools);
	ck_assert_int_eq(ksalloc_client_open(NULL, &c), 0);
	ck_assert_int_eq(ksalloc_pool_open(c, "audio", &pool), 0);
	info = ksalloc_pool_get_info(pool);
	ck_assert_str_eq(info->name, "audio");
	ck_assert_uint_ne(info->pool_id, 0);
	ck_assert_uint_ge(info->size_bytes, 32 * 8192);
	ck_assert_ptr_eq(ksalloc_pool_get_client(pool), c);
	ksalloc_pool_close(pool);
	ksalloc_client_close(c);
	stop();
}
END_TEST

/* ---- daemon lifecycle -------------------------------------------------------------- */

START_TEST(test_bad_config_is_refused_with_one_line)
{
	char *log, *line;

	ck_assert_int_eq(test_daemon_start(&daemon_, "[pool video]\nframes = 0\nframe_size = 1\n"),
			 -ECHILD);
	ck_assert_int_ne(daemon_.exit_status, 0);
	log = test_daemon_log(&daemon_);
	ck_assert_msg(strstr(log, "ksallocd.conf:2: [pool video] frames:"), "log: %s", log);
	/* One line: the message and its newline, nothing more. */
	line = strchr(log, '\n');
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line + 1, "");
	free(log);
	test_daemon_kill(&daemon_);
}
END_TEST

START_TEST(test_second_daemon_on_the_same_socket_is_refused)
{
	struct test_daemon second;
	const char *args[] = { NULL };
	char *log;
	int r;

	start(two_pools);
	r = test_daemon_start_args(&second, two_pools, args);
	ck_assert_int_eq(r, 0);
	test_daemon_kill(&second);
	/* The second daemon got its own folder; now aim it at the first one's socket. */
	{
		const char *same[] = { "--socket", daemon_.socket_path, NULL };

		r = test_daemon_start_args(&second, two_pools, same);
	}
	ck_assert_int_eq(r, -ECHILD);
	ck_assert_int_ne(second.exit_status, 0);
	log = test_daemon_log(&second);
	ck_assert_msg(strstr(log, "another ksallocd is serving it"), "log: %s", log);
	free(log);
	test_daemon_kill(&second);
	/* The first daemon still serves. */
	setenv("KSALLOC_SOCKET", daemon_.socket_path, 1);
	ck_assert_int_eq(ks_client("video", 8, 3110400, 63, 1), 0);
	stop();
}
END_TEST

START_TEST(test_sigint_shuts_down_cleanly)
{
	start(two_pools);
	kill(daemon_.pid, SIGINT);
	ck_assert_int_eq(test_daemon_wait_exit(&daemon_), 0);
	ck_assert_int_eq(daemon_.exit_status, 0);
	ck_assert_int_ne(access(daemon_.socket_path, F_OK), 0);
	test_daemon_kill(&daemon_);
}
END_TEST

START_TEST(test_shutdown_with_connected_clients_is_clean)
{
	struct ksalloc_client *c[4];

	start(two_pools);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ksalloc_client_open(NULL, &c[i]), 0);
	stop();
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(ksalloc_client_pool_status(c[i], "video",
							    &(struct ksalloc_status){ 0 }),
				 -EPIPE);
		ksalloc_client_close(c[i]);
	}
}
END_TEST

/* ---- raw protocol ------------------------------------------------------------------ */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, daemon_.socket_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static Ksalloc__Reply *raw_receive(int fd)
{
	static uint8_t buf[65536];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	ck_assert_int_gt(n, 0);
	return ksalloc__reply__unpack(NULL, (size_t)n, buf);
}

static Ksalloc__Reply *raw_call(int fd, Ksalloc__Request *req)
{
	uint8_t buf[4096];
	size_t len = ksalloc__request__pack(req, buf);

	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
	return raw_receive(fd);
}

static void raw_hello(int fd)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__HelloRequest hello = KSALLOC__HELLO_REQUEST__INIT;
	Ksalloc__Reply *reply;

	hello.protocol_version = 1;
	hello.client_name = "raw \x01 test";
	req.id = 1;
	req.body_case = KSALLOC__REQUEST__BODY_HELLO;
	req.hello = &hello;
	reply = raw_call(fd, &req);
	ck_assert_int_eq(reply->hresult, S_OK);
	ck_assert_uint_eq(reply->id, 1);
	ck_assert_int_eq(reply->body_case, KSALLOC__REPLY__BODY_HELLO);
	ck_assert_uint_eq(reply->hello->protocol_version, 1);
	ck_assert_uint_eq(reply->hello->limits->max_message_size, 65536);
	ck_assert_uint_eq(reply->hello->limits->max_sessions, 1024);
	ksalloc__reply__free_unpacked(reply, NULL);
}

/* The daemon must still answer this session after whatever came before. */
static void assert_still_serves(int fd)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;

	get.name = "video";
	req.id = 77;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	reply = raw_call(fd, &req);
	ck_assert_uint_eq(reply->id, 77);
	ck_assert_int_eq(reply->hresult, S_OK);
	ck_assert_uint_eq(reply->get_status->framing->frames, 8);
	ksalloc__reply__free_unpacked(reply, NULL);
}

START_TEST(test_request_before_hello_is_unexpected)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__ListPoolsRequest list = KSALLOC__LIST_POOLS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int fd;

	start(two_pools);
	fd = raw_connect();
	req.id = 5;
	req.body_case = KSALLOC__REQUEST__BODY_LIST_POOLS;
	req.list_pools = &list;
	reply = raw_call(fd, &req);
	ck_assert_uint_eq(reply->id, 5);
	ck_assert_int_eq(reply->hresult, E_UNEXPECTED);
	ck_assert_str_eq(reply->message, "the first request of a session must be hello");
	ksalloc__reply__free_unpacked(reply, NULL);
	raw_hello(fd);
	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

START_TEST(test_unknown_request_gets_e_notimpl_and_the_session_goes_on)
{
	/* id = 9, then field 99 (a request type from a future protocol), length 0. */
	static const uint8_t future[] = { 0x08, 0x09, 0x9a, 0x06, 0x00 };
	Ksalloc__Reply *reply;
	int fd;

	start(two_pools);
	fd = raw_connect();
	raw_hello(fd);
	ck_assert_int_eq(send(fd, future, sizeof(future), 0), sizeof(future));
	reply = raw_receive(fd);
	ck_assert_uint_eq(reply->id, 9);
	ck_assert_int_eq(reply->hresult, E_NOTIMPL);
	ck_assert_ptr_nonnull(strstr(reply->message, "unknown request"));
	ksalloc__reply__free_unpacked(reply, NULL);
	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

/* Sends @len raw bytes as a request and returns the reply. */
static Ksalloc__Reply *raw_send(int fd, const uint8_t *bytes, size_t len)
{
	ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
	return raw_receive(fd);
}

START_TEST(test_name_with_a_nul_inside_is_refused_not_cut)
{
	/* Request{id 5, get_status{name "video\0junk"}}: protobuf-c alone would read "video". */
	static const uint8_t status[] = { 0x08, 0x05, 0x6a, 0x0c, 0x12, 0x0a, 'v', 'i',
					  'd',  'e',  'o',  0x00, 'j',  'u',  'n', 'k' };
	/* Request{id 6, create_pool{name "x\0y", framing{frames 2, frame_size 64}}}. */
	static const uint8_t create[] = { 0x08, 0x06, 0x72, 0x0b, 0x0a, 0x03, 'x', 0x00,
					  'y',  0x12, 0x04, 0x18, 0x02, 0x20, 0x40 };
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__GetStatusRequest get = KSALLOC__GET_STATUS_REQUEST__INIT;
	Ksalloc__Reply *reply;
	int fd;

	start(two_pools);
	fd = raw_connect();
	raw_hello(fd);
	reply = raw_send(fd, status, sizeof(status));
	ck_assert_uint_eq(reply->id, 5);
	ck_assert_int_eq(reply->hresult, E_INVALIDARG);
	ck_assert_str_eq(reply->message,
			 "request field name has a NUL byte inside: no name or text may");
	ksalloc__reply__free_unpacked(reply, NULL);

	reply = raw_send(fd, create, sizeof(create));
	ck_assert_uint_eq(reply->id, 6);
	ck_assert_int_eq(reply->hresult, E_INVALIDARG);
	ksalloc__reply__free_unpacked(reply, NULL);
	/* And no pool "x" was made of it. */
	get.name = "x";
	req.id = 7;
	req.body_case = KSALLOC__REQUEST__BODY_GET_STATUS;
	req.get_status = &get;
	reply = raw_call(fd, &req);
	ck_assert_int_eq(reply->hresult, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
	ksalloc__reply__free_unpacked(reply, NULL);
	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

/* Asks to create a pool on backend @backend; returns the refusal's message, checked clean. */
static char *create_on_backend(int fd, const char *backend)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__CreatePoolRequest create = KSALLOC__CREATE_POOL_REQUEST__INIT;
	Ksalloc__Framing framing = KSALLOC__FRAMING__INIT;
	Ksalloc__Reply *reply;
	char *message;

	framing.frames = 2;
	framing.frame_size = 64;
	create.name = "fresh";
	create.framing = &framing;
	create.backend = (char *)backend;
	req.id = 8;
	req.body_case = KSALLOC__REQUEST__BODY_CREATE_POOL;
	req.create_pool = &create;
	reply = raw_call(fd, &req);
	ck_assert_int_eq(reply->hresult, E_INVALIDARG);
	/* What a strict decoder (Google's protobuf) insists on for a string field. */
	ck_assert_msg(utf8_is_clean(reply->message, strlen(reply->message)), "not clean UTF-8: %s",
		      reply->message);
	message = strdup(reply->message);
	ksalloc__reply__free_unpacked(reply, NULL);
	return message;
}

START_TEST(test_messages_quoting_client_text_are_valid_utf8)
{
	char euros[61] = "", *message;
	int fd;

	start(two_pools);
	fd = raw_connect();
	raw_hello(fd);
	message = create_on_backend(fd, "\xff\xfe");
	ck_assert_ptr_nonnull(strstr(message, "unknown backend \"\\xff\\xfe\""));
	free(message);
	/* Twenty three-byte characters: cut between two of them, never inside one. */
	for (int i = 0; i < 20; i++)
		strcat(euros, "\xe2\x82\xac");
	message = create_on_backend(fd, euros);
	ck_assert_ptr_nonnull(strstr(message, "\xe2\x82\xac...\" is longer than 31 bytes"));
	free(message);
	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

START_TEST(test_garbage_and_oversized_datagrams_get_error_replies)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x13 };
	static uint8_t huge[70000];
	Ksalloc__Reply *reply;
	int fd;

	start(two_pools);
	fd = raw_connect();
	raw_hello(fd);

	ck_assert_int_eq(send(fd, garbage, sizeof(garbage), 0), sizeof(garbage));
	reply = raw_receive(fd);
	ck_assert_uint_eq(reply->id, 0);
	ck_assert_int_eq(reply->hresult, HRESULT_FROM_WIN32(ERROR_INVALID_DATA));
	ck_assert_str_eq(reply->message, "request could not be decoded as a ksalloc.Request");
	ksalloc__reply__free_unpacked(reply, NULL);

	memset(huge, 0x08, sizeof(huge));
	ck_assert_int_eq(send(fd, huge, sizeof(huge), 0), sizeof(huge));
	reply = raw_receive(fd);
	ck_assert_int_eq(reply->hresult, HRESULT_FROM_WIN32(ERROR_INVALID_DATA));
	ck_assert_ptr_nonnull(strstr(reply->message, "larger than max_message_size (65536"));
	ksalloc__reply__free_unpacked(reply, NULL);

	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

START_TEST(test_fds_sent_to_the_daemon_are_refused)
{
	Ksalloc__Request req = KSALLOC__REQUEST__INIT;
	Ksalloc__ListPoolsRequest list = KSALLOC__LIST_POOLS_REQUEST__INIT;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control = { 0 };
	uint8_t buf[64];
	struct iovec iov = { .iov_base = buf };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	int pair[2], fd;
	Ksalloc__Reply *reply;

	start(two_pools);
	fd = raw_connect();
	raw_hello(fd);
	req.id = 3;
	req.body_case = KSALLOC__REQUEST__BODY_LIST_POOLS;
	req.list_pools = &list;
	iov.iov_len = ksalloc__request__pack(&req, buf);
	ck_assert_int_eq(pipe(pair), 0);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cmsg), pair, sizeof(pair));
	ck_assert_int_eq(sendmsg(fd, &msg, 0), (ssize_t)iov.iov_len);
	close(pair[1]);

	reply = raw_receive(fd);
	ck_assert_uint_eq(reply->id, 3);
	ck_assert_int_eq(reply->hresult, E_INVALIDARG);
	ck_assert_str_eq(reply->message, "the daemon accepts no file descriptors; 2 closed");
	ksalloc__reply__free_unpacked(reply, NULL);
	/* The daemon closed its copy of the write end: the pipe reads EOF. */
	ck_assert_int_eq(read(pair[0], buf, 1), 0);
	close(pair[0]);
	assert_still_serves(fd);
	close(fd);
	stop();
}
END_TEST

START_TEST(test_too_many_sessions_are_refused_with_a_reason)
{
	struct ksalloc_client *c[2], *extra = NULL;

	start("[daemon]\nmax_sessions = 2\n[pool video]\nframes = 1\nframe_size = 1\n");
	ck_assert_int_eq(ksalloc_client_open(NULL, &c[0]), 0);
	ck_assert_int_eq(ksalloc_client_open(NULL, &c[1]), 0);
	ck_assert_int_eq(ksalloc_client_open(NULL, &extra), -EUSERS);
	ck_assert_ptr_null(extra);
	ck_assert_ptr_nonnull(strstr(ksalloc_client_open_error(), "max_sessions"));
	ksalloc_client_close(c[1]);
	ksalloc_client_close(c[0]);
	stop();
}
END_TEST

/* ---- ksallocctl -------------------------------------------------------------------- */

START_TEST(test_ksallocctl_json_list_has_the_config_values)
{
	char *out, *err;
	json_object *array, *pool;
	char *argv[] = { (char *)test_binary("ksallocctl"), "--json", "list", NULL };

	start(two_pools);
	ck_assert_int_eq(test_run(argv, &out, &err), 0);
	array = json_tokener_parse(out);
	ck_assert_msg(array && json_object_is_type(array, json_type_array), "not an array: %s",
		      out);
	ck_assert_uint_eq(json_object_array_length(array), 2);
	pool = json_object_array_get_idx(array, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(pool, "name")), "video");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(pool, "frames")), 8);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(pool, "frame_size")),
			 3110400);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(pool, "allocated_frames")),
			 0);
	pool = json_object_array_get_idx(array, 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(pool, "name")), "audio");
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(pool, "frame_size")), 8192);
	json_object_put(array);
	free(out);
	free(err);
	stop();
}
END_TEST

START_TEST(test_ksallocctl_status_prints_the_framing)
{
	char *out, *err;
	char *argv[] = { (char *)test_binary("ksallocctl"), "status", "video", NULL };
	char *missing[] = { (char *)test_binary("ksallocctl"), "status", "nope", NULL };

	start(two_pools);
	ck_assert_int_eq(test_run(argv, &out, &err), 0);
	ck_assert_msg(strstr(out, "frames:           8\n"), "%s", out);
	ck_assert_msg(strstr(out, "frame size:       3110400 bytes\n"), "%s", out);
	ck_assert_msg(strstr(out, "file alignment:   0x3f (64 bytes)\n"), "%s", out);
	ck_assert_msg(strstr(out, "allocated frames: 0\n"), "%s", out);
	free(out);
	free(err);

	ck_assert_int_eq(test_run(missing, &out, &err), 1);
	ck_assert_msg(strstr(err, "no pool named \"nope\""), "%s", err);
	free(out);
	free(err);
	stop();
}
END_TEST

START_TEST(test_ksallocctl_without_daemon_says_so_in_one_line)
{
	char *out, *err;
	char *argv[] = { (char *)test_binary("ksallocctl"), "--socket",
			 "/tmp/ksalloc-test-nonexistent/ksallocd.sock", "list", NULL };

	ck_assert_int_eq(test_run(argv, &out, &err), 1);
	ck_assert_str_eq(err, "ksallocctl: cannot connect to ksallocd at "
			      "/tmp/ksalloc-test-nonexistent/ksallocd.sock: No such file or "
			      "directory (is ksallocd running?)\n");
	free(out);
	free(err);
}
END_TEST

START_TEST(test_help_and_version_exit_zero)
{
	char *out, *err;
	char *help[] = { (char *)test_binary("ksallocd"), "--help", NULL };
	char *version[] = { (char *)test_binary("ksallocd"), "--version", NULL };
	char *bad[] = { (char *)test_binary("ksallocd"), "--no-such-option", NULL };
	char *ctl_help[] = { (char *)test_binary("ksallocctl"), "--help", NULL };
	char *ctl_bad[] = { (char *)test_binary("ksallocctl"), "frobnicate", NULL };

	ck_assert_int_eq(test_run(help, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "--config PATH"));
	ck_assert_ptr_nonnull(strstr(out, "--socket PATH"));
	free(out);
	free(err);
	ck_assert_int_eq(test_run(version, &out, &err), 0);
	ck_assert_str_eq(out, "ksallocd " KSALLOC_VERSION "\n");
	free(out);
	free(err);
	ck_assert_int_ne(test_run(bad, &out, &err), 0);
	free(out);
	free(err);
	ck_assert_int_eq(test_run(ctl_help, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "status NAME"));
	free(out);
	free(err);
	ck_assert_int_eq(test_run(ctl_bad, &out, &err), 2);
	ck_assert_str_eq(err, "ksallocctl: unknown command 'frobnicate' (list, status NAME, "
			      "clients, destroy NAME, backends, streams [NAME], top, watch [NAME], "
			      "metrics, advise)\n");
	free(out);
	free(err);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc;

	tc = tcase_create("ks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_status_from_many_processes_matches_the_config);
	tcase_add_test(tc, test_ks_allocator_reports_handle_mode_and_properties);
	tcase_add_test(tc, test_ks_failures_are_documented_hresults);
	tcase_add_test(tc, test_ks_open_without_daemon_is_service_not_active);
	tcase_add_test(tc, test_ks_status_after_daemon_death_is_broken_pipe_not_sigpipe);
	tcase_add_test(tc, test_ks_allocator_works_again_once_the_daemon_is_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("native");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_native_call_to_a_stopped_daemon_times_out_then_recovers);
	tcase_add_test(tc, test_native_list_pages_through_many_pools);
	tcase_add_test(tc, test_native_open_maps_the_sealed_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_bad_config_is_refused_with_one_line);
	tcase_add_test(tc, test_second_daemon_on_the_same_socket_is_refused);
	tcase_add_test(tc, test_sigint_shuts_down_cleanly);
	tcase_add_test(tc, test_shutdown_with_connected_clients_is_clean);
	tcase_add_test(tc, test_help_and_version_exit_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_request_before_hello_is_unexpected);
	tcase_add_test(tc, test_unknown_request_gets_e_notimpl_and_the_session_goes_on);
	tcase_add_test(tc, test_garbage_and_oversized_datagrams_get_error_replies);
	tcase_add_test(tc, test_name_with_a_nul_inside_is_refused_not_cut);
	tcase_add_test(tc, test_messages_quoting_client_text_are_valid_utf8);
	tcase_add_test(tc, test_fds_sent_to_the_daemon_are_refused);
	tcase_add_test(tc, test_too_many_sessions_are_refused_with_a_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("ksallocctl");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ksallocctl_json_list_has_the_config_values);
	tcase_add_test(tc, test_ksallocctl_status_prints_the_framing);
	tcase_add_test(tc, test_ksallocctl_without_daemon_says_so_in_one_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(daemon_suite());
}
