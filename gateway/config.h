/* The gateway's configuration: what main.c parses from the command line and every module
 * reads. Plain data with the defaults in one place. */
#ifndef MP_GW_CONFIG_H
#define MP_GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define MP_GW_MAX_ORIGINS 32
#define MP_GW_TOKEN_MAX 512

typedef struct mp_gw_config {
    const char *instance;        /* stack instance: regions /dev/shm/mempulse.<instance>.* */
    const char *listen;          /* "HOST:PORT", "[V6]:PORT" [127.0.0.1:8080] */
    const char *static_dir;      /* built web UI [web-ui/dist]; NULL serves no files */
    char token[MP_GW_TOKEN_MAX]; /* bearer token for data routes; "" when auth is off */
    const char *origins[MP_GW_MAX_ORIGINS]; /* CORS / WebSocket Origin allow-list */
    unsigned origin_count;
    uint32_t header_timeout_ms;  /* request head (and keep-alive idle) deadline [5000] */
    uint32_t write_timeout_ms;   /* a response must be written within this [30000] */
    uint32_t drain_timeout_ms;   /* SIGTERM: longest wait for in-flight requests [10000] */
    uint32_t ready_heartbeat_ms; /* readyz: readmodel heartbeat older than this is stale [2000] */
    uint32_t max_conns;          /* open connections per process [4096] */
    uint32_t coalesce_ms;        /* a cached snapshot section younger than this is reused
                                    even when its channel moved [25]; 0: exact reuse only */
    uint64_t max_body_bytes;     /* one response body at most [64 MiB]; < 4 GiB (32-bit offsets) */
    uint64_t body_budget_bytes;  /* response bodies held at once, cache included [512 MiB] */
    uint32_t
        resume_token_ttl_ms; /* announced in snapshots; the stream module enforces it [120000] */
} mp_gw_config_t;

/* Fills cfg with the defaults above. */
void mp_gw_config_default(mp_gw_config_t *cfg);

/* Reads the bearer token from path (one line of printable ASCII without spaces; trailing
 * newline and blanks dropped) into cfg->token. Returns 0, -EINVAL for an empty, oversized
 * or malformed token, or the negative errno of open/read; err gets a message. */
int mp_gw_config_load_token(mp_gw_config_t *cfg, const char *path, char *err, size_t errlen);

#endif
