/* rm-stress: reads every channel of a read-model region in a tight loop for a while and
 * reports passes, entities, torn copies (check mismatch: must stay 0), slots skipped and
 * the longest pass, as one JSON line. A reader must never hang, even on a slot a killed
 * writer left mid-write: every pass is bounded. Exit 0 only if nothing torn. */
#include "common/clock.h"
#include "common/log.h"
#include "readmodel/rm_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_entity(void *ctx, mp_rm_kind_t kind, const void *entity)
{
    (void)kind;
    (void)entity;
    (*(uint64_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    mp_log_init("rm-stress");
    const char *instance = NULL;
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--instance") && i + 1 < argc) instance = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: rm-stress --instance NAME [--seconds S]\n");
            return 2;
        }
    }
    if (!instance) return 2;
    mp_rm_region_t rm;
    char err[MP_REGION_ERR_MAX];
    if (mp_rm_open_reader(&rm, instance, err) != 0) {
        mp_log("%s", err);
        return 2;
    }
    mp_rm_list_stats_t st = {0};
    uint64_t passes = 0, entities = 0, max_pass_ns = 0;
    uint64_t end = mp_mono_ns() + (uint64_t)(seconds * 1e9);
    while (mp_mono_ns() < end) {
        uint64_t t0 = mp_mono_ns();
        for (int ch = 0; ch < MP_CH_COUNT; ch++) mp_rm_list(&rm, (mp_rm_channel_t)ch, count_entity, &entities, &st);
        uint64_t dt = mp_mono_ns() - t0;
        if (dt > max_pass_ns) max_pass_ns = dt;
        passes++;
    }
    printf("{\"passes\":%" PRIu64 ",\"entities\":%" PRIu64 ",\"torn\":%" PRIu64
           ",\"skipped\":%" PRIu64 ",\"max_pass_ms\":%.3f}\n",
           passes, entities, st.torn, st.skipped, (double)max_pass_ns / 1e6);
    mp_rm_close(&rm);
    return st.torn ? 1 : 0;
}
