/* The readmodel process loop: follow the events ring from the committed position, apply
 * in batches, commit, publish; heartbeat; clean stop on SIGTERM. */
#ifndef MP_RM_LOOP_H
#define MP_RM_LOOP_H

#include <signal.h>
#include <stdbool.h>

#include "readmodel/rm_region.h"

typedef struct mp_rm_config {
    const char *instance;
    mp_rm_caps_t caps;
    bool reinit;
    double duration_s;   /* 0: until stopped */
    double wait_events_s; /* how long to wait for the events region at start */
} mp_rm_config_t;

/* Runs until *stop or the duration. Returns the exit code: 0, 1 runtime, 2 config/layout. */
int mp_rm_run(const mp_rm_config_t *cfg, volatile sig_atomic_t *stop);

#endif
