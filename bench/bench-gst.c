/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-gst: runs one GStreamer pipeline, given as a gst-launch description,
 * and counts the buffers that reach the sink pad of the element named "m".
 * bench/run-gst.sh runs it once per process of each transport it compares.
 *
 *   bench-gst [--stall-ms MS] [--first-ms MS] [--timeout-ms MS] [--property NAME]...
 *             DESCRIPTION...
 *
 * The words of DESCRIPTION are joined with spaces, as gst-launch-1.0 does.
 * It prints one line on stdout:
 *
 *   result status=eos|stalled|timeout|error frames=N seconds=S fps=F cpu_s=C
 *          cpu_ms_per_frame=M first_ns=T0 last_ns=T1 first_offset=O0 last_offset=O1
 *          [m.NAME=VALUE]... [error=MESSAGE]
 *
 * - frames: buffers that reached m's sink pad (a buffer list counts its buffers);
 * - seconds: CLOCK_MONOTONIC from the first of them to the last;
 * - fps: (frames - 1) / seconds, the intervals between them;
 * - cpu_s: this process's CPU time, user + system, all threads (getrusage
 *   RUSAGE_SELF), from the first buffer to the last, so start and teardown are
 *   left out; cpu_ms_per_frame divides it by frames - 1 as fps does;
 * - first_ns, last_ns: the first and the last buffer's CLOCK_MONOTONIC, the
 *   same clock in every process, so that a producer's and a consumer's runs
 *   can be laid side by side (0 without buffers);
 * - first_offset, last_offset: the first and the last buffer's GST_BUFFER_OFFSET,
 *   which videotestsrc sets to the frame's number from 0, when a transport
 *   carries it: where a consumer's frames began and ended in the producer's
 *   (-1 when unset);
 * - m.NAME: each --property of m as it was when the run ended, such as
 *   ksallocsink's "copies" (buffers it had to copy into a frame); "?" when m
 *   has no such property or it does not convert to a string;
 * - status: eos, the pipeline ended by itself; stalled, no buffer came for
 *   --stall-ms (default 1500) after the first, or none at all in --first-ms
 *   (default 10000) after PLAYING; timeout, the run took --timeout-ms (default
 *   60000) in all; error, an error message on the bus (its text follows in
 *   error=, to the end of the line) or a pipeline that would not start.
 *
 * Exit status: 0 for eos, 1 for an error, 2 stalled, 3 timeout. The result is
 * printed before the pipeline is set to NULL: a peer that hangs makes that
 * transition hang too (shmsink's "Failed waiting on fd activity"), so an
 * alarm ends the process with the same status if it takes over 5 s. Another,
 * armed at the start, prints "result status=hung" and exits 3 if the main loop
 * itself never gets to run its timers.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gst/gst.h>

#include "bench/bench-util.h"

#define TICK_MS 50      /* how often the stall and timeout clocks are looked at */
#define TEARDOWN_S 5    /* the most that setting the pipeline to NULL may take */
#define HUNG_GRACE_S 10 /* beyond --timeout-ms, for the main loop's own watchdog */
#define EXIT_ERROR 1
#define EXIT_STALLED 2
#define EXIT_TIMEOUT 3
#define MAX_PROPERTIES 8

enum run_status {
	RUN_RUNNING,
	RUN_EOS,
	RUN_STALLED,
	RUN_TIMEOUT,
	RUN_ERROR,
};

static const char *const status_names[] = {
	[RUN_RUNNING] = "running", [RUN_EOS] = "eos",     [RUN_STALLED] = "stalled",
	[RUN_TIMEOUT] = "timeout", [RUN_ERROR] = "error",
};

struct run {
	GstElement *pipeline;
	GMainLoop *loop;
	unsigned long long stall_ms;
	unsigned long long first_ms;
	unsigned long long timeout_ms;
	int64_t playing_ns;

	/* Written by the streaming thread's probe, read by the main loop: under lock. */
	GMutex lock;
	unsigned long long frames;
	int64_t first_ns;
	int64_t last_ns;
	guint64 first_offset;
	guint64 last_offset;
	struct rusage first_usage;
	struct rusage last_usage;

	/* The main loop's own. */
	enum run_status status;
	char *error;
	GstElement *m;
	const char *properties[MAX_PROPERTIES];
	unsigned n_properties;
};

/* What the alarm handlers exit with, and whether the result line is out. */
static volatile sig_atomic_t exit_code = EXIT_TIMEOUT;
static volatile sig_atomic_t result_printed;

/*
 * SIGALRM: before the result is printed, the main loop is stuck (it runs
 * every TICK_MS otherwise), so say so; after, the NULL transition is. Only
 * async-signal-safe calls here.
 */
static void on_alarm(int sig)
{
	static const char hung[] = "result status=hung frames=0 seconds=0 fps=0 cpu_s=0 "
				   "cpu_ms_per_frame=0 first_ns=0 last_ns=0 first_offset=-1 "
				   "last_offset=-1\n";
	static const char stuck[] = "bench-gst: setting the pipeline to NULL took over 5 s; "
				    "left as it was\n";

	(void)sig;
	if (!result_printed) {
		(void)!write(STDOUT_FILENO, hung, sizeof(hung) - 1);
		_exit(EXIT_TIMEOUT);
	}
	(void)!write(STDERR_FILENO, stuck, sizeof(stuck) - 1);
	_exit(exit_code);
}

static double timeval_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double usage_s(const struct rusage *u)
{
	return timeval_s(&u->ru_utime) + timeval_s(&u->ru_stime);
}

/* Counts what reaches m's sink pad; the first and the latest buffer's clock and CPU. */
static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct run *run = data;
	GstBuffer *first, *last;
	unsigned n = 1;
	struct rusage usage;
	int64_t now;

	(void)pad;
	if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
		GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);

		n = gst_buffer_list_length(list);
		if (n == 0)
			return GST_PAD_PROBE_OK;
		first = gst_buffer_list_get(list, 0);
		last = gst_buffer_list_get(list, n - 1);
	} else {
		first = last = GST_PAD_PROBE_INFO_BUFFER(info);
	}
	/* Outside the lock: getrusage() of a whole process walks its threads. */
	getrusage(RUSAGE_SELF, &usage);
	now = now_ns();
	g_mutex_lock(&run->lock);
	if (run->frames == 0) {
		run->first_ns = now;
		run->first_usage = usage;
		run->first_offset = GST_BUFFER_OFFSET(first);
	}
	run->frames += n;
	run->last_ns = now;
	run->last_usage = usage;
	run->last_offset = GST_BUFFER_OFFSET(last);
	g_mutex_unlock(&run->lock);
	return GST_PAD_PROBE_OK;
}

static void finish(struct run *run, enum run_status status, const char *error)
{
	if (run->status != RUN_RUNNING)
		return;
	run->status = status;
	if (error)
		run->error = g_strdup(error);
	g_main_loop_quit(run->loop);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
	struct run *run = data;
	GError *err = NULL;
	char *debug = NULL;

	(void)bus;
	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_EOS:
		finish(run, RUN_EOS, NULL);
		break;
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &err, &debug);
		fprintf(stderr, "bench-gst: error from %s: %s\n  %s\n", GST_OBJECT_NAME(msg->src),
			err->message, debug ? debug : "");
		finish(run, RUN_ERROR, err->message);
		break;
	case GST_MESSAGE_WARNING:
		gst_message_parse_warning(msg, &err, &debug);
		fprintf(stderr, "bench-gst: warning from %s: %s\n  %s\n", GST_OBJECT_NAME(msg->src),
			err->message, debug ? debug : "");
		break;
	default:
		break;
	}
	g_clear_error(&err);
	g_free(debug);
	return G_SOURCE_CONTINUE;
}

/* Every TICK_MS: has the flow stopped, or the run taken too long? */
static gboolean on_tick(gpointer data)
{
	struct run *run = data;
	int64_t now = now_ns(), last;
	unsigned long long frames;

	g_mutex_lock(&run->lock);
	frames = run->frames;
	last = run->last_ns;
	g_mutex_unlock(&run->lock);

	if (now - run->playing_ns >= (int64_t)run->timeout_ms * 1000000)
		finish(run, RUN_TIMEOUT, NULL);
	else if (frames == 0 && now - run->playing_ns >= (int64_t)run->first_ms * 1000000)
		finish(run, RUN_STALLED, NULL);
	else if (frames > 0 && now - last >= (int64_t)run->stall_ms * 1000000)
		finish(run, RUN_STALLED, NULL);
	return G_SOURCE_CONTINUE;
}

/* " m.NAME=VALUE" for one of m's properties, spaces and all (values of numbers have none). */
static void print_property(GstElement *m, const char *name)
{
	GParamSpec *spec = m ? g_object_class_find_property(G_OBJECT_GET_CLASS(m), name) : NULL;
	GValue value = G_VALUE_INIT, text = G_VALUE_INIT;

	if (!spec || !(spec->flags & G_PARAM_READABLE)) {
		printf(" m.%s=?", name);
		return;
	}
	g_value_init(&value, spec->value_type);
	g_object_get_property(G_OBJECT(m), name, &value);
	g_value_init(&text, G_TYPE_STRING);
	if (g_value_transform(&value, &text) && g_value_get_string(&text))
		printf(" m.%s=%s", name, g_value_get_string(&text));
	else
		printf(" m.%s=?", name);
	g_value_unset(&text);
	g_value_unset(&value);
}

/* The result line; error messages go last, since they have spaces in them. */
static void print_result(struct run *run)
{
	double seconds = 0, cpu_s = 0, fps = 0, cpu_ms = 0;
	unsigned long long frames;
	int64_t first = 0, last = 0;
	long long first_offset = -1, last_offset = -1;

	g_mutex_lock(&run->lock);
	frames = run->frames;
	if (frames > 0) {
		seconds = (double)(run->last_ns - run->first_ns) / 1e9;
		cpu_s = usage_s(&run->last_usage) - usage_s(&run->first_usage);
		first = run->first_ns;
		last = run->last_ns;
		if (run->first_offset != GST_BUFFER_OFFSET_NONE)
			first_offset = (long long)run->first_offset;
		if (run->last_offset != GST_BUFFER_OFFSET_NONE)
			last_offset = (long long)run->last_offset;
	}
	g_mutex_unlock(&run->lock);
	if (frames > 1 && seconds > 0) {
		fps = (double)(frames - 1) / seconds;
		cpu_ms = cpu_s * 1000 / (double)(frames - 1);
	}
	printf("result status=%s frames=%llu seconds=%.6f fps=%.2f cpu_s=%.6f "
	       "cpu_ms_per_frame=%.5f first_ns=%lld last_ns=%lld first_offset=%lld last_offset=%lld",
	       status_names[run->status], frames, seconds, fps, cpu_s, cpu_ms, (long long)first,
	       (long long)last, first_offset, last_offset);
	for (unsigned i = 0; i < run->n_properties; i++)
		print_property(run->m, run->properties[i]);
	if (run->error) {
		/* One line, whatever the message holds. */
		for (char *c = run->error; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		printf(" error=%s", run->error);
	}
	printf("\n");
	fflush(stdout);
	result_printed = 1;
}

static int exit_code_of(enum run_status status)
{
	switch (status) {
	case RUN_EOS:
		return 0;
	case RUN_STALLED:
		return EXIT_STALLED;
	case RUN_TIMEOUT:
		return EXIT_TIMEOUT;
	default:
		return EXIT_ERROR;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bench-gst [--stall-ms MS] [--first-ms MS] [--timeout-ms MS] "
		   "[--property NAME]... DESCRIPTION...\n"
		   "Runs a gst-launch pipeline and counts the buffers that reach the sink pad\n"
		   "of the element named m; prints one result line (see the source).\n");
}

static int parse_ms(const char *name, const char *s, unsigned long long *ret)
{
	if (parse_uint(s, 1, 24ULL * 3600 * 1000, ret) < 0) {
		fprintf(stderr, "bench-gst: --%s: not a count of milliseconds: %s\n", name, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "stall-ms", required_argument, NULL, 's' },
		{ "first-ms", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "property", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct run run = {
		.stall_ms = 1500,
		.first_ms = 10000,
		.timeout_ms = 60000,
		.status = RUN_RUNNING,
	};
	struct sigaction sa = { .sa_handler = on_alarm };
	GstElement *m = NULL;
	GstPad *pad = NULL;
	GError *err = NULL;
	char *description;
	GstBus *bus;
	guint bus_watch;
	int c;

	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_ms("stall-ms", optarg, &run.stall_ms) < 0)
				return EXIT_ERROR;
			break;
		case 'f':
			if (parse_ms("first-ms", optarg, &run.first_ms) < 0)
				return EXIT_ERROR;
			break;
		case 't':
			if (parse_ms("timeout-ms", optarg, &run.timeout_ms) < 0)
				return EXIT_ERROR;
			break;
		case 'p':
			if (run.n_properties == MAX_PROPERTIES) {
				fprintf(stderr, "bench-gst: at most %d --property\n",
					MAX_PROPERTIES);
				return EXIT_ERROR;
			}
			run.properties[run.n_properties++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)((run.timeout_ms + 999) / 1000 + HUNG_GRACE_S));

	gst_init(NULL, NULL);
	g_mutex_init(&run.lock);
	description = g_strjoinv(" ", argv + optind);
	run.pipeline = gst_parse_launch(description, &err);
	g_free(description);
	if (!run.pipeline || err) {
		/* A pipeline with an unknown property still parses, with a recoverable error. */
		run.status = RUN_ERROR;
		run.error = g_strdup(err ? err->message : "could not parse the pipeline");
		g_clear_error(&err);
		goto print;
	}
	if (GST_IS_BIN(run.pipeline))
		m = gst_bin_get_by_name(GST_BIN(run.pipeline), "m");
	if (m)
		pad = gst_element_get_static_pad(m, "sink");
	run.m = m;
	if (!pad) {
		run.status = RUN_ERROR;
		run.error = g_strdup("no element named m with a sink pad in the pipeline");
		goto print;
	}
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
			  on_buffer, &run, NULL);

	run.loop = g_main_loop_new(NULL, FALSE);
	bus = gst_element_get_bus(run.pipeline);
	bus_watch = gst_bus_add_watch(bus, on_bus, &run);
	gst_object_unref(bus);
	g_timeout_add(TICK_MS, on_tick, &run);

	run.playing_ns = now_ns();
	if (gst_element_set_state(run.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		/* The element that failed has usually posted why; look for it first. */
		GstMessage *msg;

		bus = gst_element_get_bus(run.pipeline);
		msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		if (msg) {
			on_bus(bus, msg, &run);
			gst_message_unref(msg);
		}
		gst_object_unref(bus);
		if (run.status == RUN_RUNNING)
			run.status = RUN_ERROR;
		if (!run.error)
			run.error = g_strdup("the pipeline would not go to PLAYING");
	} else {
		g_main_loop_run(run.loop);
	}
	g_source_remove(bus_watch);

print:
	print_result(&run);
	exit_code = exit_code_of(run.status);
	if (run.pipeline) {
		alarm(TEARDOWN_S);
		gst_element_set_state(run.pipeline, GST_STATE_NULL);
		alarm(0);
	}
	if (pad)
		gst_object_unref(pad);
	if (m)
		gst_object_unref(m);
	if (run.pipeline)
		gst_object_unref(run.pipeline);
	if (run.loop)
		g_main_loop_unref(run.loop);
	g_mutex_clear(&run.lock);
	g_free(run.error);
	return exit_code;
}
