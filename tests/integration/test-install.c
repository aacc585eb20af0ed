/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an application developer does: install ksalloc into a folder, build
 * examples/ks-status.c against it once with pkg-config and once with
 * find_package(ksalloc), and run both against a real daemon; the same for
 * the stream examples, a producer and a consumer in processes of their own.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/harness.h"
#include "tests/lib/ksalloc-check.h"

static const char config[] = "[pool video]\nframes = 8\nframe_size = 3110400\nalignment = 64\n";
static const char expected[] = "Frames=8 FrameSize=3110400 FileAlignment=0x3f PoolType=0 "
			       "OptionsFlags=0x0 AllocatedFrames=0\n";

static char root[64];

/* Runs a shell command line; fails the test with its output if it fails. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char line[4096], *out, *err;
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	status = test_run((char *[]){ "/bin/sh", "-c", line, NULL }, &out, &err);
	ck_assert_msg(status == 0, "`%s` failed (%d):\n%s\n%s", line, status, out, err);
	free(out);
	free(err);
}

static void install(void)
{
	snprintf(root, sizeof(root), "/tmp/ksalloc-install-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	/* At the configured prefix: ksalloc.pc names it. */
	sh("DESTDIR=%s '%s' --install '%s' >/dev/null", root, CMAKE_COMMAND, PROJECT_BINARY_DIR);
}

static void uninstall(void)
{
	sh("rm -rf '%s'", root);
}

/* Runs @program against a daemon with the config above; returns its stdout. */
static char *run_against_daemon(const char *program)
{
	struct test_daemon d;
	char *out, *err, libdir[256];
	int status;

	ck_assert_int_eq(test_daemon_start(&d, config), 0);
	snprintf(libdir, sizeof(libdir), "%s%s", root, CMAKE_INSTALL_FULL_LIBDIR);
	setenv("LD_LIBRARY_PATH", libdir, 1);
	status = test_run((char *[]){ (char *)program, "video", NULL }, &out, &err);
	unsetenv("LD_LIBRARY_PATH");
	ck_assert_msg(status == 0, "%s failed (%d): %s", program, status, err);
	free(err);
	ck_assert_int_eq(test_daemon_stop(&d), 0);
	return out;
}

START_TEST(test_program_built_with_pkg_config_reads_the_status)
{
	char program[128], *out;

	install();
	snprintf(program, sizeof(program), "%s/ks-status", root);
	/* The sysroot prefixes -I and -L with the staging folder, as for a cross build. */
	sh("export PKG_CONFIG_SYSROOT_DIR=%s PKG_CONFIG_PATH=%s%s/pkgconfig; "
	   "cc -std=gnu11 -Wall -Wextra -Werror '%s/examples/ks-status.c' -o %s "
	   "$(pkg-config --cflags --libs ksalloc)",
	   root, root, CMAKE_INSTALL_FULL_LIBDIR, PROJECT_SOURCE_DIR, program);
	out = run_against_daemon(program);
	ck_assert_str_eq(out, expected);
	free(out);
	uninstall();
}
END_TEST

/* Builds examples/ into @root/build with find_package(ksalloc), as examples/CMakeLists.txt says. */
static void build_examples(void)
{
	sh("'%s' -S '%s/examples' -B %s/build -DCMAKE_PREFIX_PATH=%s%s >/dev/null && "
	   "'%s' --build %s/build >/dev/null",
	   CMAKE_COMMAND, PROJECT_SOURCE_DIR, root, root, CMAKE_INSTALL_PREFIX, CMAKE_COMMAND,
	   root);
}

START_TEST(test_program_built_with_find_package_reads_the_status)
{
	char program[128], *out;

	install();
	build_examples();
	snprintf(program, sizeof(program), "%s/build/ks-status", root);
	out = run_against_daemon(program);
	ck_assert_str_eq(out, expected);
	free(out);
	uninstall();
}
END_TEST

/* Starts @argv with its stdout on a pipe; returns its pid and the pipe's reading end. */
static pid_t spawn(char *const argv[], int *ret_out)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*ret_out = p[0];
	return pid;
}

/* Reads one line from @fd (a byte at a time: what follows is not ours to take). */
static void read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && read(fd, &buf[n], 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
}

/*
 * The README's two terminals: stream-producer creates a pool and a stream and
 * publishes 100 frames once a consumer is there; stream-consumer checks every
 * one of them and exits 0 at the end of the stream, saying it got all 100.
 */
START_TEST(test_stream_examples_pass_every_frame)
{
	char producer[128], consumer[128], libdir[256], line[256], *out, *err;
	struct test_daemon d;
	int status, pout;
	pid_t pid;

	install();
	build_examples();
	snprintf(producer, sizeof(producer), "%s/build/stream-producer", root);
	snprintf(consumer, sizeof(consumer), "%s/build/stream-consumer", root);
	test_daemon_up(&d, config);
	snprintf(libdir, sizeof(libdir), "%s%s", root, CMAKE_INSTALL_FULL_LIBDIR);
	setenv("LD_LIBRARY_PATH", libdir, 1);
	pid = spawn((char *[]){ producer, "--create", "8:4096", "--frames", "100", "--fps", "1000",
				"--wait-consumers", "1", "cam", "frames", NULL },
		    &pout);
	/* Its first line says the stream is there; then it waits for the consumer. */
	read_line(pout, line, sizeof(line));
	ck_assert_msg(strncmp(line, "stream frames on pool cam: video/x-raw", 38) == 0,
		      "stream-producer said: %s", line);
	status = test_run((char *[]){ consumer, "frames", NULL }, &out, &err);
	unsetenv("LD_LIBRARY_PATH");
	if (status != 0)
		kill(pid, SIGTERM);
	ck_assert_msg(status == 0, "stream-consumer failed (%d):\n%s\n%s", status, out, err);
	ck_assert_msg(strstr(out, "\nend of stream: 100 frames, 0 dropped"),
		      "stream-consumer said:\n%s", out);
	read_line(pout, line, sizeof(line));
	ck_assert_str_eq(line, "stream frames: 100 frames published, ended");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "stream-producer failed (status 0x%x)", status);
	close(pout);
	free(out);
	free(err);
	test_daemon_down(&d);
	uninstall();
}
END_TEST

/*
 * Every header of include/ksalloc/ is installed, and nothing else there: ksproxy.h includes its
 * parts, so one left out breaks every client. Each compiles alone from the installed folder, as a
 * client that includes only <ksalloc/ks.h> would.
 */
START_TEST(test_every_public_header_is_installed_and_compiles_alone)
{
	install();
	sh("cd '%s/include/ksalloc' && ls *.h >%s/headers.source && "
	   "cd '%s%s/ksalloc' && ls *.h >%s/headers.installed && "
	   "diff %s/headers.source %s/headers.installed",
	   PROJECT_SOURCE_DIR, root, root, CMAKE_INSTALL_FULL_INCLUDEDIR, root, root, root);
	sh("cd '%s%s' && for h in ksalloc/*.h; do "
	   "printf '#include <%%s>\\ntypedef int compiles_alone;\\n' \"$h\" | "
	   "cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I. -x c - || "
	   "{ echo \"<$h> does not compile alone\"; exit 1; }; done",
	   root, CMAKE_INSTALL_FULL_INCLUDEDIR);
	uninstall();
}
END_TEST

START_TEST(test_library_exports_only_its_public_api)
{
	char line[512], *out, *p;

	install();
	snprintf(
		line, sizeof(line),
		"nm -D --defined-only %s%s/libksalloc.so.1 | awk '{print $3}' | sed 's/@.*//' | sort",
		root, CMAKE_INSTALL_FULL_LIBDIR);
	ck_assert_int_eq(test_run((char *[]){ "/bin/sh", "-c", line, NULL }, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "KsOpenAllocator\n"));
	ck_assert_ptr_nonnull(strstr(out, "ksalloc_client_open\n"));
	ck_assert_ptr_nonnull(strstr(out, "IID_IKsAllocatorEx\n"));
	for (p = strtok(out, "\n"); p; p = strtok(NULL, "\n"))
		ck_assert_msg(strncmp(p, "ksalloc_client_", 15) == 0 ||
				      strncmp(p, "ksalloc_pool_", 13) == 0 ||
				      strncmp(p, "ksalloc_subscription_", 21) == 0 ||
				      strncmp(p, "ksalloc_event_", 14) == 0 ||
				      strncmp(p, "ksalloc_stream_", 15) == 0 ||
				      strncmp(p, "Ks", 2) == 0 || strncmp(p, "KS", 2) == 0 ||
				      strncmp(p, "IID_", 4) == 0 || strncmp(p, "CLSID_", 6) == 0 ||
				      strcmp(p, "GUID_NULL") == 0 ||
				      /* The version nodes (client/libksalloc.sym). */
				      strncmp(p, "LIBKSALLOC_", 11) == 0,
			      "libksalloc exports %s", p);
	free(out);
	sh("objdump -p %s%s/libksalloc.so.1 | grep -q 'SONAME *libksalloc.so.1$'", root,
	   CMAKE_INSTALL_FULL_LIBDIR);
	uninstall();
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (KSALLOC_SANITIZED) {
		/* Programs built outside would need the sanitizer runtime too. */
		printf("skipped: install tests do not run in a sanitizer build\n");
		return 77;
	}
	s = suite_create("install");
	tc = tcase_create("destdir");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_program_built_with_pkg_config_reads_the_status);
	tcase_add_test(tc, test_program_built_with_find_package_reads_the_status);
	tcase_add_test(tc, test_stream_examples_pass_every_frame);
	tcase_add_test(tc, test_every_public_header_is_installed_and_compiles_alone);
	tcase_add_test(tc, test_library_exports_only_its_public_api);
	suite_add_tcase(s, tc);
	return ksalloc_check_run(s);
}
