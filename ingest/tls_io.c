/* TLS client state: SSL_CTX/SSL with a read BIO fed from the socket's receive buffer and a
 * write BIO drained into its send buffer; a fixed plaintext buffer for decrypted input. */
#include "ingest/tls_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN_BUF (256u * 1024u)
/* Ciphertext held inside the BIOs at most (beyond one socket read): bounds memory. */
#define BIO_MAX (256u * 1024u)

struct mp_tls_io {
    mp_sock_io_t *io;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool ready;
    char why[200];
    unsigned char *pbuf;
    size_t pstart, pend;
};

static int fail(mp_tls_io_t *t, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    long v = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(t->why, sizeof t->why, "%s: certificate: %s", what,
                 X509_verify_cert_error_string(v));
    else
        snprintf(t->why, sizeof t->why, "%s%s%s", what, *buf ? ": " : "", buf);
    ERR_clear_error();
    return -EPROTO;
}

int mp_tls_io_open(mp_tls_io_t **out, mp_sock_io_t *io, const char *host, const char *ca_file,
                   char *err, size_t errlen)
{
    *out = NULL;
    mp_tls_io_t *t = calloc(1, sizeof *t);
    if (!t || !(t->pbuf = malloc(PLAIN_BUF))) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->io = io;
    int ret = -EPROTO;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) goto out_fail;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1
                : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        snprintf(err, errlen, "cannot load trusted CAs from %s",
                 ca_file ? ca_file : "the system store");
        ret = -EINVAL;
        goto out_free;
    }
    t->ssl = SSL_new(t->ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        goto out_fail;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1) goto out_fail;
    } else if (SSL_set_tlsext_host_name(t->ssl, host) != 1 || SSL_set1_host(t->ssl, host) != 1) {
        goto out_fail;
    }
    *out = t;
    return 0;

out_fail:
    fail(t, "TLS setup failed");
    snprintf(err, errlen, "%s", t->why);
out_free:
    mp_tls_io_close(t);
    return ret;
}

/* Hands queued ciphertext to the socket, as much as its send buffer takes. */
static void flush_out(mp_tls_io_t *t)
{
    unsigned char buf[16384];
    for (;;) {
        size_t pending = BIO_ctrl_pending(t->wbio);
        size_t room = mp_sock_io_room(t->io);
        size_t n = pending < room ? pending : room;
        if (n > sizeof buf) n = sizeof buf;
        if (n == 0) return;
        int got = BIO_read(t->wbio, buf, (int)n);
        if (got <= 0) return;
        mp_sock_io_write(t->io, buf, (size_t)got); /* fits: n <= room */
    }
}

int mp_tls_io_pump(mp_tls_io_t *t)
{
    const uint8_t *data;
    size_t len;
    mp_sock_io_rdata(t->io, &data, &len);
    if (len && BIO_ctrl_pending(t->rbio) < BIO_MAX) {
        int n = BIO_write(t->rbio, data, (int)(len < BIO_MAX ? len : BIO_MAX));
        if (n > 0) mp_sock_io_rconsume(t->io, (size_t)n);
    }
    int ret = 0;
    if (!t->ready) {
        int r = SSL_do_handshake(t->ssl);
        if (r == 1) {
            t->ready = true;
        } else {
            int e = SSL_get_error(t->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                ret = fail(t, "TLS handshake failed");
        }
    }
    if (t->ready && ret == 0) {
        if (t->pstart == t->pend)
            t->pstart = t->pend = 0;
        else if (t->pstart > PLAIN_BUF / 2) {
            memmove(t->pbuf, t->pbuf + t->pstart, t->pend - t->pstart);
            t->pend -= t->pstart;
            t->pstart = 0;
        }
        while (t->pend < PLAIN_BUF) {
            int n = SSL_read(t->ssl, t->pbuf + t->pend, (int)(PLAIN_BUF - t->pend));
            if (n > 0) {
                t->pend += (size_t)n;
                continue;
            }
            int e = SSL_get_error(t->ssl, n);
            if (e == SSL_ERROR_ZERO_RETURN)
                ret = 1;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                ret = fail(t, "TLS record error");
            break;
        }
    }
    flush_out(t);
    return ret;
}

bool mp_tls_io_ready(const mp_tls_io_t *t)
{
    return t->ready;
}

void mp_tls_io_rdata(const mp_tls_io_t *t, const unsigned char **data, size_t *len)
{
    *data = t->pbuf + t->pstart;
    *len = t->pend - t->pstart;
}

void mp_tls_io_rconsume(mp_tls_io_t *t, size_t n)
{
    size_t have = t->pend - t->pstart;
    t->pstart += n < have ? n : have;
}

size_t mp_tls_io_write(mp_tls_io_t *t, const void *data, size_t len)
{
    if (!t->ready || len == 0 || BIO_ctrl_pending(t->wbio) >= BIO_MAX) return 0;
    size_t n = len < BIO_MAX ? len : BIO_MAX;
    int w = SSL_write(t->ssl, data, (int)n);
    flush_out(t);
    return w > 0 ? (size_t)w : 0;
}

size_t mp_tls_io_unsent(const mp_tls_io_t *t)
{
    return BIO_ctrl_pending(t->wbio);
}

const char *mp_tls_io_why(const mp_tls_io_t *t)
{
    return t->why;
}

void mp_tls_io_close(mp_tls_io_t *t)
{
    if (!t) return;
    SSL_free(t->ssl); /* frees the BIOs */
    SSL_CTX_free(t->ctx);
    free(t->pbuf);
    free(t);
}
