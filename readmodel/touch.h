/* The write-notice contract between the read model's domain logic and the apply engine:
 * before a mutator changes any byte of state it was handed, it names the range, so the
 * engine can save the old bytes in the undo log (SPEC 2.3 crash safety). */
#ifndef MP_RM_TOUCH_H
#define MP_RM_TOUCH_H

#include <stddef.h>

/* fn(ctx, ptr, len) is called with a range of state about to change. Rules every
 * mutator keeps:
 *  - the call comes before the first write to any byte of the range;
 *  - ranges are as small as what changes (an entry, a field run, a bucket), never a
 *    whole table per event;
 *  - only state passed in is touched: buffers a function fills as its output (candidate
 *    arrays, "changed" lists, recent rows) are the caller's and are never touched.
 * A range may be touched more than once; the engine keeps the oldest bytes. */
typedef struct mp_rm_touch {
    void (*fn)(void *ctx, const void *ptr, size_t len);
    void *ctx;
} mp_rm_touch_t;

/* Announces a write to [p, p + n). A NULL touch or fn means nobody listens (tests,
 * scratch state). */
static inline void mp_rm_touch(const mp_rm_touch_t *t, const void *p, size_t n)
{
    if (t && t->fn) t->fn(t->ctx, p, n);
}

#endif
