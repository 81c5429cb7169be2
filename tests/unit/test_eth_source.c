/* The eth source as ingest's loop drives it: configuration errors, no checkpoint, bounded
 * next() while the node is unreachable, and against a scripted in-process node the event
 * sequence for dedupe, replacement, blocks and mined marking. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
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
#include "ingest/eth_source.h"

static uint64_t stat_value(const mp_source_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->nstats; i++)
        if (strcmp(s->stats[i].name, name) == 0) return s->stats[i].value;
    cr_assert_fail("no stat %s", name);
    return 0;
}

Test(eth_source, bad_urls_are_configuration_errors)
{
    char err[256] = "";
    mp_eth_source_config_t cfg = {.url = "http://node:8545", .chain_id = 1};
    cr_expect_null(mp_eth_source_create(&cfg, err, sizeof err));
    cr_expect_neq(strstr(err, "ws://"), NULL, "%s", err);
    cfg.url = "ws://node:99999";
    cr_expect_null(mp_eth_source_create(&cfg, err, sizeof err));
    cfg.url = "ws://node:8545";
    cfg.dedupe_window = 1000; /* not a power of two */
    cr_expect_null(mp_eth_source_create(&cfg, err, sizeof err));
}

Test(eth_source, cannot_be_resumed_and_fingerprint_follows_the_url)
{
    char err[256];
    mp_eth_source_config_t cfg = {.url = "ws://127.0.0.1:1", .chain_id = 1};
    mp_source_t *a = mp_eth_source_create(&cfg, err, sizeof err);
    cfg.url = "ws://127.0.0.1:2";
    mp_source_t *b = mp_eth_source_create(&cfg, err, sizeof err);
    cr_assert(a && b);
    uint8_t buf[64];
    cr_expect_eq(a->ops->save(a, buf, sizeof buf), 0);
    cr_expect_eq(a->ops->restore(a, buf, 8), -EINVAL);
    cr_expect_neq(a->fingerprint, b->fingerprint);
    cr_expect_str_eq(a->name, "eth");
    a->ops->destroy(a);
    b->ops->destroy(b);
}

Test(eth_source, unreachable_node_keeps_next_short_and_counts_retries)
{
    /* A port nobody listens on: connects fail at once, retries follow the backoff. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    char url[64], err[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u", ntohs(a.sin_port));
    mp_eth_source_config_t cfg = {.url = url, .chain_id = 1};
    mp_source_t *s = mp_eth_source_create(&cfg, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    uint64_t end = mp_mono_ns() + 1500000000ull;
    int ticks = 0;
    while (mp_mono_ns() < end) {
        mp_event_t ev;
        uint64_t wait = 0, t0 = mp_mono_ns();
        int r = s->ops->next(s, &ev, &wait);
        cr_assert_lt(mp_mono_ns() - t0, 100000000ull, "next blocked");
        cr_assert(r == MP_SOURCE_EVENT || r == MP_SOURCE_IDLE, "next returned %d", r);
        if (r == MP_SOURCE_EVENT) {
            cr_assert_eq(ev.type, MP_EV_TICK);
            ticks++;
        } else {
            usleep((useconds_t)((wait < 50000000ull ? wait : 50000000ull) / 1000));
        }
    }
    cr_expect_geq(ticks, 1);
    /* 250 ms doubling with jitter over [d/2, d]: at least 2 retries within 1.5 s. */
    cr_expect_geq(stat_value(s, "eth_reconnects_total"), 2);
    cr_expect_eq(stat_value(s, "eth_upstream_connected"), 0);
    s->ops->destroy(s);
}

/* ---- a scripted node ---- */

#define FROM "0x00000000000000000000000000000000000000aa"
static char frames[16][512];
static int nframes;
static int lfd;

static void add_tx(unsigned hash, unsigned nonce)
{
    snprintf(frames[nframes++], sizeof frames[0],
             "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"subscription\":"
             "\"0x1\",\"result\":{\"type\":\"0x0\",\"nonce\":\"0x%x\",\"gas\":\"0x5208\","
             "\"gasPrice\":\"0x10\",\"to\":null,\"value\":\"0x0\",\"input\":\"0x\",\"hash\":"
             "\"0x%064x\",\"from\":\"" FROM "\"}}}",
             nonce, hash);
}

static void send_text(int fd, const char *t)
{
    size_t n = strlen(t);
    uint8_t h[4] = {0x81, 126, (uint8_t)(n >> 8), (uint8_t)n};
    send(fd, h, 4, MSG_NOSIGNAL);
    send(fd, t, n, MSG_NOSIGNAL);
}

static void *node(void *arg)
{
    int fd = accept(lfd, NULL, NULL);
    char buf[8192];
    size_t got = 0;
    buf[0] = '\0';
    while (!strstr(buf, "\r\n\r\n") && got < sizeof buf - 1) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0) goto out;
        got += (size_t)r;
        buf[got] = '\0';
    }
    char key[64] = "", cat[128], acc[64];
    sscanf(strstr(buf, "Sec-WebSocket-Key: ") + 19, "%63[^\r]", key);
    int n = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    EVP_Digest(cat, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)acc, md, (int)mdlen);
    dprintf(fd,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
            "Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
            acc);
    /* Frames up to the head first; the block is served when asked (the request id is
     * read from the client's masked frame). */
    int i = 0;
    for (; i < nframes && strstr(frames[i], "parentHash") == NULL; i++)
        send_text(fd, frames[i]);
    send_text(fd, frames[i++]);
    for (int tries = 0; tries < 50; tries++) {
        uint8_t h[2], ext[2], mask[4], payload[1024];
        if (recv(fd, h, 2, MSG_WAITALL) != 2) goto out;
        size_t len = h[1] & 0x7f;
        if (len == 126) {
            if (recv(fd, ext, 2, MSG_WAITALL) != 2) goto out;
            len = (size_t)ext[0] << 8 | ext[1];
        }
        if (len >= sizeof payload || recv(fd, mask, 4, MSG_WAITALL) != 4 ||
            recv(fd, payload, len, MSG_WAITALL) != (ssize_t)len)
            goto out;
        for (size_t k = 0; k < len; k++)
            payload[k] ^= mask[k % 4];
        payload[len] = '\0';
        if (!strstr((char *)payload, "eth_getBlockByHash")) continue;
        unsigned id = 0;
        sscanf(strstr((char *)payload, "\"id\":") + 5, "%u", &id);
        char blk[512];
        snprintf(
            blk, sizeof blk,
            "{\"jsonrpc\":\"2.0\",\"id\":%u,\"result\":{\"number\":\"0x5\",\"hash\":\"0x%064x\","
            "\"gasUsed\":\"0x1\",\"gasLimit\":\"0x2\",\"timestamp\":\"0x3\",\"transactions\":"
            "[\"0x%064x\"]}}",
            id, 0xb5, 0xa);
        send_text(fd, blk);
        break;
    }
    for (; i < nframes; i++)
        send_text(fd, frames[i]);
    /* Hold the connection until the client is done. */
    while (recv(fd, buf, sizeof buf, 0) > 0)
        ;
out:
    close(fd);
    return NULL;
}

Test(eth_source, dedupe_replacement_and_mined_marking_in_order)
{
    nframes = 0;
    add_tx(0xa, 1);
    snprintf(
        frames[nframes++], sizeof frames[0],
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"subscription\":"
        "\"0x2\",\"result\":{\"number\":\"0x5\",\"hash\":\"0x%064x\",\"parentHash\":\"0x%064x\","
        "\"gasUsed\":\"0x1\",\"gasLimit\":\"0x2\",\"timestamp\":\"0x3\"}}}",
        0xb5, 0xb4);
    add_tx(0xb, 1); /* nonce 1 again, but 0xa was mined: not a replacement */
    add_tx(0xc, 2);
    add_tx(0xd, 2); /* replaces 0xc */
    add_tx(0xd, 2); /* duplicate */
    add_tx(0xe, 3);

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    listen(lfd, 1);
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    pthread_t t;
    pthread_create(&t, NULL, node, NULL);

    char url[64], err[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", ntohs(a.sin_port));
    mp_eth_source_config_t cfg = {.url = url, .chain_id = 5};
    mp_source_t *s = mp_eth_source_create(&cfg, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    char seq[256] = "";
    uint64_t end = mp_mono_ns() + 5000000000ull;
    while (mp_mono_ns() < end && !strstr(seq, "S0e")) {
        mp_event_t ev;
        uint64_t wait = 0;
        if (s->ops->next(s, &ev, &wait) != MP_SOURCE_EVENT) continue;
        char item[16] = "";
        switch (ev.type) {
        case MP_EV_TX_SEEN:
            snprintf(item, sizeof item, "S%02x ", ev.u.tx.hash[31]);
            cr_expect_eq(ev.u.tx.source, MP_SOURCE_ETH);
            cr_expect_eq(ev.u.tx.chain_id, 5);
            break;
        case MP_EV_TX_REPLACED:
            snprintf(item, sizeof item, "R%02x>%02x ", ev.u.replaced.hash[31],
                     ev.u.replaced.replaced_by[31]);
            break;
        case MP_EV_BLOCK:
            snprintf(item, sizeof item, "B%u/%u ", (unsigned)ev.u.block.number,
                     ev.u.block.tx_count);
            break;
        case MP_EV_TX_MINED:
            snprintf(item, sizeof item, "M%02x@%u ", ev.u.mined.hash[31],
                     (unsigned)ev.u.mined.block_number);
            break;
        default: break;
        }
        strncat(seq, item, sizeof seq - strlen(seq) - 1);
    }
    cr_expect_str_eq(seq, "S0a B5/1 M0a@5 S0b S0c R0c>0d S0d S0e ");
    cr_expect_eq(stat_value(s, "eth_duplicates_total"), 1);
    cr_expect_eq(stat_value(s, "eth_replacements_total"), 1);
    cr_expect_eq(stat_value(s, "eth_upstream_connected"), 1);
    cr_expect_eq(s->malformed_total, 0);
    s->ops->destroy(s); /* closes the connection: the node thread ends */
    pthread_join(t, NULL);
    close(lfd);
}
