/*
 * berth-pid1: PID 1 of a berth host, in front of init's Node. It reaps every orphan,
 * forwards the shutdown signals to Node, copies Node's stderr to the console keeping its
 * last lines, and when Node dies logs why and starts it again with a backoff. When Node
 * keeps dying (PID1_MAX_EXITS exits within PID1_WINDOW_MS) it reboots in order: SIGTERM
 * to everything, a grace period, SIGKILL, sync, reboot(2). It never exits as PID 1: an
 * exiting PID 1 is a kernel panic.
 *
 * Usage: berth-pid1 [--snapshot <file>] -- <program> [args...]
 * --snapshot: when <file> exists as Node is started, it is renamed <file>.in-use and Node starts
 * from that V8 startup snapshot (init/src/startup-snapshot.ts): `--snapshot-blob <file>.in-use
 * --verify-snapshot-checksum` follow the program, and the last argument (the script) is left
 * out. Init removes the file first thing; a Node from the snapshot that dies while the file is
 * still there never ran init (a damaged or mismatched snapshot), so it is started again at
 * once from the script as the same first start (no restart counted, nothing in the
 * environment); init sees the file left and drops the kept snapshot.
 * Node's environment gains BERTH_INIT_RESTARTS (restarts so far) and BERTH_INIT_LAST_EXIT
 * (why the previous one ended: exit-code:<n>, signal:<NAME> or heap-exhausted).
 * Outside PID 1 (host tests) it makes itself a child subreaper, never calls reboot(2), and
 * honours BERTH_PID1_TEST_NO_REBOOT=1 (print the reboot line and exit 70) and
 * BERTH_PID1_TEST_BACKOFF_MS (the first restart delay).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Restart policy (README "PID 1"): the delay doubles from 500 ms per exit still in the window, capped at 30 s. */
#define PID1_BACKOFF_FIRST_MS 500L
#define PID1_BACKOFF_MAX_MS 30000L
/* This many exits of Node within the window is a crash loop: reboot (boot counting may then fall back to the other slot). */
#define PID1_MAX_EXITS 5
#define PID1_WINDOW_MS (10L * 60L * 1000L)
/* Ordered reboot: time between SIGTERM and SIGKILL to every process. */
#define PID1_REBOOT_GRACE_MS 10000L
/* Lines of Node's stderr kept and logged when it dies. */
#define TAIL_LINES 20
#define LINE_MAX_BYTES 512

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPWR, SIGWINCH};
#define N_FORWARDED ((int)(sizeof(FORWARDED) / sizeof(FORWARDED[0])))

static char tail[TAIL_LINES][LINE_MAX_BYTES];
static int tail_next;
static int tail_count;
static char partial[LINE_MAX_BYTES];
static size_t partial_len;
/* Whether Node's stderr since its start showed V8 giving up on its heap limit (the line may
 * scroll out of the tail behind Node's native stack trace). */
static int heap_exhausted;

static int is_pid1;
static int stderr_r = -1;
static int stderr_w = -1;

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Writes all of buf to fd; the console may take it in pieces. */
static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* One logfmt line on the console (fd 2 is /dev/console, as is Node's fd 1). */
__attribute__((format(printf, 2, 3))) static void log_line(const char *level, const char *fmt, ...) {
  char line[2048];
  int off = snprintf(line, sizeof line, "level=%s component=pid1 ", level);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line + off, sizeof line - (size_t)off - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)off + (n < 0 ? 0 : (size_t)n);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  write_all(STDERR_FILENO, line, len);
}

static void tail_push(const char *s, size_t len) {
  if (len >= LINE_MAX_BYTES) len = LINE_MAX_BYTES - 1;
  memcpy(tail[tail_next], s, len);
  tail[tail_next][len] = '\0';
  if (strstr(tail[tail_next], "heap out of memory") != NULL || strstr(tail[tail_next], "Reached heap limit") != NULL) heap_exhausted = 1;
  tail_next = (tail_next + 1) % TAIL_LINES;
  if (tail_count < TAIL_LINES) tail_count++;
}

static void tail_reset(void) {
  tail_next = 0;
  tail_count = 0;
  partial_len = 0;
  heap_exhausted = 0;
}

/* Copies what Node (or anything holding the pipe) wrote to stderr to the console and keeps its lines. */
static void drain_stderr(void) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(stderr_r, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    write_all(STDERR_FILENO, buf, (size_t)n);
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        tail_push(partial, partial_len);
        partial_len = 0;
      } else if (partial_len < LINE_MAX_BYTES - 1) {
        partial[partial_len++] = buf[i];
      }
    }
  }
}

/* A logfmt-safe copy of a stderr line: quotes and backslashes escaped, control bytes dropped. */
static void quote_into(char *out, size_t cap, const char *in) {
  size_t o = 0;
  for (; *in != '\0' && o + 3 < cap; in++) {
    unsigned char c = (unsigned char)*in;
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c >= 0x20 && c != 0x7f) {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGTRAP: return "SIGTRAP";
    case SIGILL: return "SIGILL";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGPIPE: return "SIGPIPE";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGPWR: return "SIGPWR";
    default: return "SIGUNKNOWN";
  }
}

/* Every process whose parent is this one (host tests: never signal the whole host). */
static void signal_own_children(int sig) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) return;
  pid_t self = getpid();
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    char path[64];
    char stat[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) continue;
    stat[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'. */
    char *close_paren = strrchr(stat, ')');
    if (close_paren == NULL) continue;
    char state;
    long ppid;
    if (sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)self) kill((pid_t)pid, sig);
  }
  closedir(proc);
}

/* Reaps children for up to ms milliseconds, returning early when none is left. */
static void reap_for(long ms) {
  long until = now_ms() + ms;
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid < 0 && errno == ECHILD) return;
    if (pid > 0) continue;
    if (now_ms() >= until) return;
    drain_stderr();
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
}

/* The orderly end of a crash loop (reboot), or of a power request while no init runs
 * (RB_POWER_OFF for a power-off one). As PID 1 it never returns. */
static void ordered_power(int cmd, const char *why) {
  const char *action = cmd == RB_POWER_OFF ? "Powering off" : "Rebooting";
  log_line("error", "msg=\"%s\" reason=%s grace_ms=%ld", action, why, PID1_REBOOT_GRACE_MS);
  const char *no_reboot = getenv("BERTH_PID1_TEST_NO_REBOOT");
  if (is_pid1) {
    kill(-1, SIGTERM);
    reap_for(PID1_REBOOT_GRACE_MS);
    kill(-1, SIGKILL);
    reap_for(2000);
    sync();
    for (;;) {
      reboot(cmd);
      /* reboot(2) failing leaves nothing better to do than to try again; exiting would panic. */
      log_line("error", "msg=\"Reboot failed\" errno=%d", errno);
      sleep(5);
    }
  }
  signal_own_children(SIGTERM);
  reap_for(no_reboot != NULL && strcmp(no_reboot, "1") == 0 ? 1000 : PID1_REBOOT_GRACE_MS);
  signal_own_children(SIGKILL);
  reap_for(1000);
  log_line("error", "msg=\"%s skipped, not PID 1\" reason=%s", action, why);
  exit(70);
}

/* Logs the kept lines of the dead Node's stderr, one line each, and forgets them. */
static void log_stderr_tail(void) {
  for (int i = 0; i < tail_count; i++) {
    char quoted[LINE_MAX_BYTES * 2];
    quote_into(quoted, sizeof quoted, tail[(tail_next - tail_count + i + TAIL_LINES) % TAIL_LINES]);
    log_line("error", "msg=\"Init stderr\" line=\"%s\"", quoted);
  }
  tail_reset();
}

/* Node's command line for this start: from the snapshot when it is there (see Usage), else `argv`. */
static char **child_command(char **argv, const char *snapshot, char **buffer, size_t buffer_len, char *in_use, size_t in_use_len) {
  if (snapshot == NULL) return argv;
  size_t argc = 0;
  while (argv[argc] != NULL) argc++;
  snprintf(in_use, in_use_len, "%s.in-use", snapshot);
  /* Room: argv[0], three options, argv[1..argc-2], NULL. */
  if (argc < 2 || argc + 3 > buffer_len || rename(snapshot, in_use) != 0) return argv;
  size_t n = 0;
  buffer[n++] = argv[0];
  buffer[n++] = "--snapshot-blob";
  buffer[n++] = in_use;
  buffer[n++] = "--verify-snapshot-checksum";
  for (size_t i = 1; i + 1 < argc; i++) buffer[n++] = argv[i];
  buffer[n] = NULL;
  log_line("info", "msg=\"Init starts from its startup snapshot\" file=%s", in_use);
  return buffer;
}

static pid_t start_child(char **argv, sigset_t *blocked, unsigned restarts, const char *last_exit) {
  pid_t pid = fork();
  if (pid < 0) {
    log_line("error", "msg=\"Cannot fork init\" errno=%d", errno);
    return -1;
  }
  if (pid == 0) {
    sigprocmask(SIG_UNBLOCK, blocked, NULL);
    for (int i = 0; i < N_FORWARDED; i++) signal(FORWARDED[i], SIG_DFL);
    dup2(stderr_w, STDERR_FILENO);
    close(stderr_r);
    close(stderr_w);
    char value[32];
    snprintf(value, sizeof value, "%u", restarts);
    if (restarts > 0) {
      setenv("BERTH_INIT_RESTARTS", value, 1);
      setenv("BERTH_INIT_LAST_EXIT", last_exit, 1);
    } else {
      unsetenv("BERTH_INIT_RESTARTS");
      unsetenv("BERTH_INIT_LAST_EXIT");
    }
    execv(argv[0], argv);
    /* The parent logs the exit; 127 as a shell would. */
    dprintf(STDERR_FILENO, "berth-pid1: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  int first = 1;
  const char *snapshot = NULL;
  if (argc > 2 && strcmp(argv[1], "--snapshot") == 0) {
    snapshot = argv[2];
    first = 3;
  }
  if (argc > first && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    log_line("error", "msg=\"Usage: berth-pid1 [--snapshot <file>] -- <program> [args...]\"");
    /* Even a wrong command line must not end PID 1; wait for ctrl-alt-del or power. */
    if (getpid() == 1) for (;;) pause();
    return 2;
  }
  char **child_argv = &argv[first];
  size_t command_len = (size_t)(argc - first) + 4;
  char **command_buffer = calloc(command_len, sizeof(char *));
  static char in_use[4096];
  if (command_buffer == NULL) snapshot = NULL;
  is_pid1 = getpid() == 1;
  if (!is_pid1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  long backoff_first = PID1_BACKOFF_FIRST_MS;
  const char *test_backoff = getenv("BERTH_PID1_TEST_BACKOFF_MS");
  if (!is_pid1 && test_backoff != NULL) backoff_first = atol(test_backoff);
  if (is_pid1) unsetenv("BERTH_PID1_TEST_NO_REBOOT");

  /* One pipe for Node's stderr for the whole boot. PID 1 keeps the write end too, so an orphan
   * still holding it after Node died neither blocks an EOF nor gets SIGPIPE. */
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    log_line("error", "msg=\"Cannot create the stderr pipe\" errno=%d", errno);
    fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fds[1] = dup(STDERR_FILENO);
  }
  stderr_r = fds[0];
  stderr_w = fds[1];
  fcntl(stderr_r, F_SETFL, fcntl(stderr_r, F_GETFL) | O_NONBLOCK);

  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGCHLD);
  for (int i = 0; i < N_FORWARDED; i++) sigaddset(&blocked, FORWARDED[i]);
  sigprocmask(SIG_BLOCK, &blocked, NULL);
  int sigfd = signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) {
    log_line("error", "msg=\"Cannot create a signalfd\" errno=%d", errno);
    if (!is_pid1) return 1;
  }

  unsigned restarts = 0;
  char last_exit[64] = "";
  long exits[PID1_MAX_EXITS] = {0};
  int exit_count = 0;
  char **first_command = child_command(child_argv, snapshot, command_buffer, command_len, in_use, sizeof in_use);
  /* Whether the running Node started from the snapshot (see the exit handling below). */
  int from_snapshot = first_command != child_argv;
  pid_t child = start_child(first_command, &blocked, 0, last_exit);
  long start_at = child > 0 ? 0 : now_ms() + backoff_first;

  for (;;) {
    int timeout = -1;
    if (child <= 0) {
      long wait = start_at - now_ms();
      timeout = wait < 0 ? 0 : (int)wait;
    }
    struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = stderr_r, .events = POLLIN}};
    int ready = poll(pfd, 2, timeout);
    if (ready < 0 && errno != EINTR) {
      struct timespec nap = {0, 100 * 1000 * 1000};
      nanosleep(&nap, NULL);
    }
    if (pfd[1].revents & POLLIN) drain_stderr();

    struct signalfd_siginfo info;
    while (sigfd >= 0 && read(sigfd, &info, sizeof info) == (ssize_t)sizeof info) {
      int sig = (int)info.ssi_signo;
      if (sig == SIGCHLD) continue;
      if (child > 0) {
        kill(child, sig);
      } else if (sig != SIGHUP && sig != SIGQUIT && sig != SIGWINCH) {
        /* No Node to shut down in order (between restarts): the power request still happens. */
        /* SIGINT is ctrl-alt-del (reboot); SIGTERM, SIGPWR and busybox halt/poweroff power off, as init would. */
        if (sig == SIGINT) {
          ordered_power(RB_AUTOBOOT, "reboot-while-init-down");
        } else {
          ordered_power(RB_POWER_OFF, "poweroff-while-init-down");
        }
      }
    }

    /* Reap everything; only Node's own end matters beyond that. */
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid != child) continue;
      drain_stderr();
      if (partial_len > 0) {
        tail_push(partial, partial_len);
        partial_len = 0;
      }
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
      if (heap_exhausted) {
        snprintf(last_exit, sizeof last_exit, "heap-exhausted");
      } else if (sig != 0) {
        snprintf(last_exit, sizeof last_exit, "signal:%s", signal_name(sig));
      } else {
        snprintf(last_exit, sizeof last_exit, "exit-code:%d", code);
      }
      long now = now_ms();
      if (from_snapshot && access(in_use, F_OK) == 0) {
        /* Init removes the file first thing: this Node died before init ran (a damaged or
         * mismatched snapshot). Not a restart of init: start it again at once from the script. */
        log_line("error", "msg=\"Init's startup snapshot failed, starting from the script\" exit_code=%d signal=%s reason=%s", code, sig != 0 ? signal_name(sig) : "none", last_exit);
        log_stderr_tail();
        from_snapshot = 0;
        last_exit[0] = '\0';
        child = start_child(child_argv, &blocked, restarts, last_exit);
        if (child <= 0) start_at = now_ms() + backoff_first;
        continue;
      }
      int kept = 0;
      for (int i = 0; i < exit_count; i++) {
        if (now - exits[i] < PID1_WINDOW_MS) exits[kept++] = exits[i];
      }
      exit_count = kept;
      if (exit_count < PID1_MAX_EXITS) exits[exit_count++] = now;
      long delay = backoff_first;
      for (int i = 1; i < exit_count && delay < PID1_BACKOFF_MAX_MS; i++) delay *= 2;
      if (delay > PID1_BACKOFF_MAX_MS) delay = PID1_BACKOFF_MAX_MS;
      int giving_up = exit_count >= PID1_MAX_EXITS;
      log_line("error", "msg=\"%s\" exit_code=%d signal=%s reason=%s restart=%u delay_ms=%ld exits_in_window=%d", giving_up ? "Init exited, restarts exhausted" : "Init exited, restarting", code,
               sig != 0 ? signal_name(sig) : "none", last_exit, restarts + 1, giving_up ? 0L : delay, exit_count);
      log_stderr_tail();
      child = 0;
      if (giving_up) ordered_power(RB_AUTOBOOT, "init-crash-loop");
      start_at = now + delay;
    }

    if (child <= 0 && now_ms() >= start_at) {
      restarts++;
      char **command = child_command(child_argv, snapshot, command_buffer, command_len, in_use, sizeof in_use);
      from_snapshot = command != child_argv;
      child = start_child(command, &blocked, restarts, last_exit);
      if (child <= 0) start_at = now_ms() + PID1_BACKOFF_MAX_MS;
    }
  }
}
