/* Gateway configuration defaults and the bearer token file. */
#include "gateway/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mp_gw_config_default(mp_gw_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->instance = "default";
    cfg->listen = "127.0.0.1:8080";
    cfg->static_dir = "web-ui/dist";
    cfg->header_timeout_ms = 5000;
    cfg->write_timeout_ms = 30000;
    cfg->drain_timeout_ms = 10000;
    cfg->ready_heartbeat_ms = 2000;
    cfg->max_conns = 4096;
    cfg->coalesce_ms = 25;
    cfg->max_body_bytes = 64ull << 20;
    cfg->body_budget_bytes = 512ull << 20;
    cfg->resume_token_ttl_ms = 120000;
}

int mp_gw_config_load_token(mp_gw_config_t *cfg, const char *path, char *err, size_t errlen)
{
    int ret = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot open token file %s: %s", path, strerror(errno));
        return ret;
    }
    char buf[MP_GW_TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
        goto out_close;
    }
    /* One line; the trailing newline (and spaces) an editor adds are not part of it. */
    size_t len = (size_t)n;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                   buf[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= MP_GW_TOKEN_MAX) {
        ret = -EINVAL;
        snprintf(err, errlen, "token file %s must hold one token of 1..%d bytes", path,
                 MP_GW_TOKEN_MAX - 1);
        goto out_close;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c >= 0x7f) {
            ret = -EINVAL;
            snprintf(err, errlen, "token file %s: the token must be printable ASCII without spaces",
                     path);
            goto out_close;
        }
    }
    memcpy(cfg->token, buf, len);
    cfg->token[len] = '\0';
out_close:
    close(fd);
    return ret;
}
