/* Why a container's configuration differs from the model, field by field, for the plan's recreate
 * reasons: `environment.LEVEL: "one" -> "two"`. The config hash says that something differs; this
 * says what, by comparing the create body the model gives now with the container's inspect (what
 * it was created with), less what its image adds (environment, labels, command). Kept short: the
 * first few fields, values cut, and the values of variables that look like secrets never shown. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"

#define DIFF_MAX_FIELDS 3
#define DIFF_MAX_VALUE  40

struct diff {
    struct buf out;
    int n; /* fields that differ */
};

/* The engine's name of a setting, as the compose file says it; NULL: the engine's own. */
static const char *compose_name(const char *key)
{
    static const char *const names[][2] = {
        {"User", "user"},
        {"WorkingDir", "working_dir"},
        {"Hostname", "hostname"},
        {"Domainname", "domainname"},
        {"Healthcheck", "healthcheck"},
        {"ExposedPorts", "expose"},
        {"StopSignal", "stop_signal"},
        {"StopTimeout", "stop_grace_period"},
        {"Tty", "tty"},
        {"OpenStdin", "stdin_open"},
        {"MacAddress", "mac_address"},
        {"PortBindings", "ports"},
        {"Binds", "volumes"},
        {"Mounts", "volumes"},
        {"RestartPolicy", "restart"},
        {"Memory", "mem_limit"},
        {"MemoryReservation", "mem_reservation"},
        {"MemorySwap", "memswap_limit"},
        {"NanoCpus", "cpus"},
        {"CpuShares", "cpu_shares"},
        {"PidsLimit", "pids_limit"},
        {"CapAdd", "cap_add"},
        {"CapDrop", "cap_drop"},
        {"Privileged", "privileged"},
        {"ReadonlyRootfs", "read_only"},
        {"SecurityOpt", "security_opt"},
        {"ExtraHosts", "extra_hosts"},
        {"Dns", "dns"},
        {"DnsSearch", "dns_search"},
        {"DnsOptions", "dns_opt"},
        {"Sysctls", "sysctls"},
        {"Devices", "devices"},
        {"LogConfig", "logging"},
        {"ShmSize", "shm_size"},
        {"Init", "init"},
        {"Ulimits", "ulimits"},
        {"NetworkMode", "network_mode"},
        {"IpcMode", "ipc"},
        {"PidMode", "pid"},
        {"Tmpfs", "tmpfs"},
        {"GroupAdd", "group_add"},
        {"VolumesFrom", "volumes_from"},
        {"Links", "links"},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(names); i++)
        if (!strcmp(names[i][0], key))
            return names[i][1];
    return NULL;
}

/* A variable whose value is not to be printed. */
static bool secret_like(const char *key)
{
    static const char *const words[] = {"PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH"};
    char up[128];
    size_t n = 0;
    for (; key[n] && n < sizeof(up) - 1; n++)
        up[n] = (char)toupper((unsigned char)key[n]);
    up[n] = '\0';
    for (size_t i = 0; i < CC_ARRAY_LEN(words); i++)
        if (strstr(up, words[i]))
            return true;
    return false;
}

static void put_value(struct buf *b, json_t *v)
{
    if (!v) {
        buf_adds(b, "(unset)");
        return;
    }
    char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *text = s ? s : json_string_value(v);
    size_t len = strlen(text);
    const char *q = s ? "" : "\"";
    if (len > DIFF_MAX_VALUE)
        buf_printf(b, "%s%.*s...%s", q, DIFF_MAX_VALUE - 3, text, q);
    else
        buf_printf(b, "%s%s%s", q, text, q);
    free(s);
}

/* Records that field went from old to new (either may be NULL: unset); secret: say only that. */
static void differs(struct diff *d, const char *field, json_t *old, json_t *new, bool secret)
{
    if (d->n++ >= DIFF_MAX_FIELDS)
        return;
    buf_printf(&d->out, "%s%s: ", d->out.len ? ", " : "", field);
    if (secret) {
        buf_adds(&d->out, old && new ? "changed" : new ? "set" : "unset");
        return;
    }
    put_value(&d->out, old);
    buf_adds(&d->out, " -> ");
    put_value(&d->out, new);
}

static bool is_empty(json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
           (json_is_array(v) && !json_array_size(v)) ||
           (json_is_object(v) && !json_object_size(v)) ||
           (json_is_integer(v) && !json_integer_value(v)) || json_is_false(v);
}

/* Whether have carries want: objects key by key (the engine adds defaults to what it was given),
 * arrays element by element, the rest equal. */
static bool carries(json_t *have, json_t *want)
{
    if (is_empty(want))
        return is_empty(have);
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        if (!json_is_object(have))
            return false;
        json_object_foreach(want, k, v)
        {
            if (!carries(json_object_get(have, k), v))
                return false;
        }
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(have) || json_array_size(have) != json_array_size(want))
            return false;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!carries(json_array_get(have, i), json_array_get(want, i)))
                return false;
        return true;
    }
    return json_equal(have, want);
}

/* "K=V" lists as an object {K: V}. new. */
static json_t *env_map(json_t *list)
{
    json_t *m = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        const char *kv = json_string_value(it);
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq)
            continue;
        char *key = xstrndup(kv, (size_t)(eq - kv));
        json_object_set_new(m, key, json_string(eq + 1));
        free(key);
    }
    return m;
}

/* Maps (environment, labels) key by key; what the image sets, and compose's own labels, are not
 * the service's. */
static void map_entry(struct diff *d, const char *name, const char *k, json_t *old, json_t *new,
                      bool env)
{
    if ((!env && !strncmp(k, "com.docker.compose.", 19)) || (old && new &&json_equal(old, new)))
        return;
    char *field = xasprintf("%s.%s", name, k);
    differs(d, field, old, new, env && secret_like(k));
    free(field);
}

/* Variables engines put in a container's environment themselves: Podman's container=podman and
 * TERM=xterm in every container, and once it started HOME (from the image's passwd) and HOSTNAME
 * (the container's); Docker's TERM=xterm in those with a tty. Not the service's: left out when the
 * service and the image do not set them. config: the container's Config. */
static bool engine_added(const char *k, json_t *v, json_t *config)
{
    static const char *const added[][2] = {{"container", "podman"}, {"TERM", "xterm"}};
    const char *value = json_string_value(v);
    if (!value)
        return false;
    for (size_t i = 0; i < CC_ARRAY_LEN(added); i++)
        if (!strcmp(k, added[i][0]) && !strcmp(value, added[i][1]))
            return true;
    const char *hostname = json_string_value(json_object_get(config, "Hostname"));
    return !strcmp(k, "HOME") || (!strcmp(k, "HOSTNAME") && hostname && !strcmp(value, hostname));
}

/* env: config is the container's Config (whose environment old is); NULL for labels. */
static void diff_map(struct diff *d, const char *name, json_t *old, json_t *new, json_t *image,
                     json_t *env)
{
    const char *k;
    json_t *v;
    json_object_foreach(new, k, v)
    {
        map_entry(d, name, k, json_object_get(old, k), v, env != NULL);
    }
    json_object_foreach(old, k, v)
    {
        json_t *img = json_object_get(image, k);
        if (!json_object_get(new, k) && !(img && json_equal(img, v)) &&
            !(env && engine_added(k, v, env)))
            map_entry(d, name, k, v, NULL, env != NULL);
    }
}

/* Whether the container's ulimits have each the service sets, by name. Others are the engine's:
 * Podman gives every container the default_ulimits of its containers.conf (and its own
 * RLIMIT_NPROC next to a limit the service sets), which the service never named. */
static bool carries_ulimits(json_t *have, json_t *want)
{
    size_t i, j;
    json_t *w, *h;
    json_array_foreach(want, i, w)
    {
        const char *name = json_string_value(json_object_get(w, "Name"));
        bool found = false;
        json_array_foreach(have, j, h)
        {
            const char *hn = json_string_value(json_object_get(h, "Name"));
            if (name && hn && !strcmp(name, hn)) {
                found = carries(h, w);
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

/* Every key of new against old (a Config or HostConfig); keys left out of new are compared only
 * where the engine's default is empty, so that a removed setting shows too. */
static void diff_section(struct diff *d, json_t *old, json_t *new, const char *const *skip,
                         size_t n_skip, const char *prefix, bool removals)
{
    static const char *const empty_by_default[] = {
        "PortBindings", "Binds",      "Mounts",      "CapAdd",  "CapDrop", "Dns",
        "DnsSearch",    "DnsOptions", "ExtraHosts",  "Devices", "Sysctls", "Tmpfs",
        "Links",        "VolumesFrom", "GroupAdd"};
    const char *k;
    json_t *v;
    json_object_foreach(new, k, v)
    {
        bool skipped = false;
        for (size_t i = 0; i < n_skip && !skipped; i++)
            skipped = !strcmp(skip[i], k);
        json_t *o = json_object_get(old, k);
        if (skipped || (!strcmp(k, "Ulimits") ? carries_ulimits(o, v) : carries(o, v)))
            continue;
        const char *name = compose_name(k);
        char *field = name ? xstrdup(name) : xasprintf("%s%s", prefix, k);
        differs(d, field, o, v, false);
        free(field);
    }
    for (size_t i = 0; removals && i < CC_ARRAY_LEN(empty_by_default); i++) {
        k = empty_by_default[i];
        json_t *o = json_object_get(old, k);
        if (json_object_get(new, k) || is_empty(o))
            continue;
        const char *name = compose_name(k);
        differs(d, name ? name : k, o, NULL, false);
    }
}

/* Whether the container is on the network the model's network mode names although its inspect
 * says "bridge": Podman reports every container on a network of its own (CNI) so, where Docker
 * names the network. Returns 1 (NetworkMode is then left out), else 0. */
static size_t same_network(json_t *inspect, const char *mode)
{
    const char *was = json_string_value(
        json_object_get(json_object_get(inspect, "HostConfig"), "NetworkMode"));
    json_t *nets = json_object_get(json_object_get(inspect, "NetworkSettings"), "Networks");
    return mode && was && !strcmp(was, "bridge") && strcmp(mode, "bridge") &&
           json_object_get(nets, mode);
}

char *sched_config_diff(const struct compose_project *p, const struct compose_service *s,
                        int number, json_t *inspect, json_t *image_config)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *body = sched_container_body(p, s, number, NULL, &err);
    cc_error_release(&err);
    json_t *config = json_object_get(inspect, "Config");
    if (!body || !config) {
        json_decref(body);
        return NULL;
    }
    struct diff d = {BUF_INIT, 0};
    json_t *old_env = env_map(json_object_get(config, "Env"));
    json_t *new_env = env_map(json_object_get(body, "Env"));
    json_t *image_env = env_map(json_object_get(image_config, "Env"));
    diff_map(&d, "environment", old_env, new_env, image_env, config);
    static const char *const argvs[][2] = {{"Entrypoint", "entrypoint"}, {"Cmd", "command"}};
    for (size_t i = 0; i < CC_ARRAY_LEN(argvs); i++) {
        /* Not set by the service: the image's. */
        json_t *now = json_object_get(body, argvs[i][0]);
        if (!now)
            now = json_object_get(image_config, argvs[i][0]);
        json_t *was = json_object_get(config, argvs[i][0]);
        if (!(is_empty(now) && is_empty(was)) &&
            !json_equal(now ? now : json_null(), was ? was : json_null()))
            differs(&d, argvs[i][1], was, now, false);
    }
    json_t *no = json_object();
    json_t *new_labels = json_object_get(body, "Labels");
    json_t *old_labels = json_object_get(config, "Labels");
    json_t *image_labels = json_object_get(image_config, "Labels");
    diff_map(&d, "labels", old_labels ? old_labels : no, new_labels ? new_labels : no, image_labels,
             NULL);
    /* Attach*: how a client reads the container's streams, not its configuration (and Podman
     * reports them false whatever the create said). */
    static const char *const config_skip[] = {
        "Env",        "Entrypoint",       "Cmd",         "Labels",       "Image",
        "HostConfig", "NetworkingConfig", "AttachStdin", "AttachStdout", "AttachStderr"};
    diff_section(&d, config, body, config_skip, CC_ARRAY_LEN(config_skip), "", false);
    json_t *host = json_object_get(body, "HostConfig");
    static const char *const host_skip[] = {"NetworkMode"};
    diff_section(&d, json_object_get(inspect, "HostConfig"), host, host_skip,
                 same_network(inspect, json_string_value(json_object_get(host, "NetworkMode"))),
                 "HostConfig.", true);
    if (d.n > DIFF_MAX_FIELDS)
        buf_printf(&d.out, " and %d more", d.n - DIFF_MAX_FIELDS);
    json_decref(no);
    json_decref(old_env);
    json_decref(new_env);
    json_decref(image_env);
    json_decref(body);
    if (!d.n) {
        buf_release(&d.out);
        return NULL;
    }
    return buf_detach(&d.out);
}
