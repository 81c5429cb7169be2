/* The touch harness shared by the domain unit tests: records the ranges a mutator
 * announces and compares the state object before and after the call. */
#include "touch_harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A touch must lie inside the object and come before its bytes change. */
static void harness_fn(void *ctx, const void *ptr, size_t len)
{
    harness_t *h = ctx;
    const uint8_t *p = ptr;
    h->touches++;
    h->touched_bytes += len;
    if (p < h->base || len > h->size || (size_t)(p - h->base) > h->size - len) {
        h->outside = true;
        return;
    }
    size_t off = (size_t)(p - h->base);
    for (size_t i = 0; i < len; i++) {
        if (!h->marked[off + i] && h->base[off + i] != h->before[off + i]) h->late = true;
        h->marked[off + i] = 1;
    }
}

const mp_rm_touch_t *harness_begin(harness_t *h, void *state, size_t size)
{
    memset(h, 0, sizeof *h);
    h->base = state;
    h->size = size;
    h->before = malloc(size);
    h->marked = calloc(1, size);
    cr_assert(h->before && h->marked);
    memcpy(h->before, state, size);
    h->touch.fn = harness_fn;
    h->touch.ctx = h;
    return &h->touch;
}

size_t harness_end(harness_t *h)
{
    size_t changed = 0, untouched = 0;
    for (size_t i = 0; i < h->size; i++) {
        if (h->base[i] != h->before[i]) {
            changed++;
            if (!h->marked[i]) untouched++;
        }
    }
    free(h->before);
    free(h->marked);
    cr_assert(!h->outside, "a touch fell outside the state object");
    cr_assert(!h->late, "a range was touched after its bytes had changed");
    cr_assert_eq(untouched, 0, "%zu changed bytes were never touched", untouched);
    return changed;
}
