/* Region header: creation, validation errors (magic, version, sizes, kind, sections),
 * the single-writer lock and read-only mappings. */
#include <criterion/criterion.h>

#include "shm/region.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mp-region-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/mempulse.t.events", dir);
}

static void teardown(void)
{
    char tmp[160];
    unlink(path);
    snprintf(tmp, sizeof tmp, "%s", dir);
    rmdir(tmp);
}

static mp_region_spec_t spec_with(uint64_t data_size)
{
    mp_region_spec_t s = {.kind = "events", .section_count = 2};
    s.sections[0].name = "ctl";
    s.sections[0].size = 256;
    s.sections[1].name = "data";
    s.sections[1].size = data_size;
    s.sections[1].capacity = data_size;
    return s;
}

/* Rewrites one header field in the file, as another build or a corruption would. */
static void poke(size_t off, const void *val, size_t n)
{
    int fd = open(path, O_RDWR);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, val, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static void create_default(void)
{
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    mp_region_spec_t s = spec_with(8192);
    cr_assert_eq(mp_region_open_writer(&r, path, &s, false, err), 0, "%s", err);
    mp_region_close(&r);
}

TestSuite(region, .init = setup, .fini = teardown);

Test(region, creates_header_and_sections_with_mode_0640)
{
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    mp_region_spec_t s = spec_with(8192);
    cr_assert_eq(mp_region_open_writer(&r, path, &s, false, err), 0, "%s", err);
    mp_region_header_t *h = mp_region_header(&r);
    cr_assert_eq(h->magic, MP_REGION_MAGIC);
    cr_assert_eq(h->layout_version, MP_REGION_LAYOUT_VERSION);
    cr_assert_eq(h->header_size, MP_REGION_HEADER_SIZE);
    cr_assert_eq(h->region_size, r.size);
    cr_assert_str_eq(h->kind, "events");
    cr_assert_eq(h->writer_pid, getpid());
    cr_assert_eq(h->writer_starts, 1);
    const mp_section_t *d = mp_region_section(&r, "data");
    cr_assert_not_null(d);
    cr_assert_eq(d->size, 8192);
    cr_assert_eq(d->offset % MP_REGION_ALIGN, 0);
    cr_assert_leq(d->offset + d->size, r.size);
    cr_assert_null(mp_region_section(&r, "nope"));
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640);
    mp_region_close(&r);
}

Test(region, missing_file_is_enoent_with_message)
{
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -ENOENT);
    cr_assert_not_null(strstr(err, "does not exist"));
    cr_assert_not_null(strstr(err, path));
}

Test(region, rejects_wrong_magic)
{
    create_default();
    uint64_t bad = 0x1234;
    poke(offsetof(mp_region_header_t, magic), &bad, sizeof bad);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "not a mempulse region"), "%s", err);
}

Test(region, rejects_wrong_version_naming_both)
{
    create_default();
    uint32_t v = 99;
    poke(offsetof(mp_region_header_t, layout_version), &v, sizeof v);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "layout version 99, this build expects 1"), "%s", err);
}

Test(region, rejects_wrong_header_size)
{
    create_default();
    uint32_t v = 512;
    poke(offsetof(mp_region_header_t, header_size), &v, sizeof v);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "header size 512"), "%s", err);
}

Test(region, rejects_file_size_mismatch)
{
    create_default();
    cr_assert_eq(truncate(path, 8192), 0);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "the file has 8192"), "%s", err);
}

Test(region, rejects_short_file)
{
    int fd = open(path, O_CREAT | O_RDWR, 0640);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "hello", 5), 5);
    close(fd);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "smaller than a region header"), "%s", err);
}

Test(region, rejects_other_kind)
{
    create_default();
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "readmodel", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "expected 'readmodel'"), "%s", err);
}

Test(region, rejects_section_outside_region)
{
    create_default();
    uint64_t huge = 1ull << 40;
    poke(offsetof(mp_region_header_t, sections) + 64 + offsetof(mp_section_t, size), &huge,
         sizeof huge);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "outside the region"), "%s", err);
}

Test(region, writer_refuses_other_layout_unless_reinit)
{
    create_default();
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    mp_region_spec_t bigger = spec_with(16384);
    cr_assert_eq(mp_region_open_writer(&r, path, &bigger, false, err), -EPROTO);
    cr_assert_not_null(strstr(err, "the configuration asks for"), "%s", err);
    /* Nothing was overwritten. */
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), 0, "%s", err);
    cr_assert_eq(mp_region_section(&r, "data")->size, 8192);
    mp_region_close(&r);
    cr_assert_eq(mp_region_open_writer(&r, path, &bigger, true, err), 0, "%s", err);
    cr_assert_eq(mp_region_section(&r, "data")->size, 16384);
    mp_region_close(&r);
}

Test(region, second_writer_gets_ebusy_and_starts_count)
{
    mp_region_t a, b;
    char err[MP_REGION_ERR_MAX];
    mp_region_spec_t s = spec_with(8192);
    cr_assert_eq(mp_region_open_writer(&a, path, &s, false, err), 0, "%s", err);
    cr_assert_eq(mp_region_open_writer(&b, path, &s, false, err), -EBUSY);
    cr_assert_not_null(strstr(err, "already has a live writer"), "%s", err);
    mp_region_close(&a);
    cr_assert_eq(mp_region_open_writer(&b, path, &s, false, err), 0, "%s", err);
    cr_assert_eq(mp_region_header(&b)->writer_starts, 2);
    mp_region_close(&b);
}

Test(region, writer_lock_dies_with_the_writer)
{
    create_default();
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        mp_region_t w;
        char err[MP_REGION_ERR_MAX];
        mp_region_spec_t s = spec_with(8192);
        if (mp_region_open_writer(&w, path, &s, false, err)) _exit(3);
        if (write(ready[1], "x", 1) != 1) _exit(4);
        pause();
        _exit(0);
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), 0, "%s", err);
    cr_assert(mp_region_writer_alive(&r));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_not(mp_region_writer_alive(&r));
    mp_region_close(&r);
}

/* The kernel refuses to store into a PROT_READ mapping: a read(2) into it fails with
 * EFAULT (no fault is taken, so this also holds under sanitizers), and /proc/self/maps
 * lists the mapping without write permission. */
Test(region, reader_mapping_is_read_only)
{
    create_default();
    mp_region_t r;
    char err[MP_REGION_ERR_MAX];
    cr_assert_eq(mp_region_open(&r, path, "events", false, err), 0, "%s", err);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "x", 1), 1);
    errno = 0;
    cr_assert_eq(read(fds[0], r.base + MP_REGION_HEADER_SIZE, 1), -1);
    cr_assert_eq(errno, EFAULT);
    close(fds[0]);
    close(fds[1]);
    FILE *maps = fopen("/proc/self/maps", "r");
    cr_assert_not_null(maps);
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, maps)) {
        if (!strstr(line, path)) continue;
        found = true;
        char perms[8] = "";
        cr_assert_eq(sscanf(line, "%*s %7s", perms), 1);
        cr_assert_eq(perms[1], '-', "mapping is writable: %s", line);
    }
    fclose(maps);
    cr_assert(found, "mapping not listed");
    mp_region_close(&r);
}

Test(region, instance_names_are_checked)
{
    char out[256];
    cr_assert_eq(mp_region_path(out, sizeof out, "ok-1_a.b", "events"), 0);
    cr_assert_not_null(strstr(out, "mempulse.ok-1_a.b.events"));
    cr_assert_eq(mp_region_path(out, sizeof out, "", "events"), -EINVAL);
    cr_assert_eq(mp_region_path(out, sizeof out, "../x", "events"), -EINVAL);
    cr_assert_eq(mp_region_path(out, sizeof out, "a/b", "events"), -EINVAL);
    cr_assert_eq(mp_region_path(out, sizeof out, ".hidden", "events"), -EINVAL);
}
