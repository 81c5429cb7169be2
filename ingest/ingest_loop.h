/* ingest's main loop: source -> msgpack -> events ring, with crash-safe resume of the
 * source position, tethering to the readmodel, metrics in the region, clean SIGTERM. */
#ifndef MP_INGEST_LOOP_H
#define MP_INGEST_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct mp_ingest_config {
    const char *instance;
    const char *source;     /* "synthetic", "file:PATH", "file:-", "eth:ws://HOST:PORT[/path]" */
    uint32_t rate;          /* synthetic tx/s, 0 = as fast as possible */
    uint64_t seed;          /* synthetic */
    uint64_t start_unix_ns; /* synthetic clock origin; 0 = now (first start only) */
    uint64_t chain_id;
    double speed;           /* replay speed (CSV, synthetic); negative = the source's default */
    double duration_s;      /* 0 = until stopped */
    uint64_t max_seq;       /* stop once this seq is published (0 = no limit); restarts resume */
    uint64_t ring_bytes;    /* 0 = keep existing / default */
    uint64_t lag_timeout_ns;
    bool reinit;
    bool eth_hashes_only;   /* eth: subscribe to hashes, fetch bodies by hash */
    const char *eth_ca_file; /* eth wss://: trusted CAs (PEM); NULL: the system store */
} mp_ingest_config_t;

/* Runs until *stop, the duration, or the end of a file source. Returns the process exit
 * code: 0 done, 1 runtime failure, 2 configuration or layout error (message logged). */
int mp_ingest_run(const mp_ingest_config_t *cfg, volatile sig_atomic_t *stop);

#endif
