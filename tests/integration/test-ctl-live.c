/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ksallocctl's live views against the real daemon: watch read line by line
 * from a pipe, as a script would; top in a real terminal (tmux), read back
 * with capture-pane as a person would see it, and quit with q.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/harness.h"
#include "tests/lib/harness-client.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\nframes = 8\nframe_size = 64K\n"
			     "[pool audio]\nframes = 2\nframe_size = 4K\n";

static struct test_daemon daemon_;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- watch -------------------------------------------------------------------------------- */

struct watcher {
	pid_t pid;
	FILE *out; /* its stdout */
};

static void watch_start(struct watcher *w, const char *const *args)
{
	const char *argv[16] = { test_binary("ksallocctl") };
	int fds[2];
	size_t n = 1;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	w->out = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(w->out);
}

/* The next line of its output that contains @needle (10 s at most; each line as it comes). */
static char *watch_line(struct watcher *w, const char *needle)
{
	static char line[4096];
	uint64_t deadline = now_ms() + 10000;

	for (;;) {
		struct pollfd pfd = { .fd = fileno(w->out), .events = POLLIN };
		uint64_t now = now_ms();

		ck_assert_msg(now < deadline, "watch printed no line with \"%s\" in 10 s", needle);
		ck_assert_int_eq(poll(&pfd, 1, (int)(deadline - now)) >= 0, 1);
		ck_assert_msg(fgets(line, sizeof(line), w->out), "watch ended before \"%s\"",
			      needle);
		if (strstr(line, needle))
			return line;
	}
}

static void watch_stop(struct watcher *w)
{
	int status;

	kill(w->pid, SIGTERM);
	ck_assert_int_eq(waitpid(w->pid, &status, 0), w->pid);
	/* Asked to stop, it stops cleanly. */
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "watch: status 0x%x", status);
	fclose(w->out);
}

START_TEST(test_watch_prints_each_event_as_a_line)
{
	static const char *const args[] = { "watch", "--interval", "10", "--hold",
					    "100",   "audio",      NULL };
	struct watcher w;
	char want[64], *line;
	int status;
	pid_t holder;

	test_daemon_up(&daemon_, config);
	watch_start(&w, args);
	ck_assert_ptr_nonnull(strstr(watch_line(&w, " status "), "audio status in-use 0/2"));
	holder = test_spawn_holder("hog", "audio", 2);
	snprintf(want, sizeof(want), "holders %d:hog:2", (int)holder);
	line = watch_line(&w, " dry ");
	ck_assert_msg(strstr(line, "audio dry in-use 2/2") && strstr(line, want), "%s", line);
	snprintf(want, sizeof(want), "pid %d name hog frames 2 for ", (int)holder);
	line = watch_line(&w, " held-too-long ");
	ck_assert_msg(strstr(line, want), "%s", line);
	kill(holder, SIGKILL);
	ck_assert_int_eq(waitpid(holder, &status, 0), holder);
	snprintf(want, sizeof(want), "pid %d name hog frames 2", (int)holder);
	line = watch_line(&w, " reclaimed ");
	ck_assert_msg(strstr(line, want), "%s", line);
	watch_stop(&w);
	test_daemon_down(&daemon_);
}
END_TEST

START_TEST(test_watch_json_is_an_object_a_line)
{
	static const char *const args[] = { "--json", "watch", "--interval", "10", "video", NULL };
	json_object *o, *v;
	struct watcher w;
	pid_t holder;
	int status;

	test_daemon_up(&daemon_, config);
	watch_start(&w, args);
	holder = test_spawn_holder("camera", "video", 3);
	o = json_tokener_parse(watch_line(&w, "\"allocated_frames\":3"));
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "event", &v));
	ck_assert_str_eq(json_object_get_string(v), "status");
	ck_assert(json_object_object_get_ex(o, "pool", &v));
	ck_assert_str_eq(json_object_get_string(v), "video");
	ck_assert(json_object_object_get_ex(o, "holders", &v));
	ck_assert_uint_eq(json_object_array_length(v), 1);
	v = json_object_array_get_idx(v, 0);
	ck_assert(json_object_object_get_ex(v, "pid", &v));
	ck_assert_int_eq(json_object_get_int(v), holder);
	json_object_put(o);
	kill(holder, SIGKILL);
	ck_assert_int_eq(waitpid(holder, &status, 0), holder);
	watch_stop(&w);

	/* Mistakes name what is wrong. */
	{
		char *argv[] = { (char *)test_binary("ksallocctl"), "watch", "nosuch", NULL };
		char *err = NULL;

		ck_assert_int_eq(test_run(argv, NULL, &err), 1);
		ck_assert_str_eq(err, "ksallocctl: watch: subscribe: no pool named \"nosuch\" "
				      "(ksallocctl list shows the pools)\n");
		free(err);
	}
	test_daemon_down(&daemon_);
}
END_TEST

/* ---- top, in tmux ------------------------------------------------------------------------- */

static char tmux_server[64];

/* Runs tmux on our own server with @args; returns its stdout (malloc'ed) and fails on error. */
static char *tmux(const char *const *args)
{
	const char *argv[16] = { "/usr/bin/tmux", "-L", tmux_server, "-f", "/dev/null" };
	char *out = NULL, *err = NULL;
	size_t n = 5;
	int r;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	r = test_run((char *const *)argv, &out, &err);
	ck_assert_msg(r == 0, "tmux %s: %d: %s", argv[5], r, err);
	free(err);
	return out;
}

static char *pane(void)
{
	static const char *const capture[] = { "capture-pane", "-p", "-t", "top", NULL };

	return tmux(capture);
}

static char *pane_format(const char *format)
{
	const char *const args[] = { "display-message", "-p", "-t", "top", format, NULL };

	return tmux(args);
}

/* What the pane shows once it contains every string of @needles (10 s at most). */
static char *pane_once_it_shows(const char *const *needles)
{
	uint64_t deadline = now_ms() + 10000;

	for (;;) {
		char *text = pane();
		bool all = true;

		for (const char *const *n = needles; *n; n++)
			all &= strstr(text, *n) != NULL;
		if (all)
			return text;
		ck_assert_msg(now_ms() < deadline, "the pane never showed all it should:\n%s",
			      text);
		free(text);
		sched_yield();
	}
}

/* Fixtures of the parent process: the server goes even when the test fails. */
static void tmux_name(void)
{
	snprintf(tmux_server, sizeof(tmux_server), "ksalloc-test-%d", (int)getpid());
}

static void kill_tmux(void)
{
	const char *argv[] = { "/usr/bin/tmux", "-L", tmux_server, "kill-server", NULL };

	test_run((char *const *)argv, NULL, NULL);
}

START_TEST(test_top_shows_pools_and_holders_and_q_restores_the_terminal)
{
	char command[512], camera_line[64], encoder_line[64], *text, *v;
	const char *needles[] = { "POOL", "video", "audio", camera_line, encoder_line, NULL };
	pid_t camera, encoder;
	int status;

	if (access("/usr/bin/tmux", X_OK) < 0)
		ck_abort_msg("tmux is not installed (scripts/test installs it)");
	test_daemon_up(&daemon_, config);
	camera = test_spawn_holder("camera", "video", 3);
	encoder = test_spawn_holder("encoder", "video", 2);
	/* What it shows, once, as JSON: for scripts. */
	{
		char *argv[] = { (char *)test_binary("ksallocctl"), "--json", "top", NULL };
		json_object *all, *video = NULL, *jv;
		char *out = NULL;

		ck_assert_int_eq(test_run(argv, &out, NULL), 0);
		all = json_tokener_parse(out);
		ck_assert_ptr_nonnull(all);
		for (size_t i = 0; i < json_object_array_length(all); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(all, i), "name",
						      &jv) &&
			    strcmp(json_object_get_string(jv), "video") == 0)
				video = json_object_array_get_idx(all, i);
		ck_assert_ptr_nonnull(video);
		ck_assert(json_object_object_get_ex(video, "allocated_frames", &jv));
		ck_assert_int_eq(json_object_get_int(jv), 5);
		ck_assert(json_object_object_get_ex(video, "holders", &jv));
		ck_assert_uint_eq(json_object_array_length(jv), 2);
		json_object_put(all);
		free(out);
	}
	snprintf(camera_line, sizeof(camera_line), "pid %-8d camera", (int)camera);
	snprintf(encoder_line, sizeof(encoder_line), "pid %-8d encoder", (int)encoder);
	/* After top, the pane's shell says how it ended and stays, for the terminal to be read. */
	snprintf(command, sizeof(command),
		 "KSALLOC_SOCKET=%s %s top --interval 20; echo \"top exited: $?\"; exec sleep 600",
		 daemon_.socket_path, test_binary("ksallocctl"));
	{
		const char *const args[] = { "new-session", "-d", "-s", "top",   "-x",
					     "132",         "-y", "30", command, NULL };

		free(tmux(args));
	}
	text = pane_once_it_shows(needles);
	/* The fullest pool first, its biggest holder first. */
	ck_assert_msg(strstr(text, "video") < strstr(text, "audio"), "%s", text);
	ck_assert_msg(strstr(text, camera_line) < strstr(text, encoder_line), "%s", text);
	ck_assert_msg(strstr(text, "holds 3") && strstr(text, "holds 2"), "%s", text);
	ck_assert_msg(strstr(text, "5 of 10 frames in use"), "%s", text);
	v = pane_format("#{alternate_on}");
	ck_assert_str_eq(v, "1\n");
	free(v);
	free(text);

	/* q: it exits at once, with status 0, and the terminal is as it was. */
	{
		const char *const keys[] = { "send-keys", "-t", "top", "q", NULL };

		free(tmux(keys));
	}
	{
		const char *const exited[] = { "top exited: 0", NULL };

		text = pane_once_it_shows(exited);
	}
	ck_assert_msg(!strstr(text, "POOL"), "the table stayed on the screen:\n%s", text);
	free(text);
	v = pane_format("#{alternate_on} #{cursor_flag}");
	ck_assert_str_eq(v, "0 1\n");
	free(v);

	kill(camera, SIGKILL);
	kill(encoder, SIGKILL);
	ck_assert_int_eq(waitpid(camera, &status, 0), camera);
	ck_assert_int_eq(waitpid(encoder, &status, 0), encoder);
	test_daemon_down(&daemon_);
}
END_TEST

static Suite *live_suite(void)
{
	Suite *s = suite_create("ctl-live");
	TCase *tc = tcase_create("live");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, tmux_name, kill_tmux);
	tcase_add_test(tc, test_watch_prints_each_event_as_a_line);
	tcase_add_test(tc, test_watch_json_is_an_object_a_line);
	tcase_add_test(tc, test_top_shows_pools_and_holders_and_q_restores_the_terminal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ksalloc_check_run(live_suite());
}
