/* Read-only tether to the read-model region header. */
#include "shm/tether.h"

#include "common/clock.h"

#include <string.h>

#define OPEN_RETRY_NS 100000000ull
#define PROBE_NS 100000000ull

int mp_tether_init(mp_tether_t *t, const char *instance)
{
    memset(t, 0, sizeof *t);
    t->region.fd = -1;
    return mp_region_path(t->path, sizeof t->path, instance, MP_READMODEL_KIND);
}

uint64_t mp_tether_applied(void *ctx, bool *alive)
{
    mp_tether_t *t = ctx;
    uint64_t now = mp_mono_ns();
    if (!t->mapped && now >= t->next_open_mono_ns) {
        char err[MP_REGION_ERR_MAX];
        t->next_open_mono_ns = now + OPEN_RETRY_NS;
        if (mp_region_open(&t->region, t->path, MP_READMODEL_KIND, false, err) == 0) {
            t->mapped = true;
            t->next_probe_mono_ns = 0;
        }
    }
    if (!t->mapped) {
        *alive = false;
        return 0;
    }
    if (now >= t->next_probe_mono_ns) {
        t->next_probe_mono_ns = now + PROBE_NS;
        t->alive = mp_region_writer_alive(&t->region);
        if (!t->alive) {
            /* Drop the mapping: a readmodel that comes back may have recreated the file.
             * (A readmodel between creating the file and taking its lock also looks dead
             * for one probe; the retry is short for that reason.) */
            mp_region_close(&t->region);
            t->mapped = false;
            t->next_open_mono_ns = now + OPEN_RETRY_NS;
            *alive = false;
            return 0;
        }
    }
    *alive = t->alive;
    /* Pairs with the readmodel's release store after it commits a batch. */
    return atomic_load_explicit(&mp_region_header(&t->region)->progress_seq, memory_order_acquire);
}

void mp_tether_close(mp_tether_t *t)
{
    if (t->mapped) mp_region_close(&t->region);
    t->mapped = false;
}
