/*
 * berth-monitor: one per running container. It starts crun (the argv after `--`), holds the
 * container's stdout and stderr, writes them to the container's log as Docker json-file
 * records (byte for byte what runtime/src/core/container-log.ts writes), rotates the log,
 * tells clients of its socket what happens (started, first output, exit) and records the exit
 * status in the state directory, so the container keeps running, logging and being watched
 * while init's Node is down or restarting. Effects: one daemon process, its socket and files in
 * the state directory, the log files, and its own cgroup membership.
 *
 * berth-monitor --state-dir DIR --log FILE --max-size BYTES --max-files N [--cgroup DIR]
 *               [--oom-score-adj N] -- CRUN ARGV...
 *
 * --oom-score-adj sets the program's OOM score adjustment between fork and exec, so crun and
 * the container's first process start at N instead of inheriting init's -1000 (a write after
 * the start would race the container's first process; choom would cost one more exec).
 *
 * The process init spawns exits 0 once the daemon listens on DIR/monitor.sock and crun was
 * started, non-zero with a message on stderr otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Docker's limit per log message (MAX_LOG_LINE_BYTES); longer lines become several records. */
#define MAX_LINE 16384
/* Event subscribers at once; more are refused (init holds one). */
#define MAX_CLIENTS 8
/* How long the pipes may stay open after crun exited (a process that escaped holds them). */
#define DRAIN_MS 2000
/* How long a monitor whose container exited before anyone connected waits for init to ask. */
#define LINGER_MS 5000

struct stream {
    const char *name;
    int fd;
    size_t len;
    /* One byte beyond the limit: a cut at MAX_LINE must see whether it splits a character. */
    unsigned char buf[MAX_LINE + 1];
};

static const char *state_dir;
static const char *log_path;
static const char *cgroup_dir;
/* The adjustment crun starts with; NULL keeps the inherited one. */
static const char *oom_score_adj;
static long long max_size;
static int max_files;
static char **crun_argv;

static int log_fd = -1;
static long long log_size;
static int ready_fd = -1;
static int clients[MAX_CLIENTS];
static pid_t crun_pid;
static int seen_output;
static int ever_served;
static char first_output_line[128];
/* The largest record: every byte escaped as \u00XX, plus the fixed fields. */
static char record[MAX_LINE * 6 + 128];

/* Before the handshake: the message goes to the spawning process, which prints it and exits 1. */
static void fail(const char *format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(message, sizeof message - 1, format, args);
    va_end(args);
    if (n < 0) n = 0;
    if ((size_t)n > sizeof message - 2) n = sizeof message - 2;
    message[n++] = '\n';
    if (ready_fd >= 0) {
        if (write(ready_fd, message, (size_t)n) < 0) _exit(1);
    } else if (write(2, message, (size_t)n) < 0) {
        _exit(1);
    }
    _exit(1);
}

static int write_all(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

static long long now_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Date.prototype.toISOString: 2026-01-02T03:04:05.678Z. */
static void iso_time(char *out, size_t size) {
    long long ms = now_ms(CLOCK_REALTIME);
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (int)(ms % 1000));
}

/* Writes `path` through a temporary file and a rename, so a reader sees all or nothing. */
static int write_file_atomic(const char *name, const char *data) {
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/%s", state_dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", state_dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (write_all(fd, data, strlen(data)) < 0 || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

/* ---- the log ---- */

static void open_log(void) {
    log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (log_fd < 0) fail("Cannot open log %s: %s", log_path, strerror(errno));
    struct stat st;
    log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
}

/* planRotation: web.log.(N-1) is dropped, .i becomes .i+1, the current file .1. */
static void rotate_log(void) {
    char from[4096], to[4096];
    close(log_fd);
    if (max_files <= 1) {
        unlink(log_path);
    } else {
        snprintf(to, sizeof to, "%s.%d", log_path, max_files - 1);
        unlink(to);
        for (int i = max_files - 2; i >= 1; i--) {
            snprintf(from, sizeof from, "%s.%d", log_path, i);
            snprintf(to, sizeof to, "%s.%d", log_path, i + 1);
            rename(from, to);
        }
        snprintf(to, sizeof to, "%s.1", log_path);
        rename(log_path, to);
    }
    log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    log_size = 0;
}

static size_t put(size_t at, const char *text) {
    size_t n = strlen(text);
    memcpy(record + at, text, n);
    return at + n;
}

/* JSON.stringify's escaping of one code point already known to be valid. */
static size_t put_escaped(size_t at, const unsigned char *bytes, size_t n) {
    unsigned char c = bytes[0];
    if (n > 1) {
        memcpy(record + at, bytes, n);
        return at + n;
    }
    switch (c) {
    case '"': return put(at, "\\\"");
    case '\\': return put(at, "\\\\");
    case '\b': return put(at, "\\b");
    case '\f': return put(at, "\\f");
    case '\n': return put(at, "\\n");
    case '\r': return put(at, "\\r");
    case '\t': return put(at, "\\t");
    default:
        if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            return put(at, u);
        }
        record[at] = (char)c;
        return at + 1;
    }
}

/*
 * Decodes `text` as Buffer.toString('utf8') does (the WHATWG decoder: each maximal invalid
 * subpart becomes one U+FFFD) and escapes it as JSON.stringify does.
 */
static size_t put_json_string(size_t at, const unsigned char *text, size_t size) {
    size_t i = 0;
    record[at++] = '"';
    while (i < size) {
        unsigned char c = text[i];
        size_t need;
        unsigned char lower = 0x80, upper = 0xbf;
        if (c < 0x80) {
            at = put_escaped(at, text + i, 1);
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lower = 0xa0;
            if (c == 0xed) upper = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lower = 0x90;
            if (c == 0xf4) upper = 0x8f;
        } else {
            at = put(at, "\xef\xbf\xbd");
            i++;
            continue;
        }
        size_t j = 1;
        for (; j <= need && i + j < size; j++) {
            unsigned char b = text[i + j];
            if (b < lower || b > upper) break;
            lower = 0x80;
            upper = 0xbf;
        }
        if (j == need + 1) {
            at = put_escaped(at, text + i, need + 1);
            i += need + 1;
        } else {
            /* The lead byte and the continuation bytes that were valid so far: one U+FFFD. */
            at = put(at, "\xef\xbf\xbd");
            i += j;
        }
    }
    record[at++] = '"';
    return at;
}

/* formatLogRecord: {"log":…,"stream":…,"time":…}\n, then appended (rotating first when full). */
static void write_record(const struct stream *s, const unsigned char *text, size_t size) {
    char time_text[80];
    iso_time(time_text, sizeof time_text);
    size_t at = put(0, "{\"log\":");
    at = put_json_string(at, text, size);
    at = put(at, ",\"stream\":\"");
    at = put(at, s->name);
    at = put(at, "\",\"time\":\"");
    at = put(at, time_text);
    at = put(at, "\"}\n");
    if (log_fd >= 0 && log_size > 0 && log_size + (long long)at > max_size) rotate_log();
    /* A log that could not be reopened (a full or read-only disk) is retried at the next record. */
    if (log_fd < 0) log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (log_fd < 0) return;
    /* Blocking: a full disk or a slow one slows the container's writes down, never memory. */
    if (write_all(log_fd, record, at) == 0) log_size += (long long)at;
}

/* LogLineSplitter.push: whole lines, and lines past the limit cut at a character boundary. */
static void split_lines(struct stream *s) {
    for (;;) {
        unsigned char *newline = memchr(s->buf, '\n', s->len);
        size_t take;
        if (newline != NULL && (size_t)(newline - s->buf) < MAX_LINE) {
            take = (size_t)(newline - s->buf) + 1;
        } else if (s->len > MAX_LINE) {
            take = MAX_LINE;
            while (take > 0 && (s->buf[take] & 0xc0) == 0x80) take--;
            if (take == 0) take = MAX_LINE;
        } else {
            return;
        }
        write_record(s, s->buf, take);
        memmove(s->buf, s->buf + take, s->len - take);
        s->len -= take;
    }
}

/* ---- events ---- */

static void broadcast(const char *line) {
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] < 0) continue;
        /* Non-blocking: a client that does not read loses its subscription, the monitor never waits. */
        if (send(clients[i], line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)strlen(line)) {
            close(clients[i]);
            clients[i] = -1;
        }
    }
}

static void accept_client(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    int slot = -1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] < 0) slot = i;
    if (slot < 0) {
        close(fd);
        return;
    }
    clients[slot] = fd;
    ever_served = 1;
    /* A client that connects late (a restarted init) learns what already happened. */
    char line[64];
    snprintf(line, sizeof line, "started pid=%d\n", (int)crun_pid);
    if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
        (seen_output && send(fd, first_output_line, strlen(first_output_line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)) {
        close(fd);
        clients[slot] = -1;
    }
}

static const char *signal_name(int sig) {
    static const char *const names[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",     [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",
        [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS",     [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",     [SIGUSR1] = "SIGUSR1",
        [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",   [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",
        [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",   [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN",
        [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG",     [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM",
        [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
    };
    if (sig > 0 && (size_t)sig < sizeof names / sizeof names[0] && names[sig] != NULL) return names[sig];
    return NULL;
}

/* ---- start ---- */

static long long parse_number(const char *flag, const char *text) {
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value < 1) fail("berth-monitor: %s expects a positive integer, got '%s'", flag, text);
    return value;
}

/* The kernel's range for oom_score_adj; the text is written as given once it is known to be in it. */
static const char *parse_oom_score_adj(const char *flag, const char *text) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value < -1000 || value > 1000) fail("berth-monitor: %s expects an integer from -1000 to 1000, got '%s'", flag, text);
    return text;
}

/* In the forked child: 0, or the errno of the failed write. */
static int set_oom_score_adj(void) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t len = strlen(oom_score_adj);
    int e = write(fd, oom_score_adj, len) == (ssize_t)len ? 0 : errno;
    close(fd);
    return e;
}

static void parse_args(int argc, char **argv) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc) fail("berth-monitor: %s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--state-dir") == 0) state_dir = v;
        else if (strcmp(a, "--log") == 0) log_path = v;
        else if (strcmp(a, "--max-size") == 0) max_size = parse_number(a, v);
        else if (strcmp(a, "--max-files") == 0) max_files = (int)parse_number(a, v);
        else if (strcmp(a, "--cgroup") == 0) cgroup_dir = v;
        else if (strcmp(a, "--oom-score-adj") == 0) oom_score_adj = parse_oom_score_adj(a, v);
        else fail("berth-monitor: unknown option %s", a);
    }
    if (state_dir == NULL || log_path == NULL || max_size == 0 || max_files == 0 || i >= argc || argv[i][0] != '/') {
        fail("usage: berth-monitor --state-dir DIR --log FILE --max-size BYTES --max-files N [--cgroup DIR] [--oom-score-adj N] -- /ABSOLUTE/PROGRAM ARGS...");
    }
    crun_argv = argv + i;
}

static int listen_on_socket(void) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/monitor.sock", state_dir) >= sizeof addr.sun_path) {
        fail("State directory %s is too long for a socket path", state_dir);
    }
    /* A socket left by a monitor that died is stale: nobody listens on it any more. */
    unlink(addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, MAX_CLIENTS) < 0) {
        fail("Cannot listen on %s: %s", addr.sun_path, strerror(errno));
    }
    return fd;
}

static void join_cgroup(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) fail("Cannot move the monitor into cgroup %s: %s", cgroup_dir, strerror(errno));
    close(fd);
}

/* Starts crun with stdin /dev/null and its output on two pipes; an exec failure is reported, not hidden. */
static pid_t start_crun(int out_fd[2], int err_fd[2], const sigset_t *old_mask) {
    int exec_error[2];
    if (pipe2(out_fd, O_CLOEXEC) < 0 || pipe2(err_fd, O_CLOEXEC) < 0 || pipe2(exec_error, O_CLOEXEC) < 0) {
        fail("Cannot create pipes: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) fail("Cannot fork: %s", strerror(errno));
    if (pid == 0) {
        /* What failed before exec, told to the parent as {stage, errno}. */
        int report[2] = {0, 0};
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd[1], 1) < 0 || dup2(err_fd[1], 2) < 0) {
            report[1] = errno;
            if (write(exec_error[1], report, sizeof report) < 0) _exit(127);
            _exit(127);
        }
        if (oom_score_adj != NULL && (report[1] = set_oom_score_adj()) != 0) {
            report[0] = 1;
            if (write(exec_error[1], report, sizeof report) < 0) _exit(127);
            _exit(127);
        }
        /* Ignored dispositions survive exec: crun and the container get the defaults back. */
        signal(SIGPIPE, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        sigprocmask(SIG_SETMASK, old_mask, NULL);
        execv(crun_argv[0], crun_argv);
        report[1] = errno;
        if (write(exec_error[1], report, sizeof report) < 0) _exit(127);
        _exit(127);
    }
    close(out_fd[1]);
    close(err_fd[1]);
    close(exec_error[1]);
    int report[2] = {0, 0};
    ssize_t n;
    do n = read(exec_error[0], report, sizeof report);
    while (n < 0 && errno == EINTR);
    close(exec_error[0]);
    if (n == (ssize_t)sizeof report) {
        waitpid(pid, NULL, 0);
        if (report[0] == 1) fail("Cannot set the OOM score adjustment of %s to %s: %s", crun_argv[0], oom_score_adj, strerror(report[1]));
        fail("Cannot run %s: %s", crun_argv[0], strerror(report[1]));
    }
    return pid;
}

static void read_stream(struct stream *s) {
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        /* LogLineSplitter.flush: the unterminated rest is one last record. */
        if (s->len > 0) write_record(s, s->buf, s->len);
        s->len = 0;
        close(s->fd);
        s->fd = -1;
        return;
    }
    if (!seen_output) {
        seen_output = 1;
        snprintf(first_output_line, sizeof first_output_line, "first-output stream=%s uptime_ms=%lld\n", s->name,
                 now_ms(CLOCK_BOOTTIME));
        broadcast(first_output_line);
    }
    s->len += (size_t)n;
    split_lines(s);
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i] = -1;

    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) fail("Cannot create a pipe: %s", strerror(errno));
    pid_t daemon_pid = fork();
    if (daemon_pid < 0) fail("Cannot fork: %s", strerror(errno));
    if (daemon_pid > 0) {
        /* The process init spawned: it reports the daemon's handshake and exits. */
        close(ready[1]);
        char message[512];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof message - 1 && ((n = read(ready[0], message + got, sizeof message - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
            if (n > 0) got += (size_t)n;
        message[got] = '\0';
        if (strcmp(message, "ok\n") == 0) return 0;
        if (got == 0) snprintf(message, sizeof message, "berth-monitor exited before it was ready\n");
        if (write(2, message, strlen(message)) < 0) return 1;
        return 1;
    }

    close(ready[0]);
    ready_fd = ready[1];
    setsid();
    /* The daemon outlives init's pipes: its own stdio is /dev/null, messages go through `ready`. */
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0) fail("Cannot open /dev/null");
    if (null_fd > 2) close(null_fd);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);

    /* Out of init's cgroup first, so that crun (and the container's processes it forks) never count against init.scope. */
    if (cgroup_dir != NULL) join_cgroup();

    char path[4096];
    snprintf(path, sizeof path, "%s/exit.json", state_dir);
    unlink(path);
    int listen_fd = listen_on_socket();
    open_log();

    sigset_t mask, old_mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &old_mask);
    int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_fd < 0) fail("Cannot create a signalfd: %s", strerror(errno));

    int out_fd[2], err_fd[2];
    crun_pid = start_crun(out_fd, err_fd, &old_mask);
    static struct stream streams[2] = {{.name = "stdout"}, {.name = "stderr"}};
    streams[0].fd = out_fd[0];
    streams[1].fd = err_fd[0];

    char number[32];
    snprintf(number, sizeof number, "%d\n", (int)getpid());
    if (write_file_atomic("monitor.pid", number) < 0) fail("Cannot write %s/monitor.pid: %s", state_dir, strerror(errno));
    snprintf(number, sizeof number, "%d\n", (int)crun_pid);
    if (write_file_atomic("container.pid", number) < 0) fail("Cannot write %s/container.pid: %s", state_dir, strerror(errno));
    if (write_all(ready_fd, "ok\n", 3) < 0) fail("The process that started the monitor is gone");
    close(ready_fd);
    ready_fd = -1;

    int status = 0, exited = 0;
    long long drain_until = 0;
    for (;;) {
        if (exited && ((streams[0].fd < 0 && streams[1].fd < 0) || now_ms(CLOCK_MONOTONIC) >= drain_until)) break;
        struct pollfd fds[4 + MAX_CLIENTS];
        int nfds = 0;
        fds[nfds++] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
        fds[nfds++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        fds[nfds++] = (struct pollfd){.fd = streams[0].fd, .events = POLLIN};
        fds[nfds++] = (struct pollfd){.fd = streams[1].fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++) fds[nfds++] = (struct pollfd){.fd = clients[i], .events = POLLIN};
        int timeout = exited ? (int)(drain_until - now_ms(CLOCK_MONOTONIC)) : -1;
        if (poll(fds, (nfds_t)nfds, exited && timeout < 0 ? 0 : timeout) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(sig_fd, &info, sizeof info) == (ssize_t)sizeof info) {
            }
            pid_t pid;
            int st;
            while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                if (pid == crun_pid && !exited) {
                    status = st;
                    exited = 1;
                    drain_until = now_ms(CLOCK_MONOTONIC) + DRAIN_MS;
                }
            }
        }
        if (fds[1].revents & POLLIN) accept_client(listen_fd);
        for (int i = 0; i < 2; i++)
            if (fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) read_stream(&streams[i]);
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i] < 0 || !(fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char discard[256];
            ssize_t n = recv(clients[i], discard, sizeof discard, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close(clients[i]);
                clients[i] = -1;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (streams[i].fd >= 0) {
            if (streams[i].len > 0) write_record(&streams[i], streams[i].buf, streams[i].len);
            close(streams[i].fd);
        }
    if (log_fd >= 0) fsync(log_fd);

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const char *sig = WIFSIGNALED(status) ? signal_name(WTERMSIG(status)) : NULL;
    char finished[80], json[256], line[96];
    iso_time(finished, sizeof finished);
    if (sig != NULL) {
        snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":\"%s\",\"finishedAt\":\"%s\"}\n", code, sig, finished);
        snprintf(line, sizeof line, "exit code=%d signal=%s\n", code, sig);
    } else {
        snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", code, finished);
        snprintf(line, sizeof line, "exit code=%d\n", code);
    }
    /* exit.json before the event: a client that hears the exit finds the file. */
    write_file_atomic("exit.json", json);
    broadcast(line);
    /*
     * A container that exits at once may beat init's connection: wait a little for it, so the
     * runtime hears started, first output and exit from the monitor rather than from files.
     */
    if (!ever_served) {
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        if (poll(&pfd, 1, LINGER_MS) > 0) {
            accept_client(listen_fd);
            broadcast(line);
        }
    }
    snprintf(path, sizeof path, "%s/monitor.sock", state_dir);
    unlink(path);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] >= 0) close(clients[i]);
    return 0;
}
