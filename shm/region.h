/* Shared-memory regions under /dev/shm: the common header with its section table,
 * creation, opening with validation, and the single-writer lock (SPEC 2.1). */
#ifndef MP_REGION_H
#define MP_REGION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_REGION_MAGIC 0x45534c55504d454dull /* "MEMPULSE" read as little-endian bytes */
#define MP_REGION_LAYOUT_VERSION 1u
#define MP_REGION_HEADER_SIZE 4096u
#define MP_REGION_MAX_SECTIONS 32u
#define MP_REGION_NAME_MAX 24u
#define MP_REGION_KIND_MAX 16u
#define MP_REGION_ALIGN 4096u /* every section starts on a page */
#define MP_REGION_DIR_DEFAULT "/dev/shm"
#define MP_INSTANCE_MAX 64u

/* One row of the section table. Offsets are from the region start; no pointers live in
 * shared memory. */
typedef struct mp_section {
    char name[MP_REGION_NAME_MAX];
    uint64_t offset;
    uint64_t size;      /* bytes */
    uint64_t item_size; /* bytes per item, 0 for byte-addressed sections */
    uint64_t capacity;  /* items (or bytes when item_size is 0) */
    uint64_t reserved;
} mp_section_t;
_Static_assert(sizeof(mp_section_t) == 64, "section table rows are 64 bytes");

/* The first MP_REGION_HEADER_SIZE bytes of every region. Immutable after creation except
 * the writer fields, which only the current writer (holder of the flock) stores. */
typedef struct mp_region_header {
    uint64_t magic;
    uint32_t layout_version;
    uint32_t header_size;
    uint64_t region_size;
    uint64_t created_unix_ns;
    char kind[MP_REGION_KIND_MAX]; /* "events" or "readmodel" */
    _Atomic int32_t writer_pid;    /* pid of the last writer to start; 0 when it exited cleanly */
    uint32_t section_count;
    _Atomic uint64_t writer_starts;        /* +1 at every writer start */
    _Atomic uint64_t writer_start_unix_ns; /* when the current writer started (uptime) */
    /* Writer's last sign of life on CLOCK_MONOTONIC; other processes compare it with
     * their own monotonic clock (same boot). */
    _Atomic uint64_t writer_heartbeat_mono_ns;
    /* Progress the other processes follow: the events ring's last published seq, or the
     * readmodel's applied seq, which ingest reads for tethering (release by the writer
     * after the state it describes is committed; acquire by readers). */
    _Atomic uint64_t progress_seq;
    uint8_t reserved0[128 - 88];
    mp_section_t sections[MP_REGION_MAX_SECTIONS];
    uint8_t reserved1[MP_REGION_HEADER_SIZE - 128 - 64 * MP_REGION_MAX_SECTIONS];
} mp_region_header_t;
_Static_assert(sizeof(mp_region_header_t) == MP_REGION_HEADER_SIZE, "header fills one page");
_Static_assert(offsetof(mp_region_header_t, writer_pid) == 48, "header layout");
_Static_assert(offsetof(mp_region_header_t, progress_seq) == 80, "header layout");
_Static_assert(offsetof(mp_region_header_t, sections) == 128, "header layout");

/* What a writer asks for when it creates a region; also what it checks an existing
 * region against before reusing it. */
typedef struct mp_region_spec {
    const char *kind;
    uint32_t section_count;
    struct {
        const char *name;
        uint64_t size;
        uint64_t item_size;
        uint64_t capacity;
    } sections[MP_REGION_MAX_SECTIONS];
} mp_region_spec_t;

/* A mapping of one region in this process. */
typedef struct mp_region {
    uint8_t *base;
    size_t size;
    int fd;
    bool writable;
    bool writer_locked; /* this process holds the exclusive writer flock */
    char path[256];
} mp_region_t;

#define MP_REGION_ERR_MAX 512

/* Writes the path of an instance's region ("<dir>/mempulse.<instance>.<kind>") into out.
 * dir is $MEMPULSE_SHM_DIR when set, else /dev/shm. Returns 0, or -EINVAL when the
 * instance name is empty, longer than MP_INSTANCE_MAX or not [A-Za-z0-9_.-]. */
int mp_region_path(char *out, size_t cap, const char *instance, const char *kind);

/* Maps an existing region and validates magic, layout version, header size, region size
 * against the file size, kind, and that every section lies inside the region.
 * writable maps it PROT_READ|PROT_WRITE, otherwise PROT_READ only.
 * Returns 0; -ENOENT when the file is missing; -EPROTO on a layout mismatch; another
 * negative errno on a system error. err (MP_REGION_ERR_MAX bytes) gets a message naming
 * the file and the difference. */
int mp_region_open(mp_region_t *r, const char *path, const char *kind, bool writable, char *err);

/* Opens the region as its single writer: creates it from spec when missing (atomically:
 * built under a temporary name, then renamed), else maps and validates it and checks
 * its sections match spec. reinit replaces a mismatching region instead of failing.
 * Takes the exclusive writer flock (released by the kernel when the process dies) and
 * records pid, start time and writer_starts+1. Returns 0; -EBUSY when another writer
 * holds the lock; -EPROTO on a mismatch without reinit; else as mp_region_open. */
int mp_region_open_writer(mp_region_t *r, const char *path, const mp_region_spec_t *spec,
                          bool reinit, char *err);

/* Unmaps and closes; a writer clears writer_pid first so tools can tell a clean exit. */
void mp_region_close(mp_region_t *r);

/* The header at the start of a mapped region. */
static inline mp_region_header_t *mp_region_header(const mp_region_t *r)
{
    return (mp_region_header_t *)r->base;
}

/* Finds a section by name; NULL when absent. */
const mp_section_t *mp_region_section(const mp_region_t *r, const char *name);

/* Address of a section's first byte, or NULL when absent or smaller than min_size. */
void *mp_region_section_ptr(const mp_region_t *r, const char *name, uint64_t min_size);

/* True while some process holds the writer lock on this region's file (the writer is
 * alive). Costs two flock calls. */
bool mp_region_writer_alive(const mp_region_t *r);

/* Whether a writer holds the lock of the region file at path, whatever its layout (so it
 * also works on a region of another version). Returns 1 alive, 0 not, or -errno (-ENOENT
 * when the file does not exist). */
int mp_region_file_writer_alive(const char *path);

/* Stores the writer's heartbeat (CLOCK_MONOTONIC now). */
void mp_region_heartbeat(mp_region_t *r);

#endif
