/* One outgoing TCP connection with fixed receive and send buffers, driven by io_uring
 * (recv, send and poll operations) or, where io_uring is refused, by poll(2) with
 * nonblocking recv(2)/send(2). Every wait is bounded by a caller-given timeout. */
#ifndef MP_SOCK_IO_H
#define MP_SOCK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mp_sock_io mp_sock_io_t;

/* Same switch as the line reader: "1" forces the poll(2) path. */
#define MP_SOCK_IO_NO_URING_ENV "MEMPULSE_NO_URING"

enum {
    MP_SOCK_CONNECTING = 0,
    MP_SOCK_CONNECTED = 1,
    MP_SOCK_CLOSED = 2, /* peer closed (EOF) or an error; see mp_sock_io_error */
};

/* Resolves host (name or numeric address) and starts a nonblocking connect to port.
 * rcap and scap are the receive and send buffer sizes (at least 4 KiB each). Name
 * resolution blocks (getaddrinfo); use numeric addresses where that matters. Returns 0
 * and *out, -EINVAL (bad arguments), -EHOSTUNREACH (name not resolved), -ENOMEM, or the
 * -errno of socket/connect. */
int mp_sock_io_open(mp_sock_io_t **out, const char *host, uint16_t port, size_t rcap, size_t scap);

/* Moves bytes: completes the connect, keeps one receive and (with queued bytes) one send
 * operation going, and waits up to timeout_ns for one of them to finish. Returns the
 * state (MP_SOCK_*). */
int mp_sock_io_pump(mp_sock_io_t *io, uint64_t timeout_ns);

/* Received bytes not yet consumed (they stay put until consumed). */
void mp_sock_io_rdata(const mp_sock_io_t *io, const uint8_t **data, size_t *len);
void mp_sock_io_rconsume(mp_sock_io_t *io, size_t n);

/* Copies up to len bytes into the send buffer; returns how many fit. */
size_t mp_sock_io_write(mp_sock_io_t *io, const void *data, size_t len);

/* Free space in the send buffer: what mp_sock_io_write would take now. */
size_t mp_sock_io_room(mp_sock_io_t *io);

/* Bytes queued or in flight on the send side. */
size_t mp_sock_io_unsent(const mp_sock_io_t *io);

/* The -errno that closed the connection, 0 for a clean EOF. */
int mp_sock_io_error(const mp_sock_io_t *io);

bool mp_sock_io_uses_uring(const mp_sock_io_t *io);

/* Cancels operations in flight (waiting for the kernel to release the buffers), closes
 * the socket and frees everything. NULL is allowed. */
void mp_sock_io_close(mp_sock_io_t *io);

#endif
