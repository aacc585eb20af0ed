/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/fake-manager.h"

#include "tests/lib/daemon.h"
#include "tests/lib/files.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 30000
/* systemd ignores notify messages longer than this (src/core/manager.c, NOTIFY_BUFFER_MAX). */
#define NOTIFY_MAX 4096
/* SCM_MAX_FD: what one message can carry. */
#define MESSAGE_FDS_MAX 253

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As systemd's fdname_is_valid(): printable ASCII but ':', 1 to 255 characters. */
static bool name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255)
		return false;
	for (const char *p = name; *p; p++)
		if (*p < ' ' || *p > '~' || *p == ':')
			return false;
	return true;
}

/* Under lock. Newest first, as systemd hands them back. Takes @fd. */
static int store_push(struct fake_manager *m, const char *name, int fd)
{
	if (m->n_store == FAKE_MANAGER_STORE_MAX) {
		close(fd);
		return -ENOSPC;
	}
	memmove(m->store + 1, m->store, m->n_store * sizeof(*m->store));
	snprintf(m->store[0].name, sizeof(m->store[0].name), "%s", name);
	m->store[0].fd = fd;
	m->n_store++;
	return 0;
}

/* Under lock. */
static void store_drop_at(struct fake_manager *m, size_t i)
{
	close(m->store[i].fd);
	memmove(m->store + i, m->store + i + 1, (m->n_store - i - 1) * sizeof(*m->store));
	m->n_store--;
}

/* Under lock: every fd of that name goes, as FDSTOREREMOVE=1 does in systemd. */
static void store_remove_name(struct fake_manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_store;)
		if (strcmp(m->store[i].name, name) == 0)
			store_drop_at(m, i);
		else
			i++;
}

static void store_clear(struct fake_manager *m)
{
	pthread_mutex_lock(&m->lock);
	while (m->n_store)
		store_drop_at(m, 0);
	pthread_mutex_unlock(&m->lock);
}

/*
 * Reads one notify message and does what it says, as systemd's
 * manager_dispatch_notify_fd(). Returns whether there was one. The lock is
 * held from the read on, so that messages read by two threads (the manager's,
 * and fake_manager_kill() draining) are done in the order they were sent.
 */
static bool read_notify(struct fake_manager *m)
{
	char buf[NOTIFY_MAX + 1], name[256] = "stored";
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MESSAGE_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	int fds[MESSAGE_FDS_MAX];
	size_t n_fds = 0;
	bool store = false, remove = false, name_ok = true;
	ssize_t len;

	pthread_mutex_lock(&m->lock);
	len = recvmsg(m->notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (len < 0) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		memcpy(fds + n_fds, CMSG_DATA(c), n * sizeof(int));
		n_fds += n;
	}
	if ((size_t)len > NOTIFY_MAX || (msg.msg_flags & MSG_CTRUNC)) {
		m->refused++;
		goto out;
	}
	buf[len] = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (strcmp(line, "READY=1") == 0)
			m->ready++;
		else if (strcmp(line, "STOPPING=1") == 0)
			m->stopping++;
		else if (strcmp(line, "FDSTORE=1") == 0)
			store = true;
		else if (strcmp(line, "FDSTOREREMOVE=1") == 0)
			remove = true;
		else if (strncmp(line, "FDNAME=", 7) == 0) {
			name_ok = name_is_valid(line + 7);
			snprintf(name, sizeof(name), "%s", line + 7);
		}
	}
	if (!name_ok) {
		m->refused++;
		goto out;
	}
	if (remove) {
		m->removes++;
		store_remove_name(m, name);
	}
	if (store && n_fds) {
		m->stores++;
		for (size_t i = 0; i < n_fds; i++)
			store_push(m, name, fds[i]);
		n_fds = 0;
	}
out:
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	/* Fds of a message that stores nothing are closed, as systemd does. */
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	return true;
}

/*
 * The manager's loop: the notify socket, and every stored fd watched for a
 * hang-up (events 0: only POLLHUP and POLLERR), as systemd watches its store.
 */
static void *manager_thread(void *data)
{
	struct fake_manager *m = data;
	struct pollfd *p = calloc(FAKE_MANAGER_STORE_MAX + 2, sizeof(*p));

	if (!p)
		abort();
	for (;;) {
		size_t n;

		pthread_mutex_lock(&m->lock);
		p[0] = (struct pollfd){ .fd = m->wake_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = m->notify_fd, .events = POLLIN };
		for (n = 0; n < m->n_store; n++)
			p[2 + n] = (struct pollfd){ .fd = m->store[n].fd, .events = 0 };
		pthread_mutex_unlock(&m->lock);
		/* The store may change under us (a restart reads it): look again each 100 ms. */
		if (poll(p, 2 + n, 100) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			read_notify(m);
		pthread_mutex_lock(&m->lock);
		for (size_t i = 0; i < n; i++) {
			if (!(p[2 + i].revents & (POLLHUP | POLLERR)))
				continue;
			for (size_t j = 0; j < m->n_store; j++) {
				if (m->store[j].fd == p[2 + i].fd) {
					store_drop_at(m, j);
					m->hangups++;
					break;
				}
			}
		}
		pthread_cond_broadcast(&m->changed);
		pthread_mutex_unlock(&m->lock);
	}
	free(p);
	return NULL;
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* Adds "NAME=value" to @env (room counted by the caller). */
static void env_add(char **env, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name) + strlen(value) + 2;

	env[*n] = malloc(len);
	if (!env[*n])
		abort();
	snprintf(env[*n], len, "%s=%s", name, value);
	(*n)++;
}

/* Async-signal-safe: writes @v in decimal at @p (room for 11 digits). */
static void put_uint(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	*p = 0;
}

/*
 * Forks ksallocd with the listening socket and the store as fds 3, 4, ...
 * Under lock, so that the store's fds stay open until the child has its own.
 */
static int spawn(struct fake_manager *m)
{
	const char *argv[] = { test_binary("ksallocd"), "--config", m->config_path, NULL };
	size_t n_env = 0, n_fds, names_len = sizeof(FAKE_MANAGER_LISTEN_NAME);
	char **env, *names, count[16], *listen_pid, *exec_pid;
	/* env[] holds environ's strings and ours: ours are freed, found by name. */
	int *fds, r = 0;

	pthread_mutex_lock(&m->lock);
	n_fds = 1 + m->n_store;
	for (size_t i = 0; i < m->n_store; i++)
		names_len += strlen(m->store[i].name) + 1;
	names = malloc(names_len);
	fds = malloc(n_fds * sizeof(*fds));
	for (n_env = 0; environ[n_env]; n_env++)
		;
	env = calloc(n_env + 8, sizeof(*env));
	listen_pid = malloc(32);
	exec_pid = malloc(32);
	if (!names || !fds || !env || !listen_pid || !exec_pid)
		abort();
	fds[0] = m->listen_fd;
	strcpy(names, FAKE_MANAGER_LISTEN_NAME);
	for (size_t i = 0; i < m->n_store; i++) {
		fds[1 + i] = m->store[i].fd;
		strcat(names, ":");
		strcat(names, m->store[i].name);
	}
	n_env = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LISTEN_", 7) != 0 && strncmp(*e, "NOTIFY_SOCKET=", 14) != 0 &&
		    strncmp(*e, "INVOCATION_ID=", 14) != 0 && strncmp(*e, "FDSTORE=", 8) != 0 &&
		    strncmp(*e, "SYSTEMD_EXEC_PID=", 17) != 0)
			env[n_env++] = *e;
	snprintf(count, sizeof(count), "%zu", n_fds);
	env_add(env, &n_env, "NOTIFY_SOCKET", m->notify_path);
	env_add(env, &n_env, "LISTEN_FDS", count);
	/* What tells ksallocd that a service manager keeps its store, as systemd 252 does. */
	env_add(env, &n_env, "INVOCATION_ID", "0123456789abcdef0123456789abcdef");
	env_add(env, &n_env, "LISTEN_FDNAMES", names);
	strcpy(listen_pid, "LISTEN_PID=");
	env[n_env++] = listen_pid;
	strcpy(exec_pid, "SYSTEMD_EXEC_PID=");
	env[n_env++] = exec_pid;
	env[n_env] = NULL;

	m->ready = 0;
	m->pid = fork();
	if (m->pid == 0) {
		int log = open(m->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int top = 3 + (int)n_fds;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (log < 0 || dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0)
			_exit(127);
		/* Out of the way first (CLOEXEC copies), then into place (dup2 clears CLOEXEC). */
		for (size_t i = 0; i < n_fds; i++)
			if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) < 0)
				_exit(127);
		for (size_t i = 0; i < n_fds; i++)
			if (dup2(fds[i], 3 + (int)i) < 0)
				_exit(127);
		/* sd_listen_fds() checks LISTEN_PID against its own pid: set here, after fork. */
		put_uint(listen_pid + strlen("LISTEN_PID="), (unsigned long)getpid());
		put_uint(exec_pid + strlen("SYSTEMD_EXEC_PID="), (unsigned long)getpid());
		execve(argv[0], (char *const *)argv, env);
		_exit(127);
	}
	if (m->pid < 0) {
		r = -errno;
		m->pid = 0;
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; env[i]; i++)
		if (strncmp(env[i], "NOTIFY_SOCKET=", 14) == 0 ||
		    strncmp(env[i], "LISTEN_", 7) == 0 ||
		    strncmp(env[i], "INVOCATION_ID=", 14) == 0 ||
		    strncmp(env[i], "SYSTEMD_EXEC_PID=", 17) == 0)
			free(env[i]);
	free(env);
	free(names);
	free(fds);
	if (r == 0) {
		m->pidfd = pidfd_open(m->pid, 0);
		if (m->pidfd < 0)
			r = -errno;
	}
	return r;
}

static void reap(struct fake_manager *m)
{
	int status;

	if (m->pid <= 0)
		return;
	if (waitpid(m->pid, &status, 0) == m->pid)
		m->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	m->pid = 0;
	if (m->pidfd >= 0)
		close(m->pidfd);
	m->pidfd = -1;
}

/* Waits for READY=1 or the daemon's exit (-ECHILD). */
static int wait_ready(struct fake_manager *m)
{
	int64_t deadline = now_ms() + DEADLINE_MS;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	while (!m->ready) {
		struct pollfd p = { .fd = m->pidfd, .events = POLLIN };
		struct timespec until;

		if (poll(&p, 1, 0) > 0) {
			r = -ECHILD;
			break;
		}
		if (now_ms() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
		/* Woken by each message; the slice only bounds how late an exit is seen. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 20 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->changed, &m->lock, &until);
	}
	pthread_mutex_unlock(&m->lock);
	if (r == -ECHILD)
		reap(m);
	return r;
}

int fake_manager_start(struct fake_manager *m, const char *config)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	memset(m, 0, sizeof(*m));
	m->listen_fd = m->notify_fd = m->wake_fd = m->pidfd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->changed, NULL);
	m->store = calloc(FAKE_MANAGER_STORE_MAX, sizeof(*m->store));
	if (!m->store)
		return -ENOMEM;
	r = test_dir_new("ksalloc-fdstore", m->dir, sizeof(m->dir));
	if (r < 0)
		return r;
	if (chmod(m->dir, 0711) < 0)
		return -errno;
	snprintf(m->socket_path, sizeof(m->socket_path), "%s/ksallocd.sock", m->dir);
	snprintf(m->config_path, sizeof(m->config_path), "%s/ksallocd.conf", m->dir);
	snprintf(m->log_path, sizeof(m->log_path), "%s/ksallocd.log", m->dir);
	snprintf(m->notify_path, sizeof(m->notify_path), "%s/notify", m->dir);
	/* The config names the socket too, so that ksallocctl and the log agree. */
	{
		char *text = malloc(strlen(config) + 256);

		if (!text)
			return -ENOMEM;
		sprintf(text, "[daemon]\nsocket = %s\n%s", m->socket_path, config);
		r = test_file_write(m->config_path, text) < 0 ? -EIO : 0;
		free(text);
		if (r < 0)
			return r;
	}
	m->listen_fd = listen_socket(m->socket_path);
	if (m->listen_fd < 0)
		return m->listen_fd;
	m->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m->notify_path);
	if (m->notify_fd < 0 || bind(m->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	m->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (m->wake_fd < 0)
		return -errno;
	r = -pthread_create(&m->thread, NULL, manager_thread, m);
	if (r < 0) {
		close(m->wake_fd);
		m->wake_fd = -1;
		return r;
	}
	setenv("KSALLOC_SOCKET", m->socket_path, 1);
	r = spawn(m);
	return r < 0 ? r : wait_ready(m);
}

int fake_manager_kill(struct fake_manager *m, int signum)
{
	struct pollfd p = { .fd = m->pidfd, .events = POLLIN };

	if (m->pid <= 0)
		return -ESRCH;
	kill(m->pid, signum);
	if (poll(&p, 1, DEADLINE_MS) <= 0) {
		kill(m->pid, SIGKILL);
		reap(m);
		return -ETIMEDOUT;
	}
	reap(m);
	/*
	 * What the daemon sent before it died is done before its death is: systemd
	 * gives its notify socket a higher priority than SIGCHLD for this. Without
	 * it, a store message still queued when the next daemon starts (the thread
	 * being slow under load) would hand that daemon a stale store.
	 */
	while (read_notify(m))
		;
	return 0;
}

int fake_manager_restart(struct fake_manager *m)
{
	int r = spawn(m);

	return r < 0 ? r : wait_ready(m);
}

int fake_manager_stop(struct fake_manager *m)
{
	int r = fake_manager_kill(m, SIGTERM);

	/* A stop job ends the unit: systemd closes the store. */
	store_clear(m);
	return r < 0 ? r : m->exit_status;
}

void fake_manager_free(struct fake_manager *m)
{
	if (m->pid > 0)
		fake_manager_kill(m, SIGKILL);
	if (m->wake_fd >= 0) {
		uint64_t one = 1;

		if (write(m->wake_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(m->thread, NULL);
		close(m->wake_fd);
	}
	if (m->store)
		store_clear(m);
	free(m->store);
	m->store = NULL;
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->notify_fd >= 0)
		close(m->notify_fd);
	m->listen_fd = m->notify_fd = m->wake_fd = -1;
	if (m->dir[0])
		test_dir_remove(m->dir);
	m->dir[0] = 0;
	pthread_cond_destroy(&m->changed);
	pthread_mutex_destroy(&m->lock);
}

int fake_manager_store_add(struct fake_manager *m, const char *name, int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;

	if (copy < 0)
		return -errno;
	pthread_mutex_lock(&m->lock);
	r = store_push(m, name, copy);
	pthread_mutex_unlock(&m->lock);
	return r;
}

size_t fake_manager_store_count(struct fake_manager *m, const char *prefix)
{
	size_t n = 0;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_store; i++)
		n += strncmp(m->store[i].name, prefix, strlen(prefix)) == 0;
	pthread_mutex_unlock(&m->lock);
	return n;
}

int fake_manager_store_find(struct fake_manager *m, const char *prefix, char *buf, size_t size)
{
	int r = -ENOENT;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_store && r < 0; i++) {
		if (strncmp(m->store[i].name, prefix, strlen(prefix)) == 0) {
			snprintf(buf, size, "%s", m->store[i].name);
			r = 0;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int fake_manager_wait_store(struct fake_manager *m, const char *prefix, size_t n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		size_t have = 0;
		struct timespec until;

		for (size_t i = 0; i < m->n_store; i++)
			have += strncmp(m->store[i].name, prefix, strlen(prefix)) == 0;
		if (have == n)
			break;
		if (now_ms() > deadline) {
			pthread_mutex_unlock(&m->lock);
			return -ETIMEDOUT;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec++;
		pthread_cond_timedwait(&m->changed, &m->lock, &until);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

char *fake_manager_log(const struct fake_manager *m)
{
	return test_file_read(m->log_path);
}

int fake_manager_wait_readable(struct fake_manager *m, const char *name, int timeout_ms)
{
	struct pollfd p = { .fd = -1, .events = POLLIN };
	int r;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_store && p.fd < 0; i++)
		if (strcmp(m->store[i].name, name) == 0)
			p.fd = fcntl(m->store[i].fd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&m->lock);
	if (p.fd < 0)
		return -ENOENT;
	/* A copy of the stored socket: it shares the daemon's end, and its queue. */
	r = poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN) ? 0 : -ETIMEDOUT;
	close(p.fd);
	return r;
}
