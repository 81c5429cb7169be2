/* Child processes of the benchmarks: start a program with its output in a log file, see
 * whether it still runs, stop it, show its log's tail, read its CPU time. Only a pid this
 * module started and has not reaped yet is ever signalled, so a recycled pid is never hit. */
#ifndef MP_BENCH_CHILD_H
#define MP_BENCH_CHILD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a child has to exit after SIGTERM before it gets SIGKILL. */
#define MP_BENCH_CHILD_STOP_GRACE_NS 5000000000ull

/* One child. Invariant: pid != 0 exactly while the process is started and not yet reaped;
 * a zeroed struct is a child that never started. name and log are set by spawn. */
typedef struct mp_bench_child {
    pid_t pid;
    char name[32];      /* in messages: "mempulse-ingest (pid 123) exited with status 1" */
    char log[PATH_MAX]; /* the child's stdin is /dev/null; stdout and stderr append here */
} mp_bench_child_t;

/* Starts argv[0] (argv NULL-terminated, no PATH search) as c, which must not be running,
 * with stdout and stderr appended to log_path (created 0600). The child gets SIGKILL when
 * the calling process dies, even when it is killed outright (PR_SET_PDEATHSIG), and default
 * SIGPIPE, SIGINT and SIGTERM handling. An exec failure shows in the log and as exit status
 * 127. Returns 0, -ENAMETOOLONG when log_path does not fit, or -errno of fork. */
int mp_bench_child_spawn(mp_bench_child_t *c, const char *name, const char *log_path,
                         char *const argv[]);

/* True while c runs. The first call that finds it exited reaps it, logs its exit status
 * or signal and the tail of its log, and clears c->pid; a child not started is false. */
bool mp_bench_child_running(mp_bench_child_t *c);

/* Stops c if it runs: SIGTERM, then SIGKILL once MP_BENCH_CHILD_STOP_GRACE_NS have passed
 * (logged); reaped either way, c->pid cleared. Blocks at most the grace period and a bit. */
void mp_bench_child_stop(mp_bench_child_t *c);

/* Prints the last 2 KB of the file at path to stderr between marker lines; nothing when it
 * cannot be read or is empty. */
void mp_bench_print_log_tail(const char *path);

/* utime + stime of pid, in clock ticks (sysconf(_SC_CLK_TCK) per second), from
 * /proc/PID/stat. Returns 0, -errno when it cannot be opened, -EIO or -EPROTO when it
 * reads short or malformed. */
int mp_bench_proc_cpu_ticks(pid_t pid, uint64_t *ticks);

/* The path of program rel (such as "ingest/mempulse-ingest") in the build directory the
 * running benchmark belongs to (benches live in <build>/tools/bench/). Returns 0, -errno
 * when /proc/self/exe cannot be read, or -ENAMETOOLONG when out is too small. */
int mp_bench_build_path(const char *rel, char *out, size_t cap);

#endif
