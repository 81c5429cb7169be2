/* Sequence locks for shared-memory slots with one writer process and many reader
 * processes: readers copy, then check the count did not move; they retry a bounded
 * number of times and never wait for the writer, so a writer killed mid-write (count
 * left odd) cannot make a reader spin forever. */
#ifndef MP_SEQLOCK_H
#define MP_SEQLOCK_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MP_SEQLOCK_READ_TRIES 64

typedef _Atomic uint32_t mp_seqlock_t;

/* Writer: count becomes odd before any byte of the slot changes. The release fence
 * orders the odd count before the data stores (pairs with the acquire fence in
 * mp_seqlock_read_valid). */
static inline void mp_seqlock_write_begin(mp_seqlock_t *sl)
{
    uint32_t s = atomic_load_explicit(sl, memory_order_relaxed);
    atomic_store_explicit(sl, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

/* Writer: count becomes even again after every data store (release; pairs with the
 * acquire load in mp_seqlock_read_begin). */
static inline void mp_seqlock_write_end(mp_seqlock_t *sl)
{
    uint32_t s = atomic_load_explicit(sl, memory_order_relaxed);
    atomic_store_explicit(sl, s + 1, memory_order_release);
}

static inline uint32_t mp_seqlock_read_begin(const mp_seqlock_t *sl)
{
    return atomic_load_explicit(sl, memory_order_acquire);
}

/* True when the bytes copied since read_begin returned `start` are consistent. */
static inline bool mp_seqlock_read_valid(const mp_seqlock_t *sl, uint32_t start)
{
    atomic_thread_fence(memory_order_acquire);
    return (start & 1) == 0 && atomic_load_explicit(sl, memory_order_relaxed) == start;
}

/* Copies n bytes from a slot guarded by sl into dst, consistently. Returns 0, or
 * -EAGAIN after MP_SEQLOCK_READ_TRIES torn attempts (the caller skips and counts it). */
static inline int mp_seqlock_read(const mp_seqlock_t *sl, void *dst, const void *src, size_t n)
{
    for (int i = 0; i < MP_SEQLOCK_READ_TRIES; i++) {
        uint32_t s = mp_seqlock_read_begin(sl);
        if (s & 1) continue;
        memcpy(dst, src, n);
        if (mp_seqlock_read_valid(sl, s)) return 0;
    }
    return -EAGAIN;
}

#endif
