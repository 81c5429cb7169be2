/* A WebSocket client (RFC 6455) for one connection: the HTTP/1.1 upgrade handshake,
 * then wslay in client mode for framing, masking, ping/pong and close, over sock_io
 * (ws://) or tls_io over sock_io (wss://).
 * Bounded: handshake response size, message size (larger messages close the
 * connection), and how much input is parsed per call. */
#ifndef MP_WS_CLIENT_H
#define MP_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_ws_client mp_ws_client_t;

typedef struct mp_ws_config {
    const char *host; /* name or numeric address */
    uint16_t port;
    const char *path;         /* request target, "/" when NULL or empty */
    size_t max_message;       /* largest message accepted, bytes */
    uint64_t open_timeout_ns; /* connect + handshake deadline */
    bool tls;                 /* wss://: TLS over the socket, certificate and name verified */
    const char *ca_file;      /* trusted CAs (PEM) for tls; NULL: the system store */
} mp_ws_config_t;

enum {
    MP_WS_CONNECTING = 0, /* TCP connect or handshake under way */
    MP_WS_OPEN = 1,
    MP_WS_CLOSED = 2, /* see mp_ws_client_why */
};

/* Why a connection closed, for metrics and logs. */
typedef enum mp_ws_close_reason {
    MP_WS_CLOSE_NONE = 0,
    MP_WS_CLOSE_CONNECT,   /* connect failed or timed out */
    MP_WS_CLOSE_HANDSHAKE, /* bad or missing 101 response, wrong Sec-WebSocket-Accept */
    MP_WS_CLOSE_PEER,      /* peer sent a close frame, or EOF between frames */
    MP_WS_CLOSE_TRUNCATED, /* EOF in the middle of a frame */
    MP_WS_CLOSE_PROTOCOL,  /* invalid framing (wslay refused it) */
    MP_WS_CLOSE_OVERSIZE,  /* a message longer than max_message */
    MP_WS_CLOSE_IO,        /* socket error */
} mp_ws_close_reason_t;

/* Receives one complete text or binary message; data is valid only during the call. */
typedef void (*mp_ws_on_message_fn)(void *ctx, const uint8_t *data, size_t len);

/* Starts connecting. Returns 0 and *out, or -errno with a message in err. The config
 * strings are copied. */
int mp_ws_client_open(mp_ws_client_t **out, const mp_ws_config_t *cfg, char *err, size_t errlen);

/* Advances the connection, waiting at most timeout_ns: connect, handshake, queued sends,
 * and, when may_receive, parsing received bytes and handing each complete message to
 * on_message (at most about 256 KiB of input per call, so the caller bounds what it
 * buffers by passing may_receive false). Returns the state (MP_WS_*). */
int mp_ws_client_pump(mp_ws_client_t *c, uint64_t timeout_ns, bool may_receive,
                      mp_ws_on_message_fn on_message, void *ctx);

/* Queues a text message (copied). Returns 0, -ENOTCONN unless open, or -ENOMEM. */
int mp_ws_client_send_text(mp_ws_client_t *c, const char *data, size_t len);

/* After MP_WS_CLOSED: the reason and a description for a person. */
mp_ws_close_reason_t mp_ws_client_why(const mp_ws_client_t *c);
const char *mp_ws_client_why_text(const mp_ws_client_t *c);

/* True when the socket runs on io_uring. */
bool mp_ws_client_uses_uring(const mp_ws_client_t *c);

/* Closes the socket and frees everything. NULL is allowed. */
void mp_ws_client_close(mp_ws_client_t *c);

#endif
