/* GET / and the web UI's assets: h2o's file handler rooted at --static (h2o normalizes
 * the path first: decoded %2e%2e and ".." segments never climb above the root), then a
 * JSON 404 for whatever neither a route nor a file answered, which says when the web UI
 * is not built at all. */
#ifndef MP_GW_STATIC_FILES_H
#define MP_GW_STATIC_FILES_H

#include <stdbool.h>

#include <h2o.h>

typedef struct mp_gw_static {
    char root[4096]; /* resolved directory, or the path as given when it does not exist */
    bool configured; /* a directory was given */
} mp_gw_static_t;

/* Registers on pathconf the file handler for dir (NULL: none) and the JSON 404 fallback,
 * after the router. A missing directory is logged (GET / then answers 404 saying so); the
 * handler still serves it once it exists. st must outlive the server. */
void mp_gw_static_register(mp_gw_static_t *st, h2o_pathconf_t *pathconf, const char *dir);

#endif
