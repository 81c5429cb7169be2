/* TLS client over a sock_io connection (wss://): OpenSSL with memory BIOs, so the socket
 * keeps its io_uring / poll(2) I/O and TLS only transforms bytes between the socket's
 * buffers and a plaintext buffer. Verifies the server certificate and its name. */
#ifndef MP_TLS_IO_H
#define MP_TLS_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/sock_io.h"

typedef struct mp_tls_io mp_tls_io_t;

/* Starts a TLS client on io (borrowed; the caller closes it after mp_tls_io_close). host
 * is sent as SNI (names only) and checked against the certificate (names and IP
 * addresses). ca_file: PEM file of trusted CAs; NULL uses the system store. Returns 0 and
 * *out, or -errno with a message in err. */
int mp_tls_io_open(mp_tls_io_t **out, mp_sock_io_t *io, const char *host, const char *ca_file,
                   char *err, size_t errlen);

/* Moves ciphertext between the socket buffers and the TLS engine, advances the handshake
 * and decrypts what arrived. Call after each mp_sock_io_pump. Returns 0, 1 once the peer
 * closed TLS (close_notify), or -EPROTO (handshake or record failure, see
 * mp_tls_io_why). */
int mp_tls_io_pump(mp_tls_io_t *t);

/* True once the handshake completed. */
bool mp_tls_io_ready(const mp_tls_io_t *t);

/* Decrypted bytes not yet consumed. */
void mp_tls_io_rdata(const mp_tls_io_t *t, const unsigned char **data, size_t *len);
void mp_tls_io_rconsume(mp_tls_io_t *t, size_t n);

/* Encrypts up to len plaintext bytes into the socket's send buffer; returns how many
 * were taken (0 when the buffers are full: try again after a pump). */
size_t mp_tls_io_write(mp_tls_io_t *t, const void *data, size_t len);

/* Ciphertext not yet handed to the socket. */
size_t mp_tls_io_unsent(const mp_tls_io_t *t);

/* Why the last failure happened, for a person. */
const char *mp_tls_io_why(const mp_tls_io_t *t);

void mp_tls_io_close(mp_tls_io_t *t);

#endif
