/* The instance's shared session-signing key file: race-free creation and strict loading. */
#include "gateway/session_key.h"

#include "shm/region.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MODE 0600

int mp_gw_session_key_path(char *out, size_t cap, const char *instance)
{
    return mp_region_path(out, cap, instance, "session-key");
}

/* Reads and checks an existing key file. Returns 0, -ENOENT when it does not exist, or
 * another negative errno. */
static int read_key(const char *path, uint8_t key[MP_GW_SESSION_KEY_LEN], char *err)
{
    int ret = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        ret = -errno;
        if (ret != -ENOENT)
            snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot open session key %s: %s", path,
                     strerror(errno));
        return ret;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ret = -errno;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot stat session key %s: %s", path,
                 strerror(errno));
        goto out_close;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != MP_GW_SESSION_KEY_LEN) {
        ret = -EPROTO;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX,
                 "session key %s is not a %d-byte regular file; remove it so the gateway "
                 "creates a new one",
                 path, MP_GW_SESSION_KEY_LEN);
        goto out_close;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        ret = -EPERM;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX,
                 "session key %s must belong to uid %u with mode 0600 (it has uid %u, mode "
                 "%04o); fix it with chown/chmod or remove it",
                 path, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        goto out_close;
    }
    ssize_t n = pread(fd, key, MP_GW_SESSION_KEY_LEN, 0);
    if (n != MP_GW_SESSION_KEY_LEN) {
        ret = n < 0 ? -errno : -EPROTO;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot read session key %s: %s", path,
                 n < 0 ? strerror(errno) : "short read");
        OPENSSL_cleanse(key, MP_GW_SESSION_KEY_LEN);
    }
out_close:
    close(fd);
    return ret;
}

/* Writes a fresh key to a private temporary file and links it to path. Returns 0, or
 * -EEXIST when another process linked its key first (the caller reads that one). */
static int create_key(const char *path, char *err)
{
    char tmp[300];
    uint8_t key[MP_GW_SESSION_KEY_LEN];
    int ret = 0;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "session key path %s is too long", path);
        return -ENAMETOOLONG;
    }
    if (RAND_bytes(key, sizeof key) != 1) {
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "no randomness for the session key (RAND_bytes)");
        return -EIO;
    }
    /* A leftover of a process with our pid that died between open and unlink. */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, KEY_MODE);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot create %s: %s", tmp, strerror(errno));
        goto out_wipe;
    }
    /* The umask may have narrowed the mode, never widened it; fchmod states it. */
    errno = 0;
    if (fchmod(fd, KEY_MODE) != 0 || write(fd, key, sizeof key) != (ssize_t)sizeof key ||
        fsync(fd) != 0) {
        ret = errno ? -errno : -EIO;
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot write %s: %s", tmp, strerror(-ret));
        close(fd);
        goto out_unlink;
    }
    close(fd);
    /* link() fails with EEXIST when path exists: exactly one creator publishes a key,
     * and it is complete when it becomes visible. */
    if (link(tmp, path) != 0) {
        ret = -errno;
        if (ret != -EEXIST)
            snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "cannot create session key %s: %s", path,
                     strerror(errno));
    }
out_unlink:
    unlink(tmp);
out_wipe:
    OPENSSL_cleanse(key, sizeof key);
    return ret;
}

int mp_gw_session_key_load(const char *path, uint8_t key[MP_GW_SESSION_KEY_LEN], char *err)
{
    err[0] = '\0';
    int ret = read_key(path, key, err);
    if (ret != -ENOENT) return ret;
    ret = create_key(path, err);
    if (ret != 0 && ret != -EEXIST) return ret;
    ret = read_key(path, key, err);
    if (ret == -ENOENT)
        snprintf(err, MP_GW_SESSION_KEY_ERR_MAX, "session key %s vanished right after creation",
                 path);
    return ret;
}
