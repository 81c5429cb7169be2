/* Static web UI files via h2o's file handler, and the JSON 404 fallback. */
#include "gateway/static_files.h"

#include "common/log.h"
#include "gateway/http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fallback_handler {
    h2o_handler_t super;
    mp_gw_static_t *st;
} fallback_handler_t;

static bool root_exists(const mp_gw_static_t *st)
{
    struct stat sb;
    return st->configured && stat(st->root, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int on_fallback(h2o_handler_t *self, h2o_req_t *req)
{
    mp_gw_static_t *st = ((fallback_handler_t *)self)->st;
    h2o_iovec_t p = req->path_normalized;
    bool index = p.len == 1 || (p.len == 11 && memcmp(p.base, "/index.html", 11) == 0);
    if (index && !root_exists(st)) {
        if (st->configured)
            mp_gw_send_error(req, 404, "not_found",
                             "the web UI is not installed: static directory %s does not exist "
                             "(build web-ui or start the gateway with --static DIR)",
                             st->root);
        else
            mp_gw_send_error(req, 404, "not_found", "this gateway serves no web UI (no --static)");
        return 0;
    }
    /* Echo at most 128 bytes of the path, printable ASCII only. */
    char shown[129];
    size_t n = 0;
    for (size_t i = 0; i < p.len && n < 128; i++)
        shown[n++] = p.base[i] >= 0x20 && p.base[i] < 0x7f && p.base[i] != '"' ? p.base[i] : '?';
    shown[n] = '\0';
    mp_gw_send_error(req, 404, "not_found", "no route or file at %s", shown);
    return 0;
}

void mp_gw_static_register(mp_gw_static_t *st, h2o_pathconf_t *pathconf, const char *dir)
{
    memset(st, 0, sizeof *st);
    if (dir && *dir) {
        st->configured = true;
        char real[PATH_MAX];
        if (realpath(dir, real))
            snprintf(st->root, sizeof st->root, "%s", real);
        else
            snprintf(st->root, sizeof st->root, "%s", dir);
        if (!root_exists(st))
            mp_log("static directory %s does not exist: GET / answers 404 until it does (build "
                   "the web UI or pass --static DIR)",
                   st->root);
        h2o_file_register(pathconf, st->root, NULL, NULL, 0);
    }
    fallback_handler_t *h = (void *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_fallback;
    h->st = st;
}
