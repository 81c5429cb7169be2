/* Line reader: splitting, bounds, offsets and timeouts, each behaviour run on both the
 * io_uring path and the read(2)/poll(2) fallback. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "ingest/line_reader.h"

static char tmpdir[] = "/tmp/mp_line_reader_XXXXXX";
static bool want_uring;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(line_reader, .init = setup, .fini = teardown, .timeout = 30);

static bool uring_available(void)
{
    struct io_uring ring;
    if (io_uring_queue_init(2, &ring, 0) < 0) return false;
    io_uring_queue_exit(&ring);
    return true;
}

/* Selects the path before the reader is opened; each Criterion test runs in its own
 * process, so the environment change stays local to it. */
static void use_path(bool uring)
{
    want_uring = uring;
    if (uring)
        unsetenv(MP_LINE_READER_NO_URING_ENV);
    else
        setenv(MP_LINE_READER_NO_URING_ENV, "1", 1);
}

/* Every behaviour below is one body registered twice. */
#define TEST_BOTH_PATHS(name)                                                                      \
    static void name##_body(void);                                                                 \
    Test(line_reader, name##_uring)                                                                \
    {                                                                                              \
        use_path(true);                                                                            \
        name##_body();                                                                             \
    }                                                                                              \
    Test(line_reader, name##_plain)                                                                \
    {                                                                                              \
        use_path(false);                                                                           \
        name##_body();                                                                             \
    }                                                                                              \
    static void name##_body(void)

static mp_line_reader_t *open_reader(int fd, uint64_t off, uint64_t line, size_t max_line)
{
    mp_line_reader_t *r = NULL;
    cr_assert_eq(mp_line_reader_open(&r, fd, off, line, max_line), 0);
    if (want_uring && uring_available())
        cr_assert(mp_line_reader_uses_uring(r), "expected the io_uring path");
    if (!want_uring) cr_assert_not(mp_line_reader_uses_uring(r), "expected the fallback path");
    return r;
}

static int file_with(const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    return fd;
}

static void expect_line(mp_line_reader_t *r, const char *text, uint64_t line_no,
                        uint64_t offset_after)
{
    mp_line_t l;
    int rc = mp_line_reader_next(r, &l, 2 * 1000000000ull);
    cr_assert_eq(rc, MP_LINE_READY, "line %llu: got %d", (unsigned long long)line_no, rc);
    cr_assert_eq(l.len, strlen(text), "line %llu: len %zu", (unsigned long long)line_no, l.len);
    cr_assert_eq(memcmp(l.data, text, l.len), 0);
    cr_assert_eq(l.line_no, line_no);
    cr_assert_eq(l.offset_after, offset_after);
}

static void expect_eof(mp_line_reader_t *r)
{
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 2 * 1000000000ull), MP_LINE_EOF);
    cr_assert_eq(mp_line_reader_next(r, &l, 0), MP_LINE_EOF, "EOF is repeated");
}

/* A writer thread feeding a pipe in pieces with pauses, so the reader sees partial
 * lines across reads. */
typedef struct writer {
    int fd;
    const char *const *pieces;
    int delay_ms;
    bool close_after;
} writer_t;

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    for (const char *const *p = w->pieces; *p; p++) {
        if (write(w->fd, *p, strlen(*p)) != (ssize_t)strlen(*p)) break;
        mp_sleep_ns((uint64_t)w->delay_ms * 1000000u);
    }
    if (w->close_after) close(w->fd);
    return NULL;
}

TEST_BOTH_PATHS(reads_lines_with_numbers_and_offsets)
{
    int fd = file_with("a.txt", "a\nbb\nccc\n", 9);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "a", 1, 2);
    expect_line(r, "bb", 2, 5);
    expect_line(r, "ccc", 3, 9);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(joins_line_split_across_reads)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    static const char *const pieces[] = {"hel", "lo\nwor", "ld", "\n", NULL};
    writer_t w = {.fd = p[1], .pieces = pieces, .delay_ms = 30, .close_after = true};
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    expect_line(r, "hello", 1, 6);
    expect_line(r, "world", 2, 12);
    expect_eof(r);
    pthread_join(t, NULL);
    mp_line_reader_close(r);
    close(p[0]);
}

TEST_BOTH_PATHS(strips_crlf)
{
    int fd = file_with("crlf.txt", "a\r\nbc\r\n", 7);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "a", 1, 3);
    expect_line(r, "bc", 2, 7);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(keeps_cr_inside_a_line)
{
    int fd = file_with("cr.txt", "a\rb\n", 4);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "a\rb", 1, 4);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(delivers_last_line_without_newline)
{
    int fd = file_with("last.txt", "x\nyz", 4);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "x", 1, 2);
    expect_line(r, "yz", 2, 4);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(delivers_empty_lines)
{
    int fd = file_with("empty.txt", "\n\r\na\n", 5);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "", 1, 1);
    expect_line(r, "", 2, 3);
    expect_line(r, "a", 3, 5);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(empty_input_is_eof)
{
    int fd = file_with("none.txt", "", 0);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(skips_overlong_line_and_continues)
{
    char data[128];
    int n = snprintf(data, sizeof data, "short\n%s\nafter\n",
                     "0123456789012345678901234567890123456789");
    int fd = file_with("long.txt", data, (size_t)n);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 16);
    expect_line(r, "short", 1, 6);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 1000000000u), MP_LINE_OVERLONG);
    cr_assert_eq(l.line_no, 2);
    cr_assert_eq(l.offset_after, 6 + 41);
    cr_assert_null(l.data);
    expect_line(r, "after", 3, 6 + 41 + 6);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(skips_overlong_line_larger_than_the_buffer)
{
    /* 3 MiB without a newline against a 64-byte bound: the reader's buffer (bound plus
     * one read chunk) is far smaller, so the line must be dropped while streaming. */
    size_t big = 3u << 20;
    char *data = malloc(big + 16);
    memset(data, 'x', big);
    memcpy(data + big, "\nok\n", 4);
    int fd = file_with("huge.txt", data, big + 4);
    free(data);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 1000000000u), MP_LINE_OVERLONG);
    cr_assert_eq(l.line_no, 1);
    cr_assert_eq(l.offset_after, big + 1);
    expect_line(r, "ok", 2, big + 4);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(reports_overlong_last_line_without_newline)
{
    int fd = file_with("tail.txt", "a\n01234567890123456789", 22);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 16);
    expect_line(r, "a", 1, 2);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 1000000000u), MP_LINE_OVERLONG);
    cr_assert_eq(l.line_no, 2);
    cr_assert_eq(l.offset_after, 22);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(accepts_line_of_exactly_max_line_bytes)
{
    /* 16 bytes plus CRLF is within a 16-byte bound; 17 bytes is not. */
    const char *data = "0123456789abcdef\r\n0123456789abcdefg\nz\n";
    int fd = file_with("edge.txt", data, strlen(data));
    mp_line_reader_t *r = open_reader(fd, 0, 0, 16);
    expect_line(r, "0123456789abcdef", 1, 18);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 1000000000u), MP_LINE_OVERLONG);
    cr_assert_eq(l.line_no, 2);
    expect_line(r, "z", 3, strlen(data));
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(resumes_at_start_offset)
{
    int fd = file_with("resume.txt", "a\nbb\nccc\n", 9);
    mp_line_reader_t *r = open_reader(fd, 2, 1, 64);
    expect_line(r, "bb", 2, 5);
    expect_line(r, "ccc", 3, 9);
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
}

TEST_BOTH_PATHS(reads_many_lines_across_chunk_boundaries)
{
    /* About 4 MiB of lines of varying length: many reads, many lines cut by a read. */
    size_t cap = 5u << 20, len = 0;
    char *data = malloc(cap);
    int lines = 0;
    while (len < (4u << 20)) {
        len += (size_t)sprintf(data + len, "line-%d-%.*s\n", lines, lines % 97,
                               "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"
                               "nopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
        lines++;
    }
    int fd = file_with("many.txt", data, len);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 256);
    uint64_t off = 0;
    for (int i = 0; i < lines; i++) {
        char want[256];
        int n = sprintf(want, "line-%d-%.*s", i, i % 97,
                        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"
                        "nopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
        mp_line_t l;
        cr_assert_eq(mp_line_reader_next(r, &l, 1000000000u), MP_LINE_READY, "line %d", i);
        off += (uint64_t)n + 1;
        cr_assert(l.len == (size_t)n && memcmp(l.data, want, l.len) == 0, "line %d differs", i);
        cr_assert_eq(l.offset_after, off);
        cr_assert_eq(l.line_no, (uint64_t)i + 1);
    }
    expect_eof(r);
    mp_line_reader_close(r);
    close(fd);
    free(data);
}

TEST_BOTH_PATHS(returns_eof_when_pipe_writer_closes)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], "x\ntail", 6), 6);
    close(p[1]);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    expect_line(r, "x", 1, 2);
    expect_line(r, "tail", 2, 6);
    expect_eof(r);
    mp_line_reader_close(r);
    close(p[0]);
}

TEST_BOTH_PATHS(times_out_on_idle_pipe)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    mp_line_t l;
    uint64_t t0 = mp_mono_ns();
    cr_assert_eq(mp_line_reader_next(r, &l, 100000000u), MP_LINE_AGAIN);
    uint64_t waited = mp_mono_ns() - t0;
    cr_assert_geq(waited, 80000000u, "returned after %llu ns", (unsigned long long)waited);
    cr_assert_lt(waited, 1000000000u, "blocked %llu ns", (unsigned long long)waited);
    /* Data arriving after a timeout is still delivered (the read stayed queued). */
    cr_assert_eq(write(p[1], "late\n", 5), 5);
    expect_line(r, "late", 1, 5);
    mp_line_reader_close(r);
    close(p[0]);
    close(p[1]);
}

TEST_BOTH_PATHS(partial_line_then_timeout_keeps_bytes)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    cr_assert_eq(write(p[1], "par", 3), 3);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 50000000u), MP_LINE_AGAIN);
    cr_assert_eq(write(p[1], "tial\n", 5), 5);
    expect_line(r, "partial", 1, 8);
    mp_line_reader_close(r);
    close(p[0]);
    close(p[1]);
}

TEST_BOTH_PATHS(waits_on_nonblocking_pipe_without_spinning)
{
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    mp_line_t l;
    uint64_t t0 = mp_mono_ns(), cpu0 = mp_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    cr_assert_eq(mp_line_reader_next(r, &l, 100000000u), MP_LINE_AGAIN);
    cr_assert_geq(mp_mono_ns() - t0, 80000000u);
    /* A reader retrying EAGAIN in a loop would burn the whole 100 ms of CPU. */
    uint64_t cpu = mp_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    cr_assert_lt(cpu, 30000000u, "used %llu ns of CPU while waiting", (unsigned long long)cpu);
    cr_assert_eq(write(p[1], "nb\n", 3), 3);
    expect_line(r, "nb", 1, 3);
    mp_line_reader_close(r);
    close(p[0]);
    close(p[1]);
}

TEST_BOTH_PATHS(close_with_read_in_flight_returns)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    mp_line_reader_t *r = open_reader(p[0], 0, 0, 64);
    mp_line_t l;
    cr_assert_eq(mp_line_reader_next(r, &l, 10000000u), MP_LINE_AGAIN);
    uint64_t t0 = mp_mono_ns();
    mp_line_reader_close(r);
    cr_assert_lt(mp_mono_ns() - t0, 1000000000u, "close hung on the queued read");
    /* The pipe is still usable: the cancelled read consumed nothing. */
    cr_assert_eq(write(p[1], "z", 1), 1);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    cr_assert_eq(c, 'z');
    close(p[0]);
    close(p[1]);
}

TEST_BOTH_PATHS(rejects_start_offset_on_pipe)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    mp_line_reader_t *r = NULL;
    cr_assert_eq(mp_line_reader_open(&r, p[0], 10, 0, 64), -EINVAL);
    cr_assert_null(r);
    close(p[0]);
    close(p[1]);
}

TEST_BOTH_PATHS(rejects_bound_out_of_range)
{
    int fd = file_with("b.txt", "a\n", 2);
    mp_line_reader_t *r = NULL;
    cr_assert_eq(mp_line_reader_open(&r, fd, 0, 0, 1), -EINVAL);
    cr_assert_eq(mp_line_reader_open(&r, fd, 0, 0, (size_t)MP_LINE_MAX_LIMIT + 1), -EINVAL);
    cr_assert_null(r);
    close(fd);
}

TEST_BOTH_PATHS(leaves_file_position_alone)
{
    int fd = file_with("pos.txt", "a\nb\n", 4);
    off_t before = lseek(fd, 1, SEEK_SET);
    mp_line_reader_t *r = open_reader(fd, 0, 0, 64);
    expect_line(r, "a", 1, 2);
    cr_assert_eq(lseek(fd, 0, SEEK_CUR), before);
    mp_line_reader_close(r);
    close(fd);
}

Test(line_reader, bad_fd_is_an_error)
{
    mp_line_reader_t *r = NULL;
    cr_assert_eq(mp_line_reader_open(&r, -1, 0, 0, 64), -EBADF);
    cr_assert_null(r);
}
