/* Child processes of the benchmarks: spawn with a log file and a parent-death signal,
 * liveness with reaping, bounded stop, log tails, CPU ticks from /proc. */
#include "tools/bench/bench_child.h"

#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define STOP_POLL_NS 10000000ull /* waitpid is polled this often during the grace period */

void mp_bench_print_log_tail(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[2048];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    fprintf(stderr, "--- last lines of %s ---\n%s--- end ---\n", path, buf);
}

int mp_bench_child_spawn(mp_bench_child_t *c, const char *name, const char *log_path,
                         char *const argv[])
{
    if (strlen(log_path) >= sizeof c->log) return -ENAMETOOLONG;
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->log, sizeof c->log, "%s", log_path);
    const char *program = mp_log_program();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The parent may have died before prctl took effect: then no signal would come. */
        if (getppid() != parent) _exit(127);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int out = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        dprintf(2, "%s: exec %s: %s\n", program, argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    return 0;
}

bool mp_bench_child_running(mp_bench_child_t *c)
{
    if (!c->pid) return false;
    int st;
    if (waitpid(c->pid, &st, WNOHANG) == 0) return true;
    if (WIFEXITED(st))
        mp_log("%s (pid %d) exited with status %d", c->name, (int)c->pid, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        mp_log("%s (pid %d) died of signal %d", c->name, (int)c->pid, WTERMSIG(st));
    mp_bench_print_log_tail(c->log);
    c->pid = 0;
    return false;
}

void mp_bench_child_stop(mp_bench_child_t *c)
{
    if (!c->pid) return;
    kill(c->pid, SIGTERM);
    uint64_t deadline = mp_mono_ns() + MP_BENCH_CHILD_STOP_GRACE_NS;
    int st;
    while (waitpid(c->pid, &st, WNOHANG) == 0) {
        if (mp_mono_ns() >= deadline) {
            mp_log("%s (pid %d) still running %llu s after SIGTERM; killing it", c->name,
                   (int)c->pid, MP_BENCH_CHILD_STOP_GRACE_NS / 1000000000ull);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            break;
        }
        mp_sleep_ns(STOP_POLL_NS);
    }
    c->pid = 0;
}

int mp_bench_proc_cpu_ticks(pid_t pid, uint64_t *ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -EIO;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields resume after the last ')'. */
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -EPROTO;
    *ticks = ut + st;
    return 0;
}

int mp_bench_build_path(const char *rel, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return n < 0 ? -errno : -EIO;
    self[n] = '\0';
    /* <build>/tools/bench/<bench> -> <build>/<rel> */
    int len = snprintf(out, cap, "%s/../../%s", dirname(self), rel);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}
