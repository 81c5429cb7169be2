/* The shared session-signing key file: created once with mode 0600 and 32 random bytes,
 * the same key for every loader (concurrent creators included), strict about what an
 * existing file may be. */
#include <criterion/criterion.h>

#include "gateway/session_key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
    snprintf(dir, sizeof dir, "/tmp/mp-session-key.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/mempulse.test.session-key", dir);
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

TestSuite(session_key, .init = setup, .fini = teardown);

static void write_file(const char *p, const void *bytes, size_t n, mode_t mode)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
}

static unsigned entries_in_dir(void)
{
    unsigned n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

Test(session_key, creates_a_private_file_of_32_random_bytes)
{
    uint8_t key[MP_GW_SESSION_KEY_LEN], zero[MP_GW_SESSION_KEY_LEN] = {0};
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    cr_assert_eq(mp_gw_session_key_load(path, key, err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0600);
    cr_assert_eq(st.st_size, MP_GW_SESSION_KEY_LEN);
    cr_assert_neq(memcmp(key, zero, sizeof key), 0);
    uint8_t onfile[MP_GW_SESSION_KEY_LEN];
    int fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, onfile, sizeof onfile), (ssize_t)sizeof onfile);
    close(fd);
    cr_assert_eq(memcmp(key, onfile, sizeof key), 0);
    cr_assert_eq(entries_in_dir(), 1, "the temporary file was left behind");
}

Test(session_key, a_second_load_returns_the_same_key)
{
    uint8_t a[MP_GW_SESSION_KEY_LEN], b[MP_GW_SESSION_KEY_LEN];
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    cr_assert_eq(mp_gw_session_key_load(path, a, err), 0, "%s", err);
    cr_assert_eq(mp_gw_session_key_load(path, b, err), 0, "%s", err);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
}

Test(session_key, separate_instances_get_different_keys)
{
    char other[160];
    snprintf(other, sizeof other, "%s/mempulse.other.session-key", dir);
    uint8_t a[MP_GW_SESSION_KEY_LEN], b[MP_GW_SESSION_KEY_LEN];
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    cr_assert_eq(mp_gw_session_key_load(path, a, err), 0, "%s", err);
    cr_assert_eq(mp_gw_session_key_load(other, b, err), 0, "%s", err);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
}

Test(session_key, concurrent_creators_all_load_the_one_key)
{
    enum { PROCS = 8 };
    int fds[PROCS][2];
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        cr_assert_eq(pipe(fds[i]), 0);
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            uint8_t key[MP_GW_SESSION_KEY_LEN];
            char err[MP_GW_SESSION_KEY_ERR_MAX];
            int ret = mp_gw_session_key_load(path, key, err);
            if (ret == 0 && write(fds[i][1], key, sizeof key) != (ssize_t)sizeof key) ret = -EIO;
            _exit(ret == 0 ? 0 : 1);
        }
        close(fds[i][1]);
    }
    uint8_t keys[PROCS][MP_GW_SESSION_KEY_LEN];
    for (int i = 0; i < PROCS; i++) {
        int status;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "loader %d failed", i);
        cr_assert_eq(read(fds[i][0], keys[i], sizeof keys[i]), (ssize_t)sizeof keys[i]);
        close(fds[i][0]);
        cr_assert_eq(memcmp(keys[i], keys[0], sizeof keys[0]), 0, "loader %d got another key", i);
    }
    cr_assert_eq(entries_in_dir(), 1, "temporary files were left behind");
}

Test(session_key, refuses_a_key_readable_by_others)
{
    uint8_t bytes[MP_GW_SESSION_KEY_LEN] = {1}, key[MP_GW_SESSION_KEY_LEN];
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    write_file(path, bytes, sizeof bytes, 0644);
    cr_assert_eq(mp_gw_session_key_load(path, key, err), -EPERM);
    cr_assert_not_null(strstr(err, path), "%s", err);
}

Test(session_key, refuses_a_key_of_the_wrong_size)
{
    uint8_t bytes[16] = {1}, key[MP_GW_SESSION_KEY_LEN];
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    write_file(path, bytes, sizeof bytes, 0600);
    cr_assert_eq(mp_gw_session_key_load(path, key, err), -EPROTO);
    cr_assert_not_null(strstr(err, "remove it"), "%s", err);
}

Test(session_key, refuses_a_symlink)
{
    char target[160];
    snprintf(target, sizeof target, "%s/target", dir);
    uint8_t bytes[MP_GW_SESSION_KEY_LEN] = {1}, key[MP_GW_SESSION_KEY_LEN];
    char err[MP_GW_SESSION_KEY_ERR_MAX];
    write_file(target, bytes, sizeof bytes, 0600);
    cr_assert_eq(symlink(target, path), 0);
    cr_assert_eq(mp_gw_session_key_load(path, key, err), -ELOOP);
}

Test(session_key, path_sits_next_to_the_regions)
{
    char p[256];
    cr_assert_eq(setenv("MEMPULSE_SHM_DIR", dir, 1), 0);
    cr_assert_eq(mp_gw_session_key_path(p, sizeof p, "blue"), 0);
    unsetenv("MEMPULSE_SHM_DIR");
    char want[160];
    snprintf(want, sizeof want, "%s/mempulse.blue.session-key", dir);
    cr_assert_str_eq(p, want);
    cr_assert_eq(mp_gw_session_key_path(p, sizeof p, "bad/name"), -EINVAL);
}
