/* Project names, as docker compose derives and checks them, and the items of the list forms of
 * environment:, labels: and extra_hosts:. */
#include "compose/parse.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char name_rule[] =
    "it must contain only characters from [a-z0-9_-] and start with [a-z0-9]";

int parse_project_name_from_dir(struct arena *a, const char *dir, const char **ret,
                                struct cc_error *reterr)
{
    /* The base name: what follows the last '/', trailing slashes aside. */
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    char *name = arena_alloc(a, end - start + 1);
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        char c = dir[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
            /* Leading '_' and '-' are dropped so the name starts with a letter or digit. */
            if (n == 0 && (c == '_' || c == '-'))
                continue;
            name[n++] = c;
        }
    }
    name[n] = '\0';
    if (n == 0) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                     "cannot make a project name from directory '%.*s': %s", (int)(end - start),
                     dir + start, name_rule);
        cc_error_hint(reterr, "name the project with -p, COMPOSE_PROJECT_NAME or a top-level "
                              "'name:' in the compose file");
        return -1;
    }
    *ret = name;
    return 0;
}

int parse_project_name_check(const char *name, struct cc_error *reterr)
{
    int ok = name[0] != '\0';
    for (size_t i = 0; ok && name[i]; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
    }
    if (ok)
        return 0;
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid project name '%s': %s", name, name_rule);
    struct arena tmp = ARENA_INIT;
    const char *suggestion;
    if (parse_project_name_from_dir(&tmp, name, &suggestion, NULL) == 0)
        cc_error_hint(reterr, "use lowercase letters, digits, '_' and '-', e.g. '%s'", suggestion);
    else
        cc_error_hint(reterr, "use lowercase letters, digits, '_' and '-', e.g. 'myapp'");
    arena_release(&tmp);
    return -1;
}

int parse_kv_item(struct arena *a, const char *item, const char *what, const char **ret_key,
                  const char **ret_value, struct cc_error *reterr)
{
    const char *eq = strchr(item, '=');
    size_t klen = eq ? (size_t)(eq - item) : strlen(item);
    if (klen == 0) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "missing name in %s item '%s'", what, item);
        cc_error_hint(reterr, "write the item as NAME=VALUE, or NAME alone");
        return -1;
    }
    *ret_key = arena_strndup(a, item, klen);
    *ret_value = eq ? arena_strdup(a, eq + 1) : NULL;
    return 0;
}

static bool is_ip_address(const char *s)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

int parse_extra_host(struct arena *a, const char *item, const char **ret_host,
                     const char ***ret_ips, size_t *ret_n, struct cc_error *reterr)
{
    /* '=' first: it cannot appear in an IPv6 address, ':' can. */
    const char *sep = strchr(item, '=');
    if (!sep)
        sep = strchr(item, ':');
    if (!sep) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid extra host '%s': missing IP", item);
        cc_error_hint(reterr, "write HOST=IP or HOST:IP, e.g. 'db.local=10.0.0.5'");
        return -1;
    }
    size_t hlen = (size_t)(sep - item);
    if (hlen == 0 || memchr(item, ':', hlen)) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "invalid extra host '%s': bad host name '%.*s'",
                     item, (int)hlen, item);
        cc_error_hint(reterr, "write HOST=IP or HOST:IP, e.g. 'db.local=10.0.0.5'");
        return -1;
    }
    const char *ips = sep + 1;
    size_t n = 1;
    for (const char *p = ips; *p; p++)
        n += *p == ',';
    const char **list = arena_alloc(a, (n + 1) * sizeof(*list));
    const char *p = ips;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        /* "[::1]" is how people write IPv6 next to a ':'; the engine wants it bare. */
        if (len > 2 && p[0] == '[' && p[len - 1] == ']')
            list[i] = arena_strndup(a, p + 1, len - 2);
        else
            list[i] = arena_strndup(a, p, len);
        /* The engine refuses anything else when the container is created; said here, it
         * points at the file, and `config` never prints an entry that reads back otherwise. */
        if (!is_ip_address(list[i]) && strcmp(list[i], "host-gateway") != 0) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                         "invalid extra host '%s': '%s' is not an IP address", item, list[i]);
            cc_error_hint(reterr, "give an IPv4 or IPv6 address, or host-gateway, e.g. "
                                  "'db.local=10.0.0.5'");
            return -1;
        }
        p += len + 1;
    }
    list[n] = NULL;
    *ret_host = arena_strndup(a, item, hlen);
    *ret_ips = list;
    *ret_n = n;
    return 0;
}
