/* The key every gateway process of an instance signs stream-v2 session ids and resume
 * tokens with (SPEC 4.2): 32 random bytes in a file next to the regions
 * (<shm dir>/mempulse.<instance>.session-key), created once, mode 0600, and read by every
 * gateway process, so any of them resumes any session. */
#ifndef MP_GW_SESSION_KEY_H
#define MP_GW_SESSION_KEY_H

#include <stddef.h>
#include <stdint.h>

#define MP_GW_SESSION_KEY_LEN 32
#define MP_GW_SESSION_KEY_ERR_MAX 512

/* Writes the key file path of instance into out ($MEMPULSE_SHM_DIR or /dev/shm).
 * Returns 0 or -EINVAL for a bad instance name. */
int mp_gw_session_key_path(char *out, size_t cap, const char *instance);

/* Loads the key at path into key, creating the file first when it does not exist: the
 * random bytes (OpenSSL RAND_bytes) are written to a private temporary file (O_EXCL,
 * 0600) that is then linked to path, so a concurrent reader or creator never sees a
 * partial key, and when two processes race exactly one key wins and both load it.
 * An existing file must be a regular file owned by this user, not accessible to group or
 * others, and exactly MP_GW_SESSION_KEY_LEN bytes long.
 * Returns 0; -EPERM (wrong owner or permissions), -EPROTO (wrong size or not a regular
 * file), -EIO (no randomness), or the negative errno of a failed system call; err
 * (MP_GW_SESSION_KEY_ERR_MAX bytes) names the file and the fix. */
int mp_gw_session_key_load(const char *path, uint8_t key[MP_GW_SESSION_KEY_LEN], char *err);

#endif
