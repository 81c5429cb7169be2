/* mempulse-shm reset: removes an instance's regions (events, read model) so the next
 * writer start creates them anew, e.g. after an upgrade changed their layout. Refuses
 * while a writer holds a region, unless --force. The session key is kept. --json prints
 * {"instance", "removed": [paths], "refused": path or null}. */
#include "tools/shm_cli.h"

#include "common/log.h"
#include "shm/tether.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_result(const mp_cli_t *cli, json_t *removed, const char *refused,
                         const char *error)
{
    if (!cli->json) return;
    json_t *o = json_object();
    json_object_set_new(o, "instance", json_string(cli->instance));
    json_object_set(o, "removed", removed);
    json_object_set_new(o, "refused", refused ? json_string(refused) : json_null());
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    mp_cli_print_json(o, true);
    json_decref(o);
}

int mp_cmd_reset(const mp_cli_t *cli)
{
    static const char *const kinds[] = {MP_EVENTS_KIND, MP_READMODEL_KIND};
    char paths[2][256];
    int code = MP_EXIT_OK;
    json_t *removed = json_array();
    for (int i = 0; i < 2; i++) {
        if (mp_region_path(paths[i], sizeof paths[i], cli->instance, kinds[i])) {
            mp_log("invalid instance name '%s'", cli->instance);
            print_result(cli, removed, NULL, "invalid instance name");
            code = MP_EXIT_USAGE;
            goto out;
        }
        int alive = mp_region_file_writer_alive(paths[i]);
        if (alive == 1 && !cli->force) {
            mp_log("%s has a live writer; stop it first (or pass --force to remove the file "
                   "anyway: the writer keeps its now-unlinked copy until it exits)",
                   paths[i]);
            print_result(cli, removed, paths[i], "live writer");
            code = MP_EXIT_RUNTIME;
            goto out;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (unlink(paths[i]) == 0) {
            json_array_append_new(removed, json_string(paths[i]));
            if (!cli->json) printf("removed %s\n", paths[i]);
        } else if (errno != ENOENT) {
            mp_log("cannot remove %s: %s", paths[i], strerror(errno));
            print_result(cli, removed, NULL, strerror(errno));
            code = MP_EXIT_RUNTIME;
            goto out;
        }
    }
    if (cli->json)
        print_result(cli, removed, NULL, NULL);
    else if (json_array_size(removed) == 0)
        printf("instance %s has no regions\n", cli->instance);
out:
    json_decref(removed);
    return code;
}
