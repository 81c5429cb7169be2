/* mempulse-shm reset: removes an instance's regions (events, read model) so the next
 * writer start creates them anew, e.g. after an upgrade changed their layout. Refuses
 * while a writer holds a region, unless --force. The session key is kept. */
#include "tools/shm_cli.h"

#include "common/log.h"
#include "shm/tether.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int mp_cmd_reset(const mp_cli_t *cli)
{
    static const char *const kinds[] = {MP_EVENTS_KIND, MP_READMODEL_KIND};
    char paths[2][256];
    for (int i = 0; i < 2; i++) {
        if (mp_region_path(paths[i], sizeof paths[i], cli->instance, kinds[i])) {
            mp_log("invalid instance name '%s'", cli->instance);
            return MP_EXIT_USAGE;
        }
        int alive = mp_region_file_writer_alive(paths[i]);
        if (alive == 1 && !cli->force) {
            mp_log("%s has a live writer; stop it first (or pass --force to remove the file "
                   "anyway: the writer keeps its now-unlinked copy until it exits)", paths[i]);
            return MP_EXIT_RUNTIME;
        }
    }
    int removed = 0;
    for (int i = 0; i < 2; i++) {
        if (unlink(paths[i]) == 0) {
            removed++;
            printf("removed %s\n", paths[i]);
        } else if (errno != ENOENT) {
            mp_log("cannot remove %s: %s", paths[i], strerror(errno));
            return MP_EXIT_RUNTIME;
        }
    }
    if (!removed) printf("instance %s has no regions\n", cli->instance);
    return MP_EXIT_OK;
}
