/* Registry credentials as the docker CLI keeps them: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json, its "auths" map from registry to {"auth": base64("user:password")} or
 * {"identitytoken": ...}. They reach the engine as the X-Registry-Auth header: base64url of
 * {"username", "password", "serveraddress"} (or {"identitytoken", "serveraddress"}). Credential
 * helpers (credsStore, credHelpers) are not read. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/images.h"

/* The registry a config key names: "https://index.docker.io/v1/" is docker.io, and a scheme and
 * a path are left out ("http://127.0.0.1:5000/v2/" is 127.0.0.1:5000). new. */
static char *key_registry(const char *key)
{
    const char *s = strstr(key, "://");
    s = s ? s + 3 : key;
    size_t n = strcspn(s, "/");
    static const char *const hub[] = {"index.docker.io", "index.docker.io:443",
                                      "registry-1.docker.io", "docker.io"};
    for (size_t k = 0; k < CC_ARRAY_LEN(hub); k++)
        if (strlen(hub[k]) == n && !strncmp(s, hub[k], n))
            return xstrdup("docker.io");
    return xstrndup(s, n);
}

static char *config_path(void)
{
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        return xasprintf("%s/config.json", dir);
    const char *home = getenv("HOME");
    return home && *home ? xasprintf("%s/.docker/config.json", home) : NULL;
}

/* The "auths" entry for registry in the config file, new (json_decref), or NULL. */
static json_t *find_entry(const char *registry)
{
    char *path = config_path();
    if (!path)
        return NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr), *found = NULL;
    if (!root) {
        log_debug("%s: no credentials from '%s': %s", __func__, path, jerr.text);
        free(path);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(root, "auths"), key, v)
    {
        char *r = key_registry(key);
        bool match = !strcmp(r, registry);
        free(r);
        if (match && json_is_object(v)) {
            found = json_incref(v);
            break;
        }
    }
    json_decref(root);
    free(path);
    return found;
}

char *sched_registry_auth(const char *image)
{
    char *registry = sched_image_registry(image);
    json_t *entry = find_entry(registry), *hdr = NULL;
    const char *b64 = json_string_value(json_object_get(entry, "auth"));
    const char *token = json_string_value(json_object_get(entry, "identitytoken"));
    char *out = NULL;
    if (token && *token) {
        hdr = json_pack("{s:s, s:s}", "identitytoken", token, "serveraddress", registry);
    } else if (b64 && *b64) {
        size_t n = strlen(b64);
        unsigned char *plain = xmalloc(n + 1);
        int got = EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)n);
        /* EVP_DecodeBlock counts the padding's zero bytes in. */
        for (size_t k = n; got > 0 && k > 0 && b64[k - 1] == '='; k--)
            got--;
        char *colon = got > 0 ? memchr(plain, ':', (size_t)got) : NULL;
        if (colon) {
            plain[got] = '\0';
            *colon = '\0';
            hdr = json_pack("{s:s, s:s, s:s}", "username", (char *)plain, "password", colon + 1,
                            "serveraddress", registry);
        } else {
            log_debug("%s: the credentials of '%s' are not base64 'user:password', ignoring",
                      __func__, registry);
        }
        free(plain);
    }
    if (hdr) {
        char *text = json_dumps(hdr, JSON_COMPACT);
        size_t n = strlen(text);
        out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
        /* The engine reads base64url. */
        for (char *p = out; *p; p++)
            *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        free(text);
        json_decref(hdr);
    }
    json_decref(entry);
    free(registry);
    return out;
}
