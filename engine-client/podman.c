/* Podman's Docker-compatible API, made to answer as Docker does, so that nothing above
 * engine-client/ knows which engine it talks to. client.c calls these only when the ping said
 * the engine is Podman (the Libpod-Api-Version header). What differs, as seen with Podman 4.3
 * (docs/podman.md lists it with what ccompose does about each):
 *
 *   errors     HTTP 500 with a "cause" where Docker answers 409 (a name in use, removing a
 *              running container, killing a stopped one, a network or volume in use)
 *   create     a container created without StopTimeout gets 0, so a stop without ?t= kills at
 *              once: Docker's default of 10 s is sent when the body has none; a ["CMD", ...]
 *              health check is split again at spaces: sent as CMD-SHELL when that would happen
 *   names      images come back fully qualified ("localhost/x:1", "docker.io/library/debian")
 *   ulimits    named "RLIMIT_NOFILE" where Docker says "nofile"
 *   state      State.Health present with an empty status on containers without a check;
 *              State.Status (and a list's State) "stopped" where Docker says "exited"
 *   events     "remove" for "destroy", "exec_died" for "exec_die"; "health_status" with the
 *              status in a field of its own, sent on every probe (Docker: "health_status:
 *              healthy", on change only); "init" and "cleanup", which Docker has not
 *   build      Buildah's "STEP 2/5: RUN x" and "--> ID" lines for Docker's "Step 2/5 : RUN x" and
 *              " ---> ID"
 *   pull       progress without Docker's "Pull complete" per layer and its image-wide "Status:"
 *              line; an image the registry lacks is an error item after a 200, not a 404
 *   until      an event stream with until= is stopped at that wall-clock time whether or not
 *              Podman has read its events file that far (under load: nothing at all, and
 *              nothing when until is past): asked for without until and with stream=false
 *              (read to the end, then ended), and the events after until dropped here */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "engine-client/engine-internal.h"

/* Docker's own default grace period. */
#define DOCKER_STOP_TIMEOUT_S 10

/* Podman's causes that Docker reports as 409 Conflict. */
static const char *const conflict_causes[] = {
    "that name is already in use",    "container state improper", "network already exists",
    "network is being used",          "volume is being used",     "image is being used",
    "image is in use by a container", "container already exists", "pod already exists",
};

long engine_podman_error_status(long status, json_t *body)
{
    const char *cause = json_string_value(json_object_get(body, "cause"));
    if (status != 500 || !cause)
        return status;
    for (size_t i = 0; i < CC_ARRAY_LEN(conflict_causes); i++)
        if (!strcmp(cause, conflict_causes[i]))
            return 409;
    return status;
}

const char *engine_image_name_short(const char *name)
{
    static const char *const prefixes[] = {"localhost/", "docker.io/library/", "docker.io/"};
    if (!name)
        return NULL;
    for (size_t i = 0; i < CC_ARRAY_LEN(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(name, prefixes[i], n) && name[n])
            return name + n;
    }
    return name;
}

/* Replaces obj[key], a string, with its short form. */
static void shorten_member(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    const char *s = engine_image_name_short(v);
    if (v && s != v)
        json_object_set_new(obj, key, json_string(s));
}

static void shorten_array(json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = engine_image_name_short(json_string_value(v));
        if (s && s != json_string_value(v))
            json_array_set_new(arr, i, json_string(s));
    }
}

static void fix_status_word(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v && !strcmp(v, "stopped"))
        json_object_set_new(obj, key, json_string("exited"));
}

/* Podman names ulimits as the kernel does ("RLIMIT_NOFILE"), Docker as they were given
 * ("nofile"). */
static void fix_ulimits(json_t *ulimits)
{
    size_t i;
    json_t *u;
    json_array_foreach(ulimits, i, u)
    {
        const char *name = json_string_value(json_object_get(u, "Name"));
        if (!name || strncmp(name, "RLIMIT_", 7) || !name[7])
            continue;
        char *lower = xstrdup(name + 7);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_object_set_new(u, "Name", json_string(lower));
        free(lower);
    }
}

static void fix_container_inspect(json_t *ct)
{
    fix_ulimits(json_object_get(json_object_get(ct, "HostConfig"), "Ulimits"));
    json_t *st = json_object_get(ct, "State");
    json_t *health = json_object_get(st, "Health");
    const char *hs = json_string_value(json_object_get(health, "Status"));
    if (health && (!hs || !*hs))
        json_object_del(st, "Health");
    fix_status_word(st, "Status");
    shorten_member(json_object_get(ct, "Config"), "Image");
}

static void fix_container_summary(json_t *ct)
{
    fix_status_word(ct, "State");
    shorten_member(ct, "Image");
}

static void fix_image(json_t *img)
{
    shorten_array(json_object_get(img, "RepoTags"));
}

/* Whether path (without the version prefix) is PREFIX<one segment>SUFFIX, query allowed. */
static bool path_is(const char *path, const char *prefix, const char *suffix)
{
    size_t pn = strlen(prefix);
    if (strncmp(path, prefix, pn))
        return false;
    const char *rest = path + pn;
    size_t seg = strcspn(rest, "?");
    size_t sn = strlen(suffix);
    return seg > sn && !strncmp(rest + seg - sn, suffix, sn) && memchr(rest, '/', seg - sn) == NULL;
}

void engine_podman_fix_result(const char *method, const char *path, json_t *result)
{
    size_t i;
    json_t *v;
    if (result && !strcmp(method, "DELETE") && !strncmp(path, "/images/", 8)) {
        json_array_foreach(result, i, v) shorten_member(v, "Untagged");
        return;
    }
    if (!result || strcmp(method, "GET"))
        return;
    if (!strncmp(path, "/containers/json", 16) && (path[16] == '?' || !path[16])) {
        json_array_foreach(result, i, v) fix_container_summary(v);
    } else if (path_is(path, "/containers/", "/json")) {
        fix_container_inspect(result);
    } else if (!strncmp(path, "/images/json", 12) && (path[12] == '?' || !path[12])) {
        json_array_foreach(result, i, v) fix_image(v);
    } else if (!strncmp(path, "/images/", 8) && strstr(path, "/json") && json_is_object(result)) {
        /* Image names hold '/', so "/images/a/b:1/json" is one image's inspect. */
        fix_image(result);
    }
}

/* Podman 4.3 joins a ["CMD", args...] check and splits it again at spaces, so `sh -c "a b"`
 * becomes `sh -c a b`. The same command as ["CMD-SHELL", "exec 'sh' '-c' 'a b'"] survives (that
 * form is kept as it is); only checks with an argument that would be split are rewritten, since
 * CMD-SHELL needs a shell in the image. Returns true when it rewrote hc. */
static bool fix_healthcheck(json_t *hc)
{
    json_t *test = json_object_get(hc, "Test");
    const char *form = json_string_value(json_array_get(test, 0));
    if (!form || strcmp(form, "CMD"))
        return false;
    bool split = false;
    for (size_t i = 1; i < json_array_size(test); i++) {
        const char *a = json_string_value(json_array_get(test, i));
        split |= !a || !*a || strpbrk(a, " \t\n") != NULL;
    }
    if (!split)
        return false;
    struct buf sh = BUF_INIT;
    buf_adds(&sh, "exec");
    for (size_t i = 1; i < json_array_size(test); i++) {
        const char *a = json_string_value(json_array_get(test, i));
        buf_adds(&sh, " '");
        for (const char *p = a ? a : ""; *p; p++) {
            if (*p == '\'')
                buf_adds(&sh, "'\\''");
            else
                buf_addc(&sh, *p);
        }
        buf_addc(&sh, '\'');
    }
    json_object_set_new(hc, "Test", json_pack("[s, s]", "CMD-SHELL", buf_str(&sh)));
    buf_release(&sh);
    return true;
}

char *engine_podman_fix_create(const char *path, const char *body)
{
    if (!body || strncmp(path, "/containers/create", 18))
        return NULL;
    json_t *b = json_loads(body, 0, NULL);
    char *out = NULL;
    if (!json_is_object(b))
        goto out;
    bool changed = fix_healthcheck(json_object_get(b, "Healthcheck"));
    if (!json_object_get(b, "StopTimeout")) {
        json_object_set_new(b, "StopTimeout", json_integer(DOCKER_STOP_TIMEOUT_S));
        changed = true;
    }
    if (changed)
        out = json_dumps(b, JSON_COMPACT);
out:
    json_decref(b);
    return out;
}

/* Buildah's 'building at STEP "RUN x": while running runtime: exit status N' is Docker's "The
 * command '/bin/sh -c x' returned a non-zero code: N". Returns new text, or NULL. */
static char *docker_build_error(const char *msg)
{
    const char *run = msg ? strstr(msg, "building at STEP \"RUN ") : NULL;
    const char *end = run ? strstr(run, "\": while running runtime: exit status ") : NULL;
    if (!end)
        return NULL;
    run += strlen("building at STEP \"RUN ");
    int code = atoi(end + strlen("\": while running runtime: exit status "));
    return xasprintf("The command '/bin/sh -c %.*s' returned a non-zero code: %d", (int)(end - run),
                     run, code);
}

void engine_podman_fix_build_item(json_t *item)
{
    char *e = docker_build_error(json_string_value(json_object_get(item, "error")));
    if (e) {
        json_object_set_new(item, "error", json_string(e));
        json_t *detail = json_object_get(item, "errorDetail");
        if (json_is_object(detail))
            json_object_set_new(detail, "message", json_string(e));
        free(e);
    }
    const char *s = json_string_value(json_object_get(item, "stream"));
    if (!s || (!strstr(s, "STEP ") && !strstr(s, "--> ")))
        return;
    /* Buildah's "STEP 2/5: RUN make" and "--> Using cache", line by line. */
    struct buf out = BUF_INIT;
    while (*s) {
        size_t len = strcspn(s, "\n");
        int step, steps, off = 0;
        if (sscanf(s, "STEP %d/%d: %n", &step, &steps, &off) == 2 && off > 0 &&
            (size_t)off <= len) {
            buf_printf(&out, "Step %d/%d : ", step, steps);
            buf_add(&out, s + off, len - (size_t)off);
        } else if (!strncmp(s, "--> ", 4) && len >= 4) {
            buf_adds(&out, " ---> ");
            buf_add(&out, s + 4, len - 4);
        } else {
            buf_add(&out, s, len);
        }
        s += len;
        if (*s == '\n') {
            buf_addc(&out, '\n');
            s++;
        }
    }
    json_object_set_new(item, "stream", json_string(buf_str(&out)));
    buf_release(&out);
}

static void set_action(json_t *ev, const char *action)
{
    json_object_set_new(ev, "Action", json_string(action));
    if (json_object_get(ev, "status"))
        json_object_set_new(ev, "status", json_string(action));
}

bool engine_podman_fix_event(json_t *health_seen, json_t *ev)
{
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!action)
        return true;
    if (!strcmp(action, "init") || !strcmp(action, "cleanup"))
        return false;
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    shorten_member(ev, "from");
    shorten_member(attrs, "image");
    /* Podman's own attributes; a die event has Docker's exitCode as well. */
    json_object_del(attrs, "containerExitCode");
    json_object_del(attrs, "podId");
    if (!strcmp(action, "remove")) {
        set_action(ev, "destroy");
        if (id)
            json_object_del(health_seen, id);
    } else if (!strcmp(action, "exec_died")) {
        set_action(ev, "exec_die");
    } else if (!strcmp(action, "start") && id) {
        /* A new run starts its checks afresh, as with Docker. */
        json_object_del(health_seen, id);
    } else if (!strcmp(action, "health_status")) {
        const char *hs = json_string_value(json_object_get(ev, "HealthStatus"));
        /* Docker reports a change to healthy or unhealthy; "starting" is where every run
         * begins, and Podman repeats the status on every probe. */
        if (!hs || !*hs || !strcmp(hs, "starting") || !id)
            return false;
        const char *last = json_string_value(json_object_get(health_seen, id));
        if (last && !strcmp(last, hs))
            return false;
        json_object_set_new(health_seen, id, json_string(hs));
        char *a = xasprintf("health_status: %s", hs);
        set_action(ev, a);
        free(a);
        json_object_del(ev, "HealthStatus");
    }
    return true;
}

char *engine_podman_fix_events_path(const char *path, long long *until_ns)
{
    *until_ns = 0;
    if (strncmp(path, "/events?", 8))
        return NULL;
    const char *u = path + 7; /* the '?' or '&' before until= */
    while (u && strncmp(u + 1, "until=", 6))
        u = strchr(u + 1, '&');
    if (!u)
        return NULL;
    const char *v = u + 7;
    size_t vlen = strcspn(v, "&");
    /* Only a Unix time ("1700000000" or "1700000000.5"); other forms go to Podman as they are. */
    char *val = xstrndup(v, vlen), *end;
    double t = strtod(val, &end);
    bool unix_time = end != val && !*end && t > 0;
    free(val);
    if (!unix_time)
        return NULL;
    *until_ns = (long long)(t * 1e9);
    const char *rest = v + vlen; /* "" or "&more" */
    struct buf out = BUF_INIT;
    buf_add(&out, path, (size_t)(u - path));
    if (*u == '?' && *rest)
        buf_printf(&out, "?%s&stream=false", rest + 1);
    else if (*u == '?')
        buf_adds(&out, "?stream=false");
    else
        buf_printf(&out, "%s&stream=false", rest);
    return buf_detach(&out);
}

bool engine_podman_event_after(json_t *ev, long long until_ns)
{
    json_t *nano = json_object_get(ev, "timeNano");
    long long t = json_is_integer(nano) ? (long long)json_integer_value(nano)
                                        : (long long)json_integer_value(json_object_get(ev, "time")) *
                                              1000000000LL;
    return until_ns > 0 && t > until_ns;
}

/* The value of query parameter key in path, %XX decoded: new, or NULL when absent. */
static char *query_value(const char *path, const char *key)
{
    const char *q = strchr(path, '?');
    size_t kn = strlen(key);
    while (q) {
        q++;
        if (!strncmp(q, key, kn) && q[kn] == '=') {
            const char *v = q + kn + 1;
            /* libcurl's decoder (its handle argument is unused). */
            char *d = curl_easy_unescape(NULL, v, (int)strcspn(v, "&"), NULL);
            char *out = d ? xstrdup(d) : NULL;
            curl_free(d);
            return out;
        }
        q = strchr(q, '&');
    }
    return NULL;
}

json_t *engine_podman_fix_pull_item(json_t *done, const char *path, json_t *item)
{
    const char *status = json_string_value(json_object_get(item, "status"));
    const char *id = json_string_value(json_object_get(item, "id"));
    if (!status || !id || strcmp(status, "Download complete"))
        return NULL;
    if (!json_object_get(done, id)) {
        json_object_set_new(done, id, json_true());
        return NULL;
    }
    /* A second "Download complete" for one ID is the end: the ID is the image's (its config
     * blob had the first), and every layer is in the image now. */
    json_t *out = json_array();
    const char *layer;
    json_t *v;
    json_object_foreach(done, layer, v)
    {
        if (strcmp(layer, id))
            json_array_append_new(out, json_pack("{s:s, s:{}, s:s}", "status", "Pull complete",
                                                 "progressDetail", "id", layer));
    }
    char *name = query_value(path, "fromImage");
    char *tag = query_value(path, "tag");
    char *line = xasprintf("Status: %s for %s%s%s",
                           json_array_size(out) ? "Downloaded newer image" : "Image is up to date",
                           name ? name : "", tag && *tag ? ":" : "", tag ? tag : "");
    json_array_append_new(out, json_pack("{s:s}", "status", line));
    free(line);
    free(name);
    free(tag);
    return out;
}

enum cc_error_kind engine_podman_pull_error_kind(const char *msg)
{
    /* What Docker answers with 404 before any progress: an unknown tag or repository, or one
     * the registry will not show. */
    static const char *const not_found[] = {
        "manifest unknown",
        "name unknown",
        "requested access to the resource is denied",
    };
    for (size_t i = 0; msg && i < CC_ARRAY_LEN(not_found); i++)
        if (strstr(msg, not_found[i]))
            return CC_ERR_NOT_FOUND;
    return CC_ERR_FAILED;
}
