/* The listening socket and the accepted connections of this gateway process: SO_REUSEPORT
 * so several processes share one port, accept with a connection cap, a record per
 * connection (its fd, whether a request is in progress), aborting a connection whose
 * response is stuck, and the SIGTERM drain of idle connections. Records are reached from
 * a request through its socket's on_close data, which only this module sets. */
#ifndef MP_GW_CONNS_H
#define MP_GW_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <h2o.h>

#include "gateway/body.h"

struct mp_gw_conns;

typedef struct mp_gw_conn {
    struct mp_gw_conns *owner;
    h2o_socket_t *sock;
    int fd;
    bool live;
    bool busy;          /* an HTTP request is being answered (between routing and logging) */
    bool detached;      /* taken over by a long-lived protocol (WebSocket): not drained here */
    uint32_t next_free; /* free-list link: index + 1, 0 ends the list */
} mp_gw_conn_t;

typedef struct mp_gw_conns {
    mp_gw_conn_t *slots;
    uint32_t cap;
    uint32_t live;
    uint32_t free_head; /* index + 1 of the first free record, 0 when full */
    bool draining;
    int listen_fd;
    h2o_socket_t *listener;
    h2o_accept_ctx_t *accept_ctx;
    h2o_loop_t *loop;
    h2o_timeout_t retry_timeout; /* accept pause after EMFILE and the like */
    h2o_timeout_entry_t retry_entry;
    uint64_t accepted_total, refused_total, aborted_total, accept_errors_total;
} mp_gw_conns_t;

/* Allocates cap connection records. Returns 0 or -ENOMEM. */
int mp_gw_conns_init(mp_gw_conns_t *c, uint32_t cap);

/* Binds and listens on "HOST:PORT" ("[V6]:PORT" for IPv6) with SO_REUSEADDR and
 * SO_REUSEPORT, and starts accepting into actx on loop. Returns 0 or a negative errno
 * with err set (naming the address). */
int mp_gw_conns_listen(mp_gw_conns_t *c, h2o_loop_t *loop, const char *address,
                       h2o_accept_ctx_t *actx, char *err, size_t errlen);

/* Accepts what is already queued (those requests are served), then closes the listening
 * socket: new connections go to the other gateway processes on the port. */
void mp_gw_conns_stop_accepting(mp_gw_conns_t *c);

/* Starts the drain: every idle, non-detached connection is shut down now; busy ones are
 * shut down as soon as their response is written (mp_gw_conns_req_end). */
void mp_gw_conns_drain(mp_gw_conns_t *c);

/* Shuts down every connection still open, detached ones included (drain deadline). */
void mp_gw_conns_shutdown_all(mp_gw_conns_t *c);

/* Open connections. */
uint32_t mp_gw_conns_live(const mp_gw_conns_t *c);

/* The record of the connection req arrived on, or NULL (not accepted here). */
mp_gw_conn_t *mp_gw_conns_of(h2o_req_t *req);

/* Marks the request of req's connection in progress / finished (router and request
 * logger). Ending one while draining shuts the connection (its response is written). */
void mp_gw_conns_req_begin(h2o_req_t *req);
void mp_gw_conns_req_end(h2o_req_t *req);

/* Hands req's connection to a long-lived protocol (the stream module after a WebSocket
 * upgrade): the HTTP drain leaves it to that module's drain hook. */
void mp_gw_conns_detach(h2o_req_t *req);

/* Breaks req's connection (shutdown of both directions): h2o sees the error, closes the
 * connection and releases the request. For responses stuck behind a client that does not
 * read. Returns 0 or -ENOENT when the connection is not known here. */
int mp_gw_conns_abort(h2o_req_t *req);

/* Metrics writer (mp_gw_metrics_fn): open, accepted, refused and aborted connections. */
int mp_gw_conns_metrics(void *ctx, mp_gw_body_t *out);

/* Frees the records (after the loop stopped and every connection closed). */
void mp_gw_conns_dispose(mp_gw_conns_t *c);

#endif
