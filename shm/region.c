/* Region files: create (temp file + rename), map, validate the header and section
 * table, and hold the single-writer lock (an OFD lock, dropped by the kernel on death). */
#include "shm/region.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REGION_MODE 0640

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int mp_region_path(char *out, size_t cap, const char *instance, const char *kind)
{
    size_t n = strlen(instance);
    if (n == 0 || n > MP_INSTANCE_MAX) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = instance[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok) return -EINVAL;
    }
    if (instance[0] == '.') return -EINVAL;
    const char *dir = getenv("MEMPULSE_SHM_DIR");
    if (!dir || !*dir) dir = MP_REGION_DIR_DEFAULT;
    int len = snprintf(out, cap, "%s/mempulse.%s.%s", dir, instance, kind);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

/* Checks everything a reader relies on before it touches a section. */
static int validate_header(const mp_region_header_t *h, uint64_t file_size, const char *path,
                           const char *kind, char *err)
{
    if (file_size < MP_REGION_HEADER_SIZE) {
        snprintf(err, MP_REGION_ERR_MAX,
                 "%s is %" PRIu64 " bytes, smaller than a region header (%u bytes)", path,
                 file_size, MP_REGION_HEADER_SIZE);
        return -EPROTO;
    }
    if (h->magic != MP_REGION_MAGIC) {
        snprintf(err, MP_REGION_ERR_MAX, "%s is not a mempulse region (magic %016" PRIx64
                 ", expected %016" PRIx64 ")", path, h->magic, (uint64_t)MP_REGION_MAGIC);
        return -EPROTO;
    }
    if (h->layout_version != MP_REGION_LAYOUT_VERSION) {
        snprintf(err, MP_REGION_ERR_MAX,
                 "%s has layout version %u, this build expects %u", path, h->layout_version,
                 MP_REGION_LAYOUT_VERSION);
        return -EPROTO;
    }
    if (h->header_size != MP_REGION_HEADER_SIZE) {
        snprintf(err, MP_REGION_ERR_MAX, "%s has header size %u, this build expects %u", path,
                 h->header_size, MP_REGION_HEADER_SIZE);
        return -EPROTO;
    }
    if (h->region_size != file_size) {
        snprintf(err, MP_REGION_ERR_MAX,
                 "%s says its size is %" PRIu64 " bytes but the file has %" PRIu64, path,
                 h->region_size, file_size);
        return -EPROTO;
    }
    if (kind && strncmp(h->kind, kind, MP_REGION_KIND_MAX) != 0) {
        snprintf(err, MP_REGION_ERR_MAX, "%s is a '%.*s' region, expected '%s'", path,
                 (int)MP_REGION_KIND_MAX, h->kind, kind);
        return -EPROTO;
    }
    if (h->section_count > MP_REGION_MAX_SECTIONS) {
        snprintf(err, MP_REGION_ERR_MAX, "%s lists %u sections, at most %u fit", path,
                 h->section_count, MP_REGION_MAX_SECTIONS);
        return -EPROTO;
    }
    for (uint32_t i = 0; i < h->section_count; i++) {
        const mp_section_t *s = &h->sections[i];
        if (s->offset < MP_REGION_HEADER_SIZE || s->offset > file_size ||
            s->size > file_size - s->offset || s->offset % 64) {
            snprintf(err, MP_REGION_ERR_MAX,
                     "%s: section '%.*s' (offset %" PRIu64 ", %" PRIu64
                     " bytes) lies outside the region", path, (int)MP_REGION_NAME_MAX, s->name,
                     s->offset, s->size);
            return -EPROTO;
        }
    }
    return 0;
}

static int map_fd(mp_region_t *r, int fd, size_t size, bool writable)
{
    void *p = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -errno;
    r->base = p;
    r->size = size;
    r->fd = fd;
    r->writable = writable;
    r->writer_locked = false;
    return 0;
}

int mp_region_open(mp_region_t *r, const char *path, const char *kind, bool writable, char *err)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    snprintf(r->path, sizeof r->path, "%s", path);
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, MP_REGION_ERR_MAX, "%s does not exist (is the writer running?)", path);
        else
            snprintf(err, MP_REGION_ERR_MAX, "cannot open %s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(err, MP_REGION_ERR_MAX, "cannot stat %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    /* Read the header with pread first so a short or foreign file is rejected before
     * it is mapped at a size that could fault. */
    mp_region_header_t h;
    memset(&h, 0, sizeof h);
    if ((uint64_t)st.st_size >= sizeof h && pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        int e = errno ? errno : EIO;
        snprintf(err, MP_REGION_ERR_MAX, "cannot read %s: %s", path, strerror(e));
        close(fd);
        return -e;
    }
    int ret = validate_header(&h, (uint64_t)st.st_size, path, kind, err);
    if (ret) {
        close(fd);
        return ret;
    }
    ret = map_fd(r, fd, (size_t)st.st_size, writable);
    if (ret) {
        snprintf(err, MP_REGION_ERR_MAX, "cannot map %s: %s", path, strerror(-ret));
        close(fd);
        return ret;
    }
    return 0;
}

/* Lays out the sections after the header, each page aligned. */
static uint64_t layout_size(const mp_region_spec_t *spec)
{
    uint64_t off = MP_REGION_HEADER_SIZE;
    for (uint32_t i = 0; i < spec->section_count; i++)
        off = align_up(off + spec->sections[i].size, MP_REGION_ALIGN);
    return off;
}

static int create_region(const char *path, const mp_region_spec_t *spec, char *err)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    uint64_t size = layout_size(spec);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, REGION_MODE);
    if (fd < 0) {
        int e = errno;
        snprintf(err, MP_REGION_ERR_MAX, "cannot create %s: %s", tmp, strerror(e));
        return -e;
    }
    int ret = 0;
    fchmod(fd, REGION_MODE); /* the umask must not widen or narrow the contract's mode */
    if (ftruncate(fd, (off_t)size) < 0) {
        ret = -errno;
        snprintf(err, MP_REGION_ERR_MAX, "cannot size %s to %" PRIu64 " bytes: %s", tmp, size,
                 strerror(-ret));
        goto out_unlink;
    }
    mp_region_header_t *h = mmap(NULL, MP_REGION_HEADER_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_SHARED, fd, 0);
    if (h == MAP_FAILED) {
        ret = -errno;
        snprintf(err, MP_REGION_ERR_MAX, "cannot map %s: %s", tmp, strerror(-ret));
        goto out_unlink;
    }
    h->magic = MP_REGION_MAGIC;
    h->layout_version = MP_REGION_LAYOUT_VERSION;
    h->header_size = MP_REGION_HEADER_SIZE;
    h->region_size = size;
    h->created_unix_ns = mp_wall_ns();
    snprintf(h->kind, sizeof h->kind, "%s", spec->kind);
    h->section_count = spec->section_count;
    uint64_t off = MP_REGION_HEADER_SIZE;
    for (uint32_t i = 0; i < spec->section_count; i++) {
        mp_section_t *s = &h->sections[i];
        snprintf(s->name, sizeof s->name, "%s", spec->sections[i].name);
        s->offset = off;
        s->size = spec->sections[i].size;
        s->item_size = spec->sections[i].item_size;
        s->capacity = spec->sections[i].capacity;
        off = align_up(off + s->size, MP_REGION_ALIGN);
    }
    munmap(h, MP_REGION_HEADER_SIZE);
    /* The region appears under its real name only once complete, so no process ever
     * opens a half-written header. */
    if (rename(tmp, path) < 0) {
        ret = -errno;
        snprintf(err, MP_REGION_ERR_MAX, "cannot rename %s to %s: %s", tmp, path, strerror(-ret));
        goto out_unlink;
    }
    close(fd);
    return 0;
out_unlink:
    unlink(tmp);
    close(fd);
    return ret;
}

/* An existing region is reused only if it has exactly the sections the writer would
 * create; anything else means another build or other capacities. */
static int check_spec(const mp_region_t *r, const mp_region_spec_t *spec, char *err)
{
    const mp_region_header_t *h = mp_region_header(r);
    if (h->section_count != spec->section_count) {
        snprintf(err, MP_REGION_ERR_MAX, "%s has %u sections, this build lays out %u", r->path,
                 h->section_count, spec->section_count);
        return -EPROTO;
    }
    for (uint32_t i = 0; i < spec->section_count; i++) {
        const mp_section_t *s = &h->sections[i];
        if (strncmp(s->name, spec->sections[i].name, MP_REGION_NAME_MAX) != 0 ||
            s->size != spec->sections[i].size || s->item_size != spec->sections[i].item_size ||
            s->capacity != spec->sections[i].capacity) {
            snprintf(err, MP_REGION_ERR_MAX,
                     "%s: section '%.*s' has %" PRIu64 " bytes / capacity %" PRIu64
                     ", the configuration asks for '%s' with %" PRIu64 " bytes / capacity %" PRIu64,
                     r->path, (int)MP_REGION_NAME_MAX, s->name, s->size, s->capacity,
                     spec->sections[i].name, spec->sections[i].size, spec->sections[i].capacity);
            return -EPROTO;
        }
    }
    return 0;
}

static int take_writer_lock(mp_region_t *r, char *err)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(r->fd, F_OFD_SETLK, &fl) < 0) {
        int e = errno;
        if (e == EAGAIN || e == EACCES) {
            snprintf(err, MP_REGION_ERR_MAX, "%s already has a live writer (pid %d)", r->path,
                     (int)atomic_load_explicit(&mp_region_header(r)->writer_pid,
                                               memory_order_relaxed));
            return -EBUSY;
        }
        snprintf(err, MP_REGION_ERR_MAX, "cannot lock %s: %s", r->path, strerror(e));
        return -e;
    }
    r->writer_locked = true;
    return 0;
}

int mp_region_open_writer(mp_region_t *r, const char *path, const mp_region_spec_t *spec,
                          bool reinit, char *err)
{
    int ret = mp_region_open(r, path, spec->kind, true, err);
    if (ret == -ENOENT) {
        ret = create_region(path, spec, err);
        if (ret && ret != -EEXIST) return ret;
        ret = mp_region_open(r, path, spec->kind, true, err);
    }
    if (ret == 0) {
        ret = take_writer_lock(r, err);
        if (ret == 0) ret = check_spec(r, spec, err);
        if (ret == -EPROTO) mp_region_close(r);
    } else if (ret == -EPROTO) {
        /* mp_region_open failed validation: nothing is mapped. */
    } else {
        return ret;
    }
    if (ret == -EPROTO && reinit) {
        /* The old file is unlinked, not rewritten: a reader still mapping it keeps
         * consistent (stale) memory instead of seeing it change layout under it. */
        if (unlink(path) < 0 && errno != ENOENT) {
            snprintf(err, MP_REGION_ERR_MAX, "cannot remove %s: %s", path, strerror(errno));
            return -errno;
        }
        ret = create_region(path, spec, err);
        if (ret) return ret;
        ret = mp_region_open(r, path, spec->kind, true, err);
        if (ret) return ret;
        ret = take_writer_lock(r, err);
    }
    if (ret) {
        if (r->base) mp_region_close(r);
        return ret;
    }
    mp_region_header_t *h = mp_region_header(r);
    atomic_store_explicit(&h->writer_pid, (int32_t)getpid(), memory_order_relaxed);
    atomic_store_explicit(&h->writer_start_unix_ns, mp_wall_ns(), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->writer_starts, 1, memory_order_relaxed);
    mp_region_heartbeat(r);
    return 0;
}

void mp_region_close(mp_region_t *r)
{
    if (r->base) {
        if (r->writer_locked)
            atomic_store_explicit(&mp_region_header(r)->writer_pid, 0, memory_order_relaxed);
        munmap(r->base, r->size);
    }
    if (r->fd >= 0) close(r->fd); /* closing the fd drops the OFD writer lock */
    r->base = NULL;
    r->fd = -1;
    r->writer_locked = false;
}

const mp_section_t *mp_region_section(const mp_region_t *r, const char *name)
{
    const mp_region_header_t *h = mp_region_header(r);
    for (uint32_t i = 0; i < h->section_count; i++)
        if (strncmp(h->sections[i].name, name, MP_REGION_NAME_MAX) == 0) return &h->sections[i];
    return NULL;
}

void *mp_region_section_ptr(const mp_region_t *r, const char *name, uint64_t min_size)
{
    const mp_section_t *s = mp_region_section(r, name);
    if (!s || s->size < min_size) return NULL;
    return r->base + s->offset;
}

/* F_OFD_GETLK only tests: it never takes the lock, so probing cannot make a writer that
 * starts at the same moment fail. */
static int lock_held(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) return -errno;
    return fl.l_type != F_UNLCK;
}

bool mp_region_writer_alive(const mp_region_t *r)
{
    return r->writer_locked || lock_held(r->fd) == 1;
}

int mp_region_file_writer_alive(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int ret = lock_held(fd);
    close(fd);
    return ret;
}

void mp_region_heartbeat(mp_region_t *r)
{
    atomic_store_explicit(&mp_region_header(r)->writer_heartbeat_mono_ns, mp_mono_ns(),
                          memory_order_relaxed);
}
