/* Touch harness for the read-model domain tests: checks a mutator keeps the contract of
 * readmodel/touch.h on one state object (every touch inside it, before its bytes change,
 * and every changed byte touched). */
#ifndef MP_TEST_TOUCH_HARNESS_H
#define MP_TEST_TOUCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "readmodel/touch.h"

/* One check in progress: the object under test, its bytes before the call and which of
 * them were touched. touches and touched_bytes count every touch, for tests that bound
 * how much a call announces. */
typedef struct harness {
    uint8_t *base;
    size_t size;
    uint8_t *before;
    uint8_t *marked;
    size_t touches;
    size_t touched_bytes;
    bool outside;
    bool late;
    mp_rm_touch_t touch;
} harness_t;

/* Snapshots the size bytes at state and returns the touch to hand to the call under
 * test; it records into h, which must outlive the call. Pair with harness_end. */
const mp_rm_touch_t *harness_begin(harness_t *h, void *state, size_t size);

/* Asserts the discipline (cr_assert: fails the running test), frees the snapshot and
 * returns the number of bytes that changed. */
size_t harness_end(harness_t *h);

#endif
