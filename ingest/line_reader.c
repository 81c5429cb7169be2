/* Line splitting over one fixed buffer, fed by io_uring reads (or read(2)/poll(2) where
 * io_uring is refused); owns the buffer, the ring and the overlong-line skipping. */
#include "ingest/line_reader.h"

#include <errno.h>
#include <liburing.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

/* Free space guaranteed before every read once the buffer is compacted. */
#define READ_CHUNK (256u * 1024u)
#define RING_ENTRIES 4

/* user_data of the operations this reader submits; at most one of READ / POLL is in
 * flight at a time. */
enum { OP_NONE = 0, OP_READ = 1, OP_POLL = 2, OP_CANCEL = 3 };

struct mp_line_reader {
    int fd;
    bool seekable; /* regular file: positional reads at read_offset */
    bool use_uring;
    bool eof;      /* a read returned 0: no more input will come */
    bool skipping; /* discarding an overlong line until its newline */
    int inflight;  /* OP_NONE, OP_READ or OP_POLL */
    int error;     /* sticky -errno of a failed read */
    struct io_uring ring;
    size_t max_line;
    /* buf[start, end) holds bytes not yet delivered; buf[start, scan) is known to hold
     * no newline. Invariants: start <= scan <= end <= cap, and unless skipping,
     * end - start <= max_line + 1 after every scan (a longer newline-free run turns
     * skipping on), which with cap = max_line + 2 + READ_CHUNK leaves at least
     * READ_CHUNK bytes free after compaction. */
    char *buf;
    size_t cap, start, scan, end;
    uint64_t buf_offset;  /* input offset of buf[0] */
    uint64_t read_offset; /* input offset of the next read: buf_offset + end */
    uint64_t line_no;     /* lines delivered or skipped so far */
};

static void log_path_once(bool uring, int why)
{
    static atomic_bool logged;
    if (atomic_exchange_explicit(&logged, true, memory_order_relaxed)) return;
    if (uring)
        mp_log("line reader: reading input through io_uring");
    else if (why)
        mp_log("line reader: io_uring unavailable (%s), reading input with read(2)/poll(2)",
               strerror(-why));
    else
        mp_log("line reader: %s=1, reading input with read(2)/poll(2)",
               MP_LINE_READER_NO_URING_ENV);
}

static bool uring_disabled_by_env(void)
{
    const char *v = getenv(MP_LINE_READER_NO_URING_ENV);
    return v && strcmp(v, "1") == 0;
}

int mp_line_reader_open(mp_line_reader_t **out, int fd, uint64_t start_offset, uint64_t start_line,
                        size_t max_line)
{
    struct stat st;
    int err;
    *out = NULL;
    if (max_line < MP_LINE_MAX_MIN || max_line > MP_LINE_MAX_LIMIT) return -EINVAL;
    if (fstat(fd, &st) < 0) return -errno;
    if (!S_ISREG(st.st_mode) && start_offset != 0) return -EINVAL;

    mp_line_reader_t *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    r->fd = fd;
    r->seekable = S_ISREG(st.st_mode);
    r->max_line = max_line;
    r->cap = max_line + 2 + READ_CHUNK;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        err = -ENOMEM;
        goto out_free_reader;
    }
    r->buf_offset = r->read_offset = start_offset;
    r->line_no = start_line;

    if (uring_disabled_by_env()) {
        log_path_once(false, 0);
    } else {
        err = io_uring_queue_init(RING_ENTRIES, &r->ring, 0);
        if (err == 0) {
            r->use_uring = true;
            log_path_once(true, 0);
        } else if (err == -EPERM || err == -ENOSYS || err == -ENOMEM) {
            /* -ENOMEM: kernels before 5.12 charge rings to RLIMIT_MEMLOCK. */
            log_path_once(false, err);
        } else {
            goto out_free_buf;
        }
    }
    *out = r;
    return 0;

out_free_buf:
    free(r->buf);
out_free_reader:
    free(r);
    return err;
}

bool mp_line_reader_uses_uring(const mp_line_reader_t *r)
{
    return r->use_uring;
}

/* Drops delivered bytes from the buffer front so a read has room. Only called with no
 * read in flight: the kernel may be writing into buf[end, cap) until it completes. */
static void make_room(mp_line_reader_t *r)
{
    if (r->start == r->end) {
        r->buf_offset += r->end;
        r->start = r->scan = r->end = 0;
    } else if (r->cap - r->end < READ_CHUNK && r->start > 0) {
        size_t keep = r->end - r->start;
        memmove(r->buf, r->buf + r->start, keep);
        r->buf_offset += r->start;
        r->scan -= r->start;
        r->end = keep;
        r->start = 0;
    }
}

/* Queues op (OP_READ into buf[end, cap), or OP_POLL for readability). Returns 0 or the
 * -errno of io_uring_submit. */
static int submit_op(mp_line_reader_t *r, int op)
{
    /* The ring has RING_ENTRIES slots and this reader has at most two operations (one
     * plus a cancel) outstanding, so an sqe is always available. */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (op == OP_READ)
        io_uring_prep_read(sqe, r->fd, r->buf + r->end, (unsigned)(r->cap - r->end),
                           r->seekable ? r->read_offset : (uint64_t)-1);
    else
        io_uring_prep_poll_add(sqe, r->fd, POLLIN);
    io_uring_sqe_set_data64(sqe, (uint64_t)op);
    int ret = io_uring_submit(&r->ring);
    if (ret < 0) return ret;
    r->inflight = op;
    return 0;
}

/* Waits up to timeout_ns for the operation in flight. Returns its result (bytes read,
 * or poll mask), -EAGAIN on timeout or signal, or -errno. */
static int uring_complete(mp_line_reader_t *r, uint64_t timeout_ns)
{
    struct io_uring_cqe *cqe;
    for (;;) {
        int ret;
        if (timeout_ns == 0) {
            ret = io_uring_peek_cqe(&r->ring, &cqe);
        } else {
            struct __kernel_timespec ts = {.tv_sec = (long long)(timeout_ns / 1000000000u),
                                           .tv_nsec = (long long)(timeout_ns % 1000000000u)};
            ret = io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
        }
        if (ret == -ETIME || ret == -EINTR || ret == -EAGAIN) return -EAGAIN;
        if (ret < 0) return ret;
        uint64_t op = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&r->ring, cqe);
        if (op == (uint64_t)r->inflight) {
            r->inflight = OP_NONE;
            return res;
        }
        /* A stale completion (none is expected): keep waiting for ours. */
    }
}

/* One read into buf[end, cap) through io_uring. Returns bytes read (0 at EOF),
 * -EAGAIN when nothing arrived within timeout_ns, or -errno. */
static int uring_read(mp_line_reader_t *r, uint64_t timeout_ns)
{
    int ret;
    for (;;) {
        if (r->inflight == OP_NONE && (ret = submit_op(r, OP_READ)) < 0) return ret;
        int op = r->inflight;
        int res = uring_complete(r, timeout_ns);
        if (r->inflight != OP_NONE) return res; /* still in flight: timed out */
        if (op == OP_POLL) {
            if (res < 0 && res != -EINTR && res != -EAGAIN) return res;
            continue; /* readable (or hung up): issue the read */
        }
        if (res == -EAGAIN) {
            /* An O_NONBLOCK fd with no data: wait for readiness, then read again. (Recent
             * kernels poll internally and never return this; older ones do.) */
            if ((ret = submit_op(r, OP_POLL)) < 0) return ret;
            continue;
        }
        if (res == -EINTR) continue;
        return res;
    }
}

/* One read(2) or pread(2), after poll(2) for fds that can block. Same results as
 * uring_read. */
static int plain_read(mp_line_reader_t *r, uint64_t timeout_ns)
{
    ssize_t n;
    if (!r->seekable) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        /* Round up so a sub-millisecond remainder still waits instead of spinning. */
        uint64_t ms64 = timeout_ns / 1000000u + (timeout_ns % 1000000u != 0);
        int ms = ms64 > INT_MAX ? INT_MAX : (int)ms64;
        int ready = poll(&pfd, 1, ms);
        if (ready < 0) return errno == EINTR ? -EAGAIN : -errno;
        if (ready == 0) return -EAGAIN;
        n = read(r->fd, r->buf + r->end, r->cap - r->end);
    } else {
        n = pread(r->fd, r->buf + r->end, r->cap - r->end, (off_t)r->read_offset);
    }
    if (n < 0) return (errno == EINTR || errno == EAGAIN) ? -EAGAIN : -errno;
    return (int)n;
}

/* Reads more input, waiting until deadline (monotonic ns). Returns bytes added, 0 at
 * EOF, -EAGAIN on timeout, or -errno. */
static int fill(mp_line_reader_t *r, uint64_t deadline)
{
    uint64_t now = mp_mono_ns();
    uint64_t timeout = deadline > now ? deadline - now : 0;
    if (r->inflight == OP_NONE) make_room(r);
    int n = r->use_uring ? uring_read(r, timeout) : plain_read(r, timeout);
    if (n > 0) {
        r->end += (size_t)n;
        r->read_offset += (uint64_t)n;
    }
    return n;
}

static int deliver(mp_line_reader_t *r, mp_line_t *line, size_t len, size_t next_start, int kind)
{
    line->data = kind == MP_LINE_READY ? r->buf + r->start : NULL;
    line->len = kind == MP_LINE_READY ? len : 0;
    line->line_no = ++r->line_no;
    line->offset_after = r->buf_offset + next_start;
    r->start = r->scan = next_start;
    return kind;
}

int mp_line_reader_next(mp_line_reader_t *r, mp_line_t *line, uint64_t timeout_ns)
{
    uint64_t now = mp_mono_ns();
    uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    for (;;) {
        if (r->error) return r->error;
        char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        if (nl) {
            size_t pos = (size_t)(nl - r->buf);
            if (r->skipping) {
                r->skipping = false;
                return deliver(r, line, 0, pos + 1, MP_LINE_OVERLONG);
            }
            size_t len = pos - r->start;
            if (len > 0 && r->buf[pos - 1] == '\r') len--;
            return deliver(r, line, len, pos + 1,
                           len > r->max_line ? MP_LINE_OVERLONG : MP_LINE_READY);
        }
        r->scan = r->end;
        size_t pending = r->end - r->start;
        if (r->skipping || pending > r->max_line + 1 ||
            (pending == r->max_line + 1 && r->buf[r->end - 1] != '\r')) {
            /* Too long whatever follows: forget its bytes, remember only that a line is
             * being skipped, so memory stays bounded. */
            r->skipping = true;
            r->start = r->scan = r->end;
        }
        if (r->eof) {
            if (r->skipping) {
                r->skipping = false;
                return deliver(r, line, 0, r->end, MP_LINE_OVERLONG);
            }
            if (r->end > r->start) {
                size_t len = r->end - r->start;
                if (r->buf[r->end - 1] == '\r') len--;
                return deliver(r, line, len, r->end,
                               len > r->max_line ? MP_LINE_OVERLONG : MP_LINE_READY);
            }
            return MP_LINE_EOF;
        }
        int n = fill(r, deadline);
        if (n == -EAGAIN) return MP_LINE_AGAIN;
        if (n < 0) {
            r->error = n;
            return n;
        }
        if (n == 0) r->eof = true;
    }
}

void mp_line_reader_close(mp_line_reader_t *r)
{
    if (!r) return;
    if (r->use_uring) {
        if (r->inflight != OP_NONE) {
            /* The kernel owns buf[end, cap) until the operation completes: cancel it and
             * wait for its completion before the buffer is freed. */
            struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
            io_uring_prep_cancel64(sqe, (uint64_t)r->inflight, 0);
            io_uring_sqe_set_data64(sqe, OP_CANCEL);
            io_uring_submit(&r->ring);
            while (r->inflight != OP_NONE) {
                struct io_uring_cqe *cqe;
                int ret = io_uring_wait_cqe(&r->ring, &cqe);
                if (ret == -EINTR) continue;
                if (ret < 0) break; /* ring unusable; queue_exit below still reaps it */
                if (io_uring_cqe_get_data64(cqe) == (uint64_t)r->inflight) r->inflight = OP_NONE;
                io_uring_cqe_seen(&r->ring, cqe);
            }
        }
        io_uring_queue_exit(&r->ring);
        if (r->inflight != OP_NONE) {
            /* Never saw the completion: the kernel may still write into buf, so it is
             * leaked rather than handed back to the allocator. */
            free(r);
            return;
        }
    }
    free(r->buf);
    free(r);
}
