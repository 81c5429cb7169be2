/* Named metric slots in shared memory: writer-side registration, reader-side lookup. */
#include "shm/metrics.h"

#include <string.h>

void mp_metrics_format(mp_metrics_t *m, uint32_t capacity)
{
    memset(m, 0, MP_METRICS_SECTION_SIZE(capacity));
    m->capacity = capacity;
}

uint32_t mp_metrics_count(const mp_metrics_t *m)
{
    uint32_t n = atomic_load_explicit(&m->count, memory_order_acquire); /* pairs: release in get */
    return n < m->capacity ? n : m->capacity;
}

_Atomic uint64_t *mp_metrics_get(mp_metrics_t *m, const char *name, mp_metric_kind_t kind)
{
    size_t len = strlen(name);
    if (len == 0 || len >= MP_METRIC_NAME_MAX) return NULL;
    uint32_t n = mp_metrics_count(m);
    for (uint32_t i = 0; i < n; i++)
        if (strncmp(m->slots[i].name, name, MP_METRIC_NAME_MAX) == 0) return &m->slots[i].value;
    if (n >= m->capacity) return NULL;
    mp_metric_slot_t *s = &m->slots[n];
    memset(s->name, 0, sizeof s->name);
    memcpy(s->name, name, len);
    s->kind = (uint32_t)kind;
    atomic_store_explicit(&s->value, 0, memory_order_relaxed);
    atomic_store_explicit(&m->count, n + 1, memory_order_release);
    return &s->value;
}

uint64_t mp_metrics_read(const mp_metrics_t *m, const char *name)
{
    uint32_t n = mp_metrics_count(m);
    for (uint32_t i = 0; i < n; i++)
        if (strncmp(m->slots[i].name, name, MP_METRIC_NAME_MAX) == 0)
            return atomic_load_explicit(&m->slots[i].value, memory_order_relaxed);
    return 0;
}
