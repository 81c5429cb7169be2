/* The WebSocket client against an in-process server thread on 127.0.0.1: handshake
 * checks, message delivery, masked client frames, and each way a connection can end
 * (close frame, bad accept, refused upgrade, oversize, EOF mid-frame, no response,
 * connection refused), on io_uring and on the poll(2) fallback. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "ingest/ws_client.h"
#include "ingest/ws_handshake.h"

typedef enum {
    SC_MESSAGE,
    SC_BAD_ACCEPT,
    SC_REFUSED,
    SC_OVERSIZE,
    SC_MIDFRAME,
    SC_SILENT
} scenario_t;

typedef struct server {
    int lfd;
    uint16_t port;
    scenario_t sc;
    pthread_t thread;
    /* what the server observed */
    bool client_frame_masked;
    char client_payload[64];
    unsigned close_code_received;
} server_t;

static int recv_exact(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads one client frame (header, mask, payload, unmasked into out). */
static int read_frame(int fd, uint8_t *opcode, bool *masked, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t h[2], mask[4] = {0};
    if (recv_exact(fd, h, 2)) return -1;
    *opcode = h[0] & 15;
    *masked = h[1] & 0x80;
    size_t n = h[1] & 0x7f;
    if (n >= 126) return -1; /* the test's client frames are small */
    if (*masked && recv_exact(fd, mask, 4)) return -1;
    if (n > cap || recv_exact(fd, out, n)) return -1;
    for (size_t i = 0; i < n; i++)
        out[i] ^= mask[i % 4];
    *len = n;
    return 0;
}

static void accept_value(const char *key, char *out)
{
    char cat[128];
    int n = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    EVP_Digest(cat, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

static void *serve(void *arg)
{
    server_t *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    char head[4096];
    size_t got = 0;
    while (got < sizeof head - 1 && !strstr(head, "\r\n\r\n")) {
        ssize_t r = recv(fd, head + got, sizeof head - 1 - got, 0);
        if (r <= 0) goto out;
        got += (size_t)r;
        head[got] = '\0';
    }
    char key[64] = "", acc[64];
    const char *k = strstr(head, "Sec-WebSocket-Key: ");
    if (k) sscanf(k + 19, "%63[^\r]", key);
    accept_value(key, acc);
    if (s->sc == SC_SILENT) {
        usleep(800 * 1000);
        goto out;
    }
    if (s->sc == SC_REFUSED) {
        dprintf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        goto out;
    }
    dprintf(fd,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "sec-websocket-accept: %s\r\n\r\n",
            s->sc == SC_BAD_ACCEPT ? "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" : acc);
    if (s->sc == SC_MESSAGE) {
        static const uint8_t hello[] = {0x81, 5, 'h', 'e', 'l', 'l', 'o'};
        send(fd, hello, sizeof hello, 0);
        uint8_t op, buf[64];
        bool masked;
        size_t n;
        if (read_frame(fd, &op, &masked, buf, sizeof buf - 1, &n) == 0 && op == 1) {
            s->client_frame_masked = masked;
            memcpy(s->client_payload, buf, n);
        }
        static const uint8_t close_frame[] = {0x88, 2, 0x03, 0xe8}; /* 1000 */
        send(fd, close_frame, sizeof close_frame, 0);
        if (read_frame(fd, &op, &masked, buf, sizeof buf, &n) == 0 && op == 8 && n >= 2)
            s->close_code_received = (unsigned)buf[0] << 8 | buf[1];
    } else if (s->sc == SC_OVERSIZE) {
        uint8_t big[4 + 4096] = {0x81, 126, 0x10, 0x00}; /* 4096 bytes of '{' */
        memset(big + 4, '{', 4096);
        send(fd, big, sizeof big, 0);
        uint8_t op = 0, buf[64];
        bool masked;
        size_t n = 0;
        while (read_frame(fd, &op, &masked, buf, sizeof buf, &n) == 0 && op != 8)
            ; /* the client's text frame may come first */
        if (op == 8 && n >= 2) s->close_code_received = (unsigned)buf[0] << 8 | buf[1];
    } else if (s->sc == SC_MIDFRAME) {
        static const uint8_t half[] = {0x81, 126, 0x03, 0xe8, '{', '"', 'a'};
        send(fd, half, sizeof half, 0);
        usleep(50 * 1000);
    } else {
        usleep(300 * 1000);
    }
out:
    close(fd);
    return NULL;
}

static void server_start(server_t *s, scenario_t sc)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->lfd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

typedef struct received {
    int count;
    char last[64];
} received_t;

static void on_message(void *ctx, const uint8_t *data, size_t len)
{
    received_t *r = ctx;
    r->count++;
    size_t n = len < sizeof r->last - 1 ? len : sizeof r->last - 1;
    memcpy(r->last, data, n);
    r->last[n] = '\0';
}

/* Pumps until closed (or 5 s); sends "ping-me" once open. */
static mp_ws_close_reason_t run_client(uint16_t port, size_t max_message, received_t *got,
                                       bool *was_open)
{
    mp_ws_client_t *c;
    char err[200];
    mp_ws_config_t cfg = {.host = "127.0.0.1",
                          .port = port,
                          .path = "/x",
                          .max_message = max_message,
                          .open_timeout_ns = 300000000ull};
    cr_assert_eq(mp_ws_client_open(&c, &cfg, err, sizeof err), 0, "%s", err);
    uint64_t deadline = mp_mono_ns() + 5000000000ull;
    bool sent = false;
    int st = MP_WS_CONNECTING;
    *was_open = false;
    while (st != MP_WS_CLOSED && mp_mono_ns() < deadline) {
        uint64_t t0 = mp_mono_ns();
        st = mp_ws_client_pump(c, 20000000ull, true, on_message, got);
        cr_assert_lt(mp_mono_ns() - t0, 150000000ull, "pump blocked too long");
        if (st == MP_WS_OPEN) *was_open = true;
        if (st == MP_WS_OPEN && !sent) {
            /* May fail only when the connection is already closing (oversize). */
            int ret = mp_ws_client_send_text(c, "ping-me", 7);
            cr_assert(ret == 0 || ret == -ENOTCONN, "send_text: %d", ret);
            sent = true;
        }
    }
    cr_assert_eq(st, MP_WS_CLOSED, "connection never closed");
    mp_ws_close_reason_t why = mp_ws_client_why(c);
    cr_expect_str_neq(mp_ws_client_why_text(c), "");
    mp_ws_client_close(c);
    return why;
}

static void paths(bool uring)
{
    if (uring)
        unsetenv("MEMPULSE_NO_URING");
    else
        setenv("MEMPULSE_NO_URING", "1", 1);
}

ParameterizedTestParameters(ws_client, message_then_close_frame)
{
    static bool p[] = {true, false};
    return cr_make_param_array(bool, p, 2);
}

ParameterizedTest(bool *uring, ws_client, message_then_close_frame)
{
    paths(*uring);
    server_t s;
    server_start(&s, SC_MESSAGE);
    received_t got = {0};
    bool open;
    mp_ws_close_reason_t why = run_client(s.port, 1 << 20, &got, &open);
    server_stop(&s);
    cr_expect(open);
    cr_expect_eq(got.count, 1);
    cr_expect_str_eq(got.last, "hello");
    cr_expect(s.client_frame_masked, "client frames must be masked");
    cr_expect_str_eq(s.client_payload, "ping-me");
    cr_expect_eq(s.close_code_received, 1000, "the close is answered");
    cr_expect_eq(why, MP_WS_CLOSE_PEER);
}

Test(ws_client, wrong_accept_fails_the_handshake)
{
    server_t s;
    server_start(&s, SC_BAD_ACCEPT);
    received_t got = {0};
    bool open;
    cr_expect_eq(run_client(s.port, 1 << 20, &got, &open), MP_WS_CLOSE_HANDSHAKE);
    server_stop(&s);
    cr_expect_not(open);
}

Test(ws_client, refused_upgrade_fails_the_handshake)
{
    server_t s;
    server_start(&s, SC_REFUSED);
    received_t got = {0};
    bool open;
    cr_expect_eq(run_client(s.port, 1 << 20, &got, &open), MP_WS_CLOSE_HANDSHAKE);
    server_stop(&s);
}

Test(ws_client, silent_server_times_out_the_handshake)
{
    server_t s;
    server_start(&s, SC_SILENT);
    received_t got = {0};
    bool open;
    uint64_t t0 = mp_mono_ns();
    cr_expect_eq(run_client(s.port, 1 << 20, &got, &open), MP_WS_CLOSE_HANDSHAKE);
    cr_expect_lt(mp_mono_ns() - t0, 700000000ull, "the 300 ms open timeout was not applied");
    server_stop(&s);
}

ParameterizedTestParameters(ws_client, oversize_message_closes_with_1009)
{
    static bool p[] = {true, false};
    return cr_make_param_array(bool, p, 2);
}

ParameterizedTest(bool *uring, ws_client, oversize_message_closes_with_1009)
{
    paths(*uring);
    server_t s;
    server_start(&s, SC_OVERSIZE);
    received_t got = {0};
    bool open;
    cr_expect_eq(run_client(s.port, 1024, &got, &open), MP_WS_CLOSE_OVERSIZE);
    server_stop(&s);
    cr_expect_eq(got.count, 0);
    cr_expect_eq(s.close_code_received, 1009);
}

Test(ws_client, eof_in_the_middle_of_a_frame_is_truncated)
{
    server_t s;
    server_start(&s, SC_MIDFRAME);
    received_t got = {0};
    bool open;
    mp_ws_close_reason_t why = run_client(s.port, 1 << 20, &got, &open);
    cr_expect_eq(why, MP_WS_CLOSE_TRUNCATED, "closed as %d", why);
    server_stop(&s);
    cr_expect_eq(got.count, 0);
}

Test(ws_client, closed_port_fails_the_connect)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nothing listens there now */
    received_t got = {0};
    bool open;
    cr_expect_eq(run_client(ntohs(a.sin_port), 1 << 20, &got, &open), MP_WS_CLOSE_CONNECT);
}

Test(ws_client, unresolvable_host_is_an_open_error)
{
    mp_ws_client_t *c = NULL;
    char err[200] = "";
    mp_ws_config_t cfg = {.host = "no-such-host.invalid",
                          .port = 1,
                          .max_message = 1024,
                          .open_timeout_ns = 1000000000ull};
    cr_expect_lt(mp_ws_client_open(&c, &cfg, err, sizeof err), 0);
    cr_expect_null(c);
    cr_expect_neq(strstr(err, "no-such-host.invalid"), NULL, "%s", err);
}

/* ---- the handshake helpers ---- */

Test(ws_handshake, accept_value_is_the_rfc_6455_example)
{
    char out[MP_WS_ACCEPT_LEN + 1];
    cr_assert_eq(mp_ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    cr_expect_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
    char long_key[80];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    cr_expect_eq(mp_ws_accept_value(long_key, out), -EINVAL);
}

Test(ws_handshake, header_values_are_found_trimmed_and_bounded)
{
    static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nupgrade:  websocket \r\n"
                               "Sec-WebSocket-Accept:\tabc=\r\nX-Long: 0123456789\n\r\n";
    const char *end = head + sizeof head - 1;
    char v[10];
    cr_assert_eq(mp_http_header_value(head, end, "Upgrade", v, sizeof v), 0);
    cr_expect_str_eq(v, "websocket"); /* the name case-insensitive, the blanks trimmed */
    cr_assert_eq(mp_http_header_value(head, end, "sec-websocket-accept", v, sizeof v), 0);
    cr_expect_str_eq(v, "abc=");
    cr_expect_eq(mp_http_header_value(head, end, "X-Long", v, sizeof v), -ENOSPC);
    cr_expect_eq(mp_http_header_value(head, end, "Sec-WebSocket-Key", v, sizeof v), -ENOENT);
    cr_expect_eq(mp_http_header_value(head, end, "Upgrad", v, sizeof v), -ENOENT);
}
