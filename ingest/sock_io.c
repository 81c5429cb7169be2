/* TCP client socket I/O for the eth source: connect, a receive buffer filled by one recv
 * at a time, a send buffer drained by one send at a time, over io_uring or poll(2). */
#include "ingest/sock_io.h"

#include <errno.h>
#include <liburing.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"

#define MIN_BUF 4096u
#define RING_ENTRIES 8
#define CANCEL_WAIT_NS 1000000000ull

/* user_data of submitted operations; at most one of each is in flight. */
enum { OP_RECV = 1, OP_SEND = 2, OP_CONNECT_POLL = 3, OP_CANCEL = 4 };

struct mp_sock_io {
    int fd;
    int state;
    int error;
    bool use_uring;
    bool recv_inflight, send_inflight, poll_inflight;
    struct io_uring ring;
    /* rbuf[rstart, rend): received, not consumed. A recv in flight writes rbuf[rend, rcap)
     * and only then may the buffer be compacted. */
    uint8_t *rbuf;
    size_t rcap, rstart, rend;
    /* sbuf[sstart, send): queued; a send in flight covers sbuf[sstart, sstart + sflight). */
    uint8_t *sbuf;
    size_t scap, sstart, send, sflight;
};

static bool uring_disabled_by_env(void)
{
    const char *v = getenv(MP_SOCK_IO_NO_URING_ENV);
    return v && strcmp(v, "1") == 0;
}

int mp_sock_io_open(mp_sock_io_t **out, const char *host, uint16_t port, size_t rcap, size_t scap)
{
    *out = NULL;
    if (!host || !*host || !port || rcap < MIN_BUF || scap < MIN_BUF) return -EINVAL;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai) return -EHOSTUNREACH;

    int err = 0;
    mp_sock_io_t *io = calloc(1, sizeof *io);
    if (!io) {
        err = -ENOMEM;
        goto out_addr;
    }
    io->fd = -1;
    io->rcap = rcap;
    io->scap = scap;
    io->rbuf = malloc(rcap);
    io->sbuf = malloc(scap);
    if (!io->rbuf || !io->sbuf) {
        err = -ENOMEM;
        goto out_free;
    }
    io->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (io->fd < 0) {
        err = -errno;
        goto out_free;
    }
    int one = 1;
    setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small requests */
    if (connect(io->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        io->state = MP_SOCK_CONNECTED;
    } else if (errno == EINPROGRESS) {
        io->state = MP_SOCK_CONNECTING;
    } else {
        err = -errno;
        goto out_free;
    }
    if (!uring_disabled_by_env()) {
        int ret = io_uring_queue_init(RING_ENTRIES, &io->ring, 0);
        if (ret == 0)
            io->use_uring = true;
        else if (ret != -EPERM && ret != -ENOSYS && ret != -ENOMEM) {
            err = ret;
            goto out_free;
        }
    }
    freeaddrinfo(ai);
    *out = io;
    return 0;

out_free:
    if (io->fd >= 0) close(io->fd);
    free(io->rbuf);
    free(io->sbuf);
    free(io);
out_addr:
    freeaddrinfo(ai);
    return err;
}

bool mp_sock_io_uses_uring(const mp_sock_io_t *io)
{
    return io->use_uring;
}

static void set_closed(mp_sock_io_t *io, int err)
{
    if (io->state != MP_SOCK_CLOSED) io->error = err;
    io->state = MP_SOCK_CLOSED;
}

/* Called with no recv in flight: moves unconsumed bytes to the front when the free tail
 * is short. */
static void compact_rbuf(mp_sock_io_t *io)
{
    if (io->rstart == io->rend) {
        io->rstart = io->rend = 0;
    } else if (io->rstart > 0 && io->rcap - io->rend < io->rcap / 4) {
        memmove(io->rbuf, io->rbuf + io->rstart, io->rend - io->rstart);
        io->rend -= io->rstart;
        io->rstart = 0;
    }
}

static void compact_sbuf(mp_sock_io_t *io)
{
    if (io->sstart == io->send) {
        io->sstart = io->send = 0;
    } else if (io->sstart > 0) {
        memmove(io->sbuf, io->sbuf + io->sstart, io->send - io->sstart);
        io->send -= io->sstart;
        io->sstart = 0;
    }
}

/* Checks the outcome of a nonblocking connect once the socket is writable. */
static void finish_connect(mp_sock_io_t *io)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
    if (soerr)
        set_closed(io, -soerr);
    else
        io->state = MP_SOCK_CONNECTED;
}

static void on_recv(mp_sock_io_t *io, int res)
{
    if (res > 0)
        io->rend += (size_t)res;
    else if (res == 0)
        set_closed(io, 0);
    else if (res != -EAGAIN && res != -EINTR)
        set_closed(io, res);
}

static void on_send(mp_sock_io_t *io, int res)
{
    if (res > 0)
        io->sstart += (size_t)res;
    else if (res != -EAGAIN && res != -EINTR)
        set_closed(io, res ? res : -EPIPE);
}

/* ---- io_uring path ---- */

static void submit_ops(mp_sock_io_t *io)
{
    struct io_uring_sqe *sqe;
    if (io->state == MP_SOCK_CONNECTING) {
        if (!io->poll_inflight && (sqe = io_uring_get_sqe(&io->ring))) {
            io_uring_prep_poll_add(sqe, io->fd, POLLOUT);
            io_uring_sqe_set_data64(sqe, OP_CONNECT_POLL);
            io->poll_inflight = true;
        }
    } else if (io->state == MP_SOCK_CONNECTED) {
        if (!io->recv_inflight) {
            compact_rbuf(io);
            if (io->rend < io->rcap && (sqe = io_uring_get_sqe(&io->ring))) {
                io_uring_prep_recv(sqe, io->fd, io->rbuf + io->rend, io->rcap - io->rend, 0);
                io_uring_sqe_set_data64(sqe, OP_RECV);
                io->recv_inflight = true;
            }
        }
        if (!io->send_inflight && io->send > io->sstart) {
            compact_sbuf(io);
            if ((sqe = io_uring_get_sqe(&io->ring))) {
                io->sflight = io->send - io->sstart;
                io_uring_prep_send(sqe, io->fd, io->sbuf + io->sstart, io->sflight, MSG_NOSIGNAL);
                io_uring_sqe_set_data64(sqe, OP_SEND);
                io->send_inflight = true;
            }
        }
    }
    int ret = io_uring_submit(&io->ring);
    if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) set_closed(io, ret);
}

static void reap(mp_sock_io_t *io, struct io_uring_cqe *cqe)
{
    uint64_t op = io_uring_cqe_get_data64(cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&io->ring, cqe);
    switch (op) {
    case OP_RECV:
        io->recv_inflight = false;
        on_recv(io, res);
        break;
    case OP_SEND:
        io->send_inflight = false;
        on_send(io, res);
        break;
    case OP_CONNECT_POLL:
        io->poll_inflight = false;
        if (res >= 0 && io->state == MP_SOCK_CONNECTING)
            finish_connect(io);
        else if (res < 0 && res != -EINTR && res != -ECANCELED)
            set_closed(io, res);
        break;
    default: break; /* OP_CANCEL */
    }
}

static void uring_pump(mp_sock_io_t *io, uint64_t timeout_ns)
{
    submit_ops(io);
    if (io->state == MP_SOCK_CLOSED) return;
    struct io_uring_cqe *cqe;
    int ret;
    if (timeout_ns == 0) {
        ret = io_uring_peek_cqe(&io->ring, &cqe);
    } else {
        struct __kernel_timespec ts = {.tv_sec = (long long)(timeout_ns / 1000000000u),
                                       .tv_nsec = (long long)(timeout_ns % 1000000000u)};
        ret = io_uring_wait_cqe_timeout(&io->ring, &cqe, &ts);
    }
    if (ret < 0) return; /* -ETIME, -EAGAIN, -EINTR: nothing finished in time */
    reap(io, cqe);
    /* Take whatever else already finished without waiting again. */
    while (io_uring_peek_cqe(&io->ring, &cqe) == 0)
        reap(io, cqe);
}

/* ---- poll(2) path ---- */

static void plain_pump(mp_sock_io_t *io, uint64_t timeout_ns)
{
    struct pollfd pfd = {.fd = io->fd};
    if (io->state == MP_SOCK_CONNECTING)
        pfd.events = POLLOUT;
    else {
        compact_rbuf(io);
        if (io->rend < io->rcap) pfd.events |= POLLIN;
        if (io->send > io->sstart) pfd.events |= POLLOUT;
    }
    uint64_t ms64 = timeout_ns / 1000000u + (timeout_ns % 1000000u != 0);
    int ready = poll(&pfd, 1, ms64 > INT_MAX ? INT_MAX : (int)ms64);
    if (ready <= 0) return;
    if (io->state == MP_SOCK_CONNECTING) {
        finish_connect(io);
        return;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(io->fd, io->rbuf + io->rend, io->rcap - io->rend, 0);
        on_recv(io, n < 0 ? -errno : (int)n);
    }
    if (io->state == MP_SOCK_CONNECTED && (pfd.revents & POLLOUT) && io->send > io->sstart) {
        compact_sbuf(io);
        ssize_t n = send(io->fd, io->sbuf, io->send, MSG_NOSIGNAL);
        on_send(io, n < 0 ? -errno : (int)n);
    }
}

int mp_sock_io_pump(mp_sock_io_t *io, uint64_t timeout_ns)
{
    if (io->state == MP_SOCK_CLOSED) return io->state;
    if (io->use_uring)
        uring_pump(io, timeout_ns);
    else
        plain_pump(io, timeout_ns);
    return io->state;
}

void mp_sock_io_rdata(const mp_sock_io_t *io, const uint8_t **data, size_t *len)
{
    *data = io->rbuf + io->rstart;
    *len = io->rend - io->rstart;
}

void mp_sock_io_rconsume(mp_sock_io_t *io, size_t n)
{
    size_t have = io->rend - io->rstart;
    io->rstart += n < have ? n : have;
}

size_t mp_sock_io_write(mp_sock_io_t *io, const void *data, size_t len)
{
    if (!io->send_inflight) compact_sbuf(io);
    size_t room = io->scap - io->send;
    size_t n = len < room ? len : room;
    memcpy(io->sbuf + io->send, data, n);
    io->send += n;
    return n;
}

size_t mp_sock_io_room(mp_sock_io_t *io)
{
    if (!io->send_inflight) compact_sbuf(io);
    return io->scap - io->send;
}

size_t mp_sock_io_unsent(const mp_sock_io_t *io)
{
    return io->send - io->sstart;
}

int mp_sock_io_error(const mp_sock_io_t *io)
{
    return io->error;
}

void mp_sock_io_close(mp_sock_io_t *io)
{
    if (!io) return;
    bool leak = false;
    if (io->use_uring) {
        /* The kernel may write rbuf or read sbuf until each operation completes. */
        shutdown(io->fd, SHUT_RDWR);
        static const uint64_t ops[] = {OP_RECV, OP_SEND, OP_CONNECT_POLL};
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
            if (!sqe) break;
            io_uring_prep_cancel64(sqe, ops[i], 0);
            io_uring_sqe_set_data64(sqe, OP_CANCEL);
        }
        io_uring_submit(&io->ring);
        uint64_t deadline = mp_mono_ns() + CANCEL_WAIT_NS;
        while ((io->recv_inflight || io->send_inflight || io->poll_inflight) &&
               mp_mono_ns() < deadline) {
            struct io_uring_cqe *cqe;
            struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
            if (io_uring_wait_cqe_timeout(&io->ring, &cqe, &ts) == 0) reap(io, cqe);
        }
        leak = io->recv_inflight || io->send_inflight;
        io_uring_queue_exit(&io->ring);
    }
    close(io->fd);
    if (!leak) { /* never saw a completion: the buffers are leaked, not reused */
        free(io->rbuf);
        free(io->sbuf);
    }
    free(io);
}
