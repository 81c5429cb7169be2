/* rm-crasher: starts the readmodel again and again and SIGKILLs it while it applies: it
 * waits until the new process has committed a batch (the region header's applied seq
 * moved), then kills it after a random 0..2 ms, i.e. in the middle of a later batch.
 * Prints one JSON line: kills, how many landed while applying, the applied seq after. */
#include "common/clock.h"
#include "common/log.h"
#include "shm/region.h"
#include "shm/tether.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t applied(const char *path)
{
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    if (mp_region_open(&r, path, MP_READMODEL_KIND, false, err) != 0) return 0;
    uint64_t v = atomic_load_explicit(&mp_region_header(&r)->progress_seq, memory_order_acquire);
    mp_region_close(&r);
    return v;
}

int main(int argc, char **argv)
{
    mp_log_init("rm-crasher");
    const char *instance = NULL, *bin = NULL;
    int kills = 50;
    uint64_t target = 0;
    unsigned seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--instance") && i + 1 < argc) instance = argv[++i];
        else if (!strcmp(argv[i], "--readmodel") && i + 1 < argc) bin = argv[++i];
        else if (!strcmp(argv[i], "--kills") && i + 1 < argc) kills = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--target") && i + 1 < argc) target = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = (unsigned)atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: rm-crasher --instance NAME --readmodel PATH [--kills N] "
                            "[--target SEQ] [--seed S]\n");
            return 2;
        }
    }
    if (!instance || !bin) return 2;
    char path[256];
    if (mp_region_path(path, sizeof path, instance, MP_READMODEL_KIND)) return 2;
    srand(seed);
    int done = 0, mid_apply = 0;
    for (; done < kills; done++) {
        uint64_t before = applied(path);
        if (target && before >= target) break; /* nothing left to interrupt */
        pid_t pid = fork();
        if (pid == 0) {
            execl(bin, bin, "--instance", instance, (char *)NULL);
            _exit(127);
        }
        /* Until it committed a batch (bounded: 20 s), then a random instant later. */
        uint64_t deadline = mp_mono_ns() + 20000000000ull;
        while (applied(path) == before && mp_mono_ns() < deadline) mp_sleep_ns(100000);
        mp_sleep_ns((uint64_t)(rand() % 2000) * 1000);
        uint64_t at_kill = applied(path);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (at_kill != before && (!target || at_kill < target)) mid_apply++;
    }
    printf("{\"kills\":%d,\"mid_apply\":%d,\"applied\":%" PRIu64 "}\n", done, mid_apply, applied(path));
    return 0;
}
