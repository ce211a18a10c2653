/* Engine bodies from the model: POST /containers/create, /networks/{id}/connect,
 * /networks/create and /volumes/create. The mapping follows docker compose v2's (getCreateConfigs
 * and friends in pkg/compose/create.go) for Engine API 1.41; where ccompose differs it says why.
 *
 * Every setting of the model that a container can carry reaches its body here; sched_config_hash()
 * hashes the same body (hash mode), so a setting added here is covered by the hash at once. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <uv.h>

#include "common/buf.h"
#include "scheduler/body.h"
#include "scheduler/scheduler.h"
#include "scheduler/scheduler-internal.h"

struct ctx {
    const struct compose_project *p;
    const struct compose_service *s;
    int number;
    bool for_hash;
    struct cc_error *reterr;
    const struct sched_oneoff *oneoff; /* run's one-off container, or NULL */
    const char *oneoff_name;
};

/* Fails with CC_ERR_INVALID_CONFIG about services.<service>.<key>, at pos when known. */
static int bad(const struct ctx *c, const struct compose_pos *pos, const char *key, const char *fmt,
               ...) CC_PRINTF(4, 5);

static int vbad(struct cc_error *reterr, const struct compose_service *s,
                const struct compose_pos *pos, const char *key, const char *fmt, va_list ap)
    CC_PRINTF(5, 0);

static int vbad(struct cc_error *reterr, const struct compose_service *s,
                const struct compose_pos *pos, const char *key, const char *fmt, va_list ap)
{
    if (!reterr)
        return -1;
    char *msg = xvasprintf(fmt, ap);
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s", msg);
    free(msg);
    char *path = xasprintf("services.%s.%s", s->name, key);
    cc_error_key_path(reterr, path);
    free(path);
    if (pos && pos->file)
        cc_error_where(reterr, pos->file, pos->line, pos->col);
    return -1;
}

static int bad(const struct ctx *c, const struct compose_pos *pos, const char *key, const char *fmt,
               ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(c->reterr, c->s, pos, key, fmt, ap);
    va_end(ap);
    return -1;
}

int sched_service_error(struct cc_error *reterr, const struct compose_service *s,
                        const struct compose_pos *pos, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(reterr, s, pos, key, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- JSON helpers: each puts nothing when the model leaves the value unset ----------------- */

static void put(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static void put_str(json_t *o, const char *key, const char *v)
{
    if (v)
        put(o, key, json_string(v));
}

static json_t *strv_json(const struct compose_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

static void put_strv(json_t *o, const char *key, const struct compose_strv *sv)
{
    if (sv->n)
        put(o, key, strv_json(sv));
}

/* Keys listed without a value carry nothing to the engine and are left out. */
static json_t *kvv_json(const struct compose_kvv *kvv)
{
    json_t *o = json_object();
    for (size_t i = 0; i < kvv->n; i++)
        if (kvv->v[i].value)
            put(o, kvv->v[i].key, json_string(kvv->v[i].value));
    return o;
}

static void put_kvv(json_t *o, const char *key, const struct compose_kvv *kvv)
{
    if (kvv->n)
        put(o, key, kvv_json(kvv));
}

static void put_i64(json_t *o, const char *key, int64_t v)
{
    if (v != COMPOSE_UNSET)
        put(o, key, json_integer(v));
}

static void push(json_t *a, json_t *v)
{
    json_array_append_new(a, v);
}

/* Sets *o[key] to a new array (or object) on first use and returns it. */
static json_t *array_at(json_t *o, const char *key)
{
    json_t *a = json_object_get(o, key);
    if (!a) {
        a = json_array();
        put(o, key, a);
    }
    return a;
}

/* ---- Pieces of the container body ------------------------------------------------------------ */

static int cmp_kv(const void *a, const void *b)
{
    return strcmp((*(const struct compose_kv *const *)a)->key,
                  (*(const struct compose_kv *const *)b)->key);
}

/* KEY=VALUE sorted by key: the environment is a map, so the order it was written in must not
 * change the body (nor the hash). */
static json_t *env_json(const struct compose_kvv *env)
{
    const struct compose_kv **sorted = xcalloc(env->n, sizeof(*sorted));
    for (size_t i = 0; i < env->n; i++)
        sorted[i] = &env->v[i];
    qsort(sorted, env->n, sizeof(*sorted), cmp_kv);
    json_t *a = json_array();
    for (size_t i = 0; i < env->n; i++) {
        if (!sorted[i]->value)
            continue;
        char *kv = xasprintf("%s=%s", sorted[i]->key, sorted[i]->value);
        push(a, json_string(kv));
        free(kv);
    }
    free(sorted);
    return a;
}

static const char *condition_name(enum compose_condition c)
{
    switch (c) {
    case COMPOSE_COND_HEALTHY:
        return "service_healthy";
    case COMPOSE_COND_COMPLETED_SUCCESSFULLY:
        return "service_completed_successfully";
    case COMPOSE_COND_STARTED:
        break;
    }
    return "service_started";
}

static char *strv_join(const struct compose_strv *sv, const char *sep)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            buf_adds(&b, sep);
        buf_adds(&b, sv->v[i]);
    }
    return buf_detach(&b);
}

static void put_owned(json_t *o, const char *key, char *v)
{
    put(o, key, json_string(v));
    free(v);
}

/* The user's labels, then the compose labels over them (as docker compose merges its own last).
 * config-hash is added by the caller, once the body is known to be valid. */
static json_t *labels_json(const struct ctx *c, const char *image_id)
{
    const struct compose_project *p = c->p;
    const struct compose_service *s = c->s;
    json_t *o = kvv_json(&s->labels);
    if (c->for_hash)
        return o;
    put_str(o, SCHED_LABEL_PROJECT, p->name);
    put_str(o, SCHED_LABEL_SERVICE, s->name);
    put_str(o, SCHED_LABEL_ONEOFF, c->oneoff ? "True" : "False");
    put_owned(o, SCHED_LABEL_NUMBER, xasprintf("%d", c->number));
    put_str(o, SCHED_LABEL_WORKING_DIR, p->working_dir);
    put_owned(o, SCHED_LABEL_CONFIG_FILES, strv_join(&p->config_files, ","));
    if (p->env_files.n)
        put_owned(o, SCHED_LABEL_ENVIRONMENT_FILE, strv_join(&p->env_files, ","));
    struct buf deps = BUF_INIT;
    for (size_t i = 0; i < s->n_depends_on; i++)
        buf_printf(&deps, "%s%s:%s:%s", i ? "," : "", s->depends_on[i].service,
                   condition_name(s->depends_on[i].condition),
                   s->depends_on[i].restart ? "true" : "false");
    put_owned(o, SCHED_LABEL_DEPENDS_ON, buf_detach(&deps));
    put_str(o, SCHED_LABEL_IMAGE, image_id);
    put_str(o, SCHED_LABEL_VERSION, SCHED_COMPOSE_VERSION);
    return o;
}

/* "N" or "N-M" (1..65535); M == N for a single port. */
static bool parse_range(const char *str, unsigned long *lo, unsigned long *hi)
{
    char *end;
    if (!isdigit((unsigned char)*str))
        return false;
    *lo = strtoul(str, &end, 10);
    *hi = *lo;
    if (*end == '-') {
        if (!isdigit((unsigned char)end[1]))
            return false;
        *hi = strtoul(end + 1, &end, 10);
    }
    return *end == '\0' && *lo >= 1 && *hi <= 65535 && *lo <= *hi;
}

static void expose_port(json_t *exposed, unsigned long port, const char *proto)
{
    char key[32];
    snprintf(key, sizeof(key), "%lu/%s", port, proto);
    put(exposed, key, json_object());
}

/* expose: "80", "80/udp", "3000-3005[/proto]": ranges expanded, as the engine lists them. */
static int add_expose(const struct ctx *c, json_t *exposed)
{
    for (size_t i = 0; i < c->s->expose.n; i++) {
        const char *e = c->s->expose.v[i];
        const char *slash = strchr(e, '/');
        char *ports = slash ? xstrndup(e, (size_t)(slash - e)) : xstrdup(e);
        unsigned long lo, hi;
        bool ok = parse_range(ports, &lo, &hi);
        free(ports);
        if (!ok)
            return bad(c, NULL, "expose", "'%s' is not a port or port range", e);
        for (unsigned long port = lo; port <= hi; port++)
            expose_port(exposed, port, slash ? slash + 1 : "tcp");
    }
    return 0;
}

/* ports: ExposedPorts and PortBindings. A container range maps onto a published range of the
 * same length port by port; a single container port may take a published range (the engine
 * picks one of it), as docker's own parser allows. */
static int add_ports(const struct ctx *c, json_t *exposed, json_t *bindings)
{
    /* A one-off container publishes the service's ports only when asked (--service-ports). */
    if (c->oneoff && !c->oneoff->service_ports)
        return 0;
    for (size_t i = 0; i < c->s->n_ports; i++) {
        const struct compose_port *pt = &c->s->ports[i];
        const char *proto = pt->protocol ? pt->protocol : "tcp";
        uint32_t end = pt->target_end > pt->target ? pt->target_end : pt->target;
        unsigned long n = end - pt->target + 1, lo = 0, hi = 0;
        if (pt->published && *pt->published && !parse_range(pt->published, &lo, &hi))
            return bad(c, &pt->pos, "ports", "'%s' is not a port or port range", pt->published);
        if (lo && n > 1 && hi - lo + 1 != n)
            return bad(c, &pt->pos, "ports",
                       "published ports '%s' and container ports %u-%u differ in number",
                       pt->published, pt->target, end);
        for (unsigned long k = 0; k < n; k++) {
            char key[48], host[48];
            snprintf(key, sizeof(key), "%lu/%s", pt->target + k, proto);
            put(exposed, key, json_object());
            if (!lo)
                host[0] = '\0';
            else if (n > 1 || lo == hi)
                snprintf(host, sizeof(host), "%lu", lo + k);
            else
                snprintf(host, sizeof(host), "%lu-%lu", lo, hi);
            push(array_at(bindings, key),
                 json_pack("{s:s, s:s}", "HostIp", pt->host_ip ? pt->host_ip : "", "HostPort",
                           host));
        }
    }
    return 0;
}

/* A bind as the legacy "src:dst:opts" string: unlike the Mounts API, the engine then creates a
 * missing host path, which is what create_host_path (default true) asks for. */
static char *bind_string(const struct compose_mount *m)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s:%s:%s", m->source, m->target, m->read_only ? "ro" : "rw");
    if (m->selinux)
        buf_printf(&b, ",%s", m->selinux);
    if (m->propagation)
        buf_printf(&b, ",%s", m->propagation);
    if (m->consistency)
        buf_printf(&b, ",%s", m->consistency);
    return buf_detach(&b);
}

static json_t *mount_json(const char *type, const char *source, const char *target, bool ro)
{
    json_t *o = json_pack("{s:s, s:s}", "Type", type, "Target", target);
    put_str(o, "Source", source);
    if (ro)
        put(o, "ReadOnly", json_true());
    return o;
}

/* One entry of volumes: as a Mount, the same shape for a container's HostConfig.Mounts and a
 * swarm task's ContainerSpec.Mounts. NULL for a cluster volume or an image mount, which neither
 * can take at 1.41. */
static json_t *mount_of(const struct compose_project *p, const struct compose_mount *m)
{
    json_t *mnt = NULL;
    switch (m->type) {
    case COMPOSE_MOUNT_BIND:
        mnt = mount_json("bind", m->source, m->target, m->read_only);
        if (m->propagation)
            put(mnt, "BindOptions", json_pack("{s:s}", "Propagation", m->propagation));
        break;
    case COMPOSE_MOUNT_VOLUME: {
        /* A named volume mounts the project volume's engine name; anonymous ones have no
         * source and the engine names them. */
        const struct compose_volume *v = m->source ? compose_project_volume(p, m->source) : NULL;
        mnt = mount_json("volume", v ? sched_volume_name(v) : m->source, m->target, m->read_only);
        if (m->nocopy || m->subpath) {
            json_t *vo = json_object();
            if (m->nocopy)
                put(vo, "NoCopy", json_true());
            put_str(vo, "Subpath", m->subpath); /* API 1.45+; older engines ignore it */
            put(mnt, "VolumeOptions", vo);
        }
        break;
    }
    case COMPOSE_MOUNT_TMPFS:
        mnt = mount_json("tmpfs", NULL, m->target, m->read_only);
        if (m->tmpfs_size != COMPOSE_UNSET || m->tmpfs_mode != COMPOSE_UNSET) {
            json_t *to = json_object();
            put_i64(to, "SizeBytes", m->tmpfs_size);
            put_i64(to, "Mode", m->tmpfs_mode);
            put(mnt, "TmpfsOptions", to);
        }
        break;
    case COMPOSE_MOUNT_NPIPE:
        mnt = mount_json("npipe", m->source, m->target, m->read_only);
        break;
    case COMPOSE_MOUNT_CLUSTER:
    case COMPOSE_MOUNT_IMAGE:
        return NULL;
    }
    put_str(mnt, "Consistency", m->consistency);
    return mnt;
}

static int add_volumes(const struct ctx *c, json_t *hc)
{
    for (size_t i = 0; i < c->s->n_volumes; i++) {
        const struct compose_mount *m = &c->s->volumes[i];
        if (m->type == COMPOSE_MOUNT_BIND && m->create_host_path) {
            char *bind = bind_string(m);
            push(array_at(hc, "Binds"), json_string(bind));
            free(bind);
            continue;
        }
        json_t *mnt = mount_of(c->p, m);
        if (!mnt && m->type == COMPOSE_MOUNT_IMAGE)
            return bad(c, &m->pos, "volumes",
                       "image mount of '%s' needs Docker Engine API 1.48; ccompose speaks 1.41",
                       m->source ? m->source : m->target);
        if (!mnt)
            return bad(c, &m->pos, "volumes", "cluster volume '%s' needs swarm mode",
                       m->source ? m->source : m->target);
        push(array_at(hc, "Mounts"), mnt);
    }
    return 0;
}

static bool target_taken(const struct compose_service *s, const char *target)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        if (!strcmp(s->volumes[i].target, target))
            return true;
    return false;
}

/* File-based secrets and configs are read-only binds of their file, as docker compose mounts
 * them; a volume at the same target wins. Those copied into the container between create and
 * start (environment or content, or a file with uid, gid or mode: inject.c) get no mount. */
static int add_file_refs(const struct ctx *c, json_t *hc, const struct compose_file_ref *refs,
                         size_t n, const struct compose_file_def *defs, size_t n_defs,
                         const char *what, const char *key, const char *base)
{
    for (size_t i = 0; i < n; i++) {
        const struct compose_file_ref *r = &refs[i];
        const struct compose_file_def *d = NULL;
        for (size_t k = 0; k < n_defs && !d; k++)
            if (!strcmp(defs[k].key, r->source))
                d = &defs[k];
        if (!d)
            return bad(c, &r->pos, key, "%s '%s' is not defined", what, r->source);
        if (d->external)
            return bad(c, &r->pos, key, "external %s '%s' needs swarm mode", what, r->source);
        if (!d->file || sched_file_ref_copied(r, d))
            continue;
        char *target = sched_file_ref_target(r, base);
        if (!target_taken(c->s, target))
            push(array_at(hc, "Mounts"), mount_json("bind", d->file, target, true));
        free(target);
    }
    return 0;
}

static json_t *healthcheck_json(const struct compose_healthcheck *h)
{
    if (h->disable)
        return json_pack("{s:[s]}", "Test", "NONE");
    json_t *o = json_object();
    put_strv(o, "Test", &h->test);
    put_i64(o, "Interval", h->interval);
    put_i64(o, "Timeout", h->timeout);
    put_i64(o, "StartPeriod", h->start_period);
    /* start_interval needs API 1.44: not sent to a 1.41 engine. */
    put_i64(o, "Retries", h->retries);
    return o;
}

static const char *restart_name(const char *condition)
{
    if (!strcmp(condition, "none") || !strcmp(condition, "no"))
        return "no";
    if (!strcmp(condition, "any") || !strcmp(condition, "always"))
        return "always";
    if (!strcmp(condition, "on-failure"))
        return "on-failure";
    if (!strcmp(condition, "unless-stopped"))
        return "unless-stopped";
    return NULL;
}

/* restart:, overridden by deploy.restart_policy as docker compose does. The engine takes a retry
 * count only with on-failure. */
static int add_restart(const struct ctx *c, json_t *hc)
{
    const struct compose_service *s = c->s;
    const char *name = NULL;
    long max = 0;
    if (s->restart) {
        const char *colon = strchr(s->restart, ':');
        char *cond =
            colon ? xstrndup(s->restart, (size_t)(colon - s->restart)) : xstrdup(s->restart);
        name = restart_name(cond);
        free(cond);
        char *end = NULL;
        if (colon)
            max = strtol(colon + 1, &end, 10);
        if (!name || (colon && (*end || max < 0)))
            return bad(c, NULL, "restart", "'%s' is not a restart policy", s->restart);
    }
    const struct compose_restart_policy *rp = &s->deploy.restart_policy;
    if (rp->condition) {
        name = restart_name(rp->condition);
        if (!name)
            return bad(c, NULL, "deploy.restart_policy.condition",
                       "'%s' is not a restart condition", rp->condition);
        max = rp->max_attempts != COMPOSE_UNSET ? rp->max_attempts : 0;
    }
    if (!name)
        return 0;
    put(hc, "RestartPolicy",
        json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount",
                  (json_int_t)(strcmp(name, "on-failure") ? 0 : max)));
    return 0;
}

/* Flat keys and deploy.resources: a deploy value, when set, wins (as in docker compose). */
static void add_resources(const struct ctx *c, json_t *hc)
{
    const struct compose_service *s = c->s;
    const struct compose_resources *lim = &s->deploy.limits, *res = &s->deploy.reservations;
    put_i64(hc, "Memory", lim->memory != COMPOSE_UNSET ? lim->memory : s->mem_limit);
    put_i64(hc, "MemorySwap", s->memswap_limit);
    put_i64(hc, "MemoryReservation",
            res->memory != COMPOSE_UNSET ? res->memory : s->mem_reservation);
    double cpus = lim->cpus > 0 ? lim->cpus : s->cpus;
    if (cpus > 0)
        put(hc, "NanoCpus", json_integer((json_int_t)llround(cpus * 1e9)));
    put_i64(hc, "CpuShares", s->cpu_shares);
    put_i64(hc, "CpuQuota", s->cpu_quota);
    put_i64(hc, "CpuPeriod", s->cpu_period);
    put_str(hc, "CpusetCpus", s->cpuset);
    put_i64(hc, "PidsLimit", lim->pids != COMPOSE_UNSET ? lim->pids : s->pids_limit);
    if (s->oom_score_adj)
        put(hc, "OomScoreAdj", json_integer(s->oom_score_adj));
    put(hc, "OomKillDisable", json_boolean(s->oom_kill_disable));
    put_i64(hc, "ShmSize", s->shm_size);
    if (s->n_ulimits) {
        json_t *a = array_at(hc, "Ulimits");
        for (size_t i = 0; i < s->n_ulimits; i++)
            push(a,
                 json_pack("{s:s, s:I, s:I}", "Name", s->ulimits[i].name, "Soft",
                           (json_int_t)s->ulimits[i].soft, "Hard", (json_int_t)s->ulimits[i].hard));
    }
    if (s->n_devices) {
        json_t *a = array_at(hc, "Devices");
        for (size_t i = 0; i < s->n_devices; i++) {
            const struct compose_device *d = &s->devices[i];
            push(a, json_pack("{s:s, s:s, s:s}", "PathOnHost", d->source, "PathInContainer",
                              d->target ? d->target : d->source, "CgroupPermissions",
                              d->permissions ? d->permissions : "rwm"));
        }
    }
}

static void put_blkio(json_t *hc, const char *key, const char *value_key,
                      const struct compose_blkio_list *l)
{
    if (!l->n)
        return;
    json_t *a = array_at(hc, key);
    for (size_t i = 0; i < l->n; i++)
        push(a,
             json_pack("{s:s, s:I}", "Path", l->v[i].path, value_key, (json_int_t)l->v[i].value));
}

/* One DeviceRequest; gpus imply the capability "gpu". Neither count nor device_ids means all
 * devices, as compose-go's default `count: all`. */
static json_t *device_request(const struct compose_device_request *d, bool gpu)
{
    json_t *o = json_object();
    put_str(o, "Driver", d->driver);
    json_int_t count = d->count_all || (d->count == COMPOSE_UNSET && !d->device_ids.n)
                           ? -1
                           : (d->count == COMPOSE_UNSET ? 0 : (json_int_t)d->count);
    put(o, "Count", json_integer(count));
    put_strv(o, "DeviceIDs", &d->device_ids);
    json_t *caps = strv_json(&d->capabilities);
    if (gpu && !json_array_size(caps))
        push(caps, json_string("gpu"));
    put(o, "Capabilities", json_pack("[o]", caps));
    put_kvv(o, "Options", &d->options);
    return o;
}

/* The less common engine settings: realtime CPU, Windows' cpu_count/cpu_percent and isolation,
 * block I/O, device cgroup rules and requests, the runtime, the UTS namespace, credential_spec. */
static void add_more(const struct ctx *c, json_t *hc)
{
    const struct compose_service *s = c->s;
    put_i64(hc, "CpuCount", s->cpu_count);
    put_i64(hc, "CpuPercent", s->cpu_percent);
    put_i64(hc, "CpuRealtimePeriod", s->cpu_rt_period);
    put_i64(hc, "CpuRealtimeRuntime", s->cpu_rt_runtime);
    put_i64(hc, "MemorySwappiness", s->mem_swappiness);
    const struct compose_blkio *b = &s->blkio_config;
    put_i64(hc, "BlkioWeight", b->weight);
    put_blkio(hc, "BlkioWeightDevice", "Weight", &b->weight_device);
    put_blkio(hc, "BlkioDeviceReadBps", "Rate", &b->device_read_bps);
    put_blkio(hc, "BlkioDeviceWriteBps", "Rate", &b->device_write_bps);
    put_blkio(hc, "BlkioDeviceReadIOps", "Rate", &b->device_read_iops);
    put_blkio(hc, "BlkioDeviceWriteIOps", "Rate", &b->device_write_iops);
    put_strv(hc, "DeviceCgroupRules", &s->device_cgroup_rules);
    for (size_t i = 0; i < s->n_gpus; i++)
        push(array_at(hc, "DeviceRequests"), device_request(&s->gpus[i], true));
    for (size_t i = 0; i < s->deploy.reservations.n_devices; i++)
        push(array_at(hc, "DeviceRequests"),
             device_request(&s->deploy.reservations.devices[i], false));
    put_str(hc, "Isolation", s->isolation);
    put_str(hc, "Runtime", s->runtime);
    put_str(hc, "UTSMode", s->uts);
    const struct compose_credential_spec *cs = &s->credential_spec;
    if (cs->config || cs->file || cs->registry) {
        char *opt = cs->config ? xasprintf("credentialspec=config://%s", cs->config)
                    : cs->file ? xasprintf("credentialspec=file://%s", cs->file)
                               : xasprintf("credentialspec=registry://%s", cs->registry);
        push(array_at(hc, "SecurityOpt"), json_string(opt));
        free(opt);
    }
}

/* security_opt: a seccomp profile file is sent inline (compact JSON), as the docker CLI and
 * docker compose do; systempaths=unconfined clears the masked and read-only paths. */
static int add_security_opt(const struct ctx *c, json_t *hc)
{
    const struct compose_service *s = c->s;
    for (size_t i = 0; i < s->security_opt.n; i++) {
        const char *opt = s->security_opt.v[i];
        if (!strcmp(opt, "systempaths=unconfined")) {
            put(hc, "MaskedPaths", json_array());
            put(hc, "ReadonlyPaths", json_array());
            continue;
        }
        const char *file = NULL;
        if (!strncmp(opt, "seccomp=", 8) || !strncmp(opt, "seccomp:", 8))
            file = opt + 8;
        if (!file || !strcmp(file, "unconfined") || !strcmp(file, "builtin")) {
            push(array_at(hc, "SecurityOpt"), json_string(opt));
            continue;
        }
        char *path = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", c->p->working_dir, file);
        json_error_t jerr;
        json_t *profile = json_load_file(path, 0, &jerr);
        free(path);
        if (!profile)
            return bad(c, NULL, "security_opt", "cannot read seccomp profile '%s': %s", file,
                       jerr.text);
        char *compact = json_dumps(profile, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(profile);
        char *inline_opt = xasprintf("seccomp=%s", compact);
        push(array_at(hc, "SecurityOpt"), json_string(inline_opt));
        free(inline_opt);
        free(compact);
    }
    return 0;
}

/* "<name>:<alias>" for each container of each linked service (all its replicas; container 1 in
 * hash mode, so scaling a linked service does not recreate this one), then external links. */
static int links_json(const struct ctx *c, json_t **ret)
{
    const struct compose_service *s = c->s;
    json_t *a = json_array();
    for (size_t i = 0; i < s->links.n; i++) {
        const char *link = s->links.v[i];
        const char *colon = strchr(link, ':');
        char *svc = colon ? xstrndup(link, (size_t)(colon - link)) : xstrdup(link);
        const struct compose_service *target = compose_project_service(c->p, svc);
        if (!target) {
            json_decref(a);
            bad(c, NULL, "links", "'%s' in links is not a service", svc);
            free(svc);
            return -1;
        }
        int n = c->for_hash ? 1 : compose_service_replicas(target);
        for (int k = 1; k <= n; k++) {
            char *name = sched_container_name(c->p, target, k);
            char *entry = xasprintf("%s:%s", name, colon ? colon + 1 : svc);
            push(a, json_string(entry));
            free(entry);
            free(name);
        }
        free(svc);
    }
    for (size_t i = 0; i < s->external_links.n; i++) {
        const char *link = s->external_links.v[i];
        char *entry = strchr(link, ':') ? xstrdup(link) : xasprintf("%s:%s", link, link);
        push(a, json_string(entry));
        free(entry);
    }
    *ret = a;
    return 0;
}

/* volumes_from: "service:x[:mode]" names x's container 1; "container:x[:mode]" is x. */
static int add_volumes_from(const struct ctx *c, json_t *hc)
{
    for (size_t i = 0; i < c->s->volumes_from.n; i++) {
        const char *v = c->s->volumes_from.v[i];
        char *entry;
        if (!strncmp(v, "container:", 10)) {
            entry = xstrdup(v + 10);
        } else {
            const char *name = strncmp(v, "service:", 8) ? v : v + 8;
            const char *colon = strchr(name, ':');
            char *svc = colon ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
            const struct compose_service *src = compose_project_service(c->p, svc);
            if (!src) {
                bad(c, NULL, "volumes_from", "'%s' in volumes_from is not a service", svc);
                free(svc);
                return -1;
            }
            char *cname = sched_container_name(c->p, src, 1);
            entry = xasprintf("%s%s", cname, colon ? colon : "");
            free(cname);
            free(svc);
        }
        push(array_at(hc, "VolumesFrom"), json_string(entry));
        free(entry);
    }
    return 0;
}

/* The endpoint of the service's network i: aliases (the container's name, the service's name,
 * the file's aliases: docker compose v2's order for `up`), static addresses, links, options. */
static json_t *endpoint_json(const struct ctx *c, size_t i, json_t *links)
{
    const struct compose_service_network *sn = &c->s->networks[i];
    json_t *ep = json_object();
    json_t *aliases = json_array();
    char *cname = c->oneoff ? xstrdup(c->oneoff_name) : sched_container_name(c->p, c->s, c->number);
    push(aliases, json_string(cname));
    free(cname);
    /* A one-off container answers to the service's names only with --use-aliases. */
    for (size_t k = 0; (!c->oneoff || c->oneoff->use_aliases) && k <= sn->aliases.n; k++)
        push(aliases, json_string(k ? sn->aliases.v[k - 1] : c->s->name));
    put(ep, "Aliases", aliases);
    if (sn->ipv4_address || sn->ipv6_address || sn->link_local_ips.n) {
        json_t *ipam = json_object();
        put_str(ipam, "IPv4Address", sn->ipv4_address);
        put_str(ipam, "IPv6Address", sn->ipv6_address);
        put_strv(ipam, "LinkLocalIPs", &sn->link_local_ips);
        put(ep, "IPAMConfig", ipam);
    }
    if (links && json_array_size(links))
        put(ep, "Links", json_incref(links));
    put_kvv(ep, "DriverOpts", &sn->driver_opts);
    return ep;
}

static const struct compose_network *service_network(const struct ctx *c, size_t i)
{
    const struct compose_network *n = compose_project_network(c->p, c->s->networks[i].key);
    if (!n)
        bad(c, &c->s->networks[i].pos, "networks", "'%s' in networks is not a network",
            c->s->networks[i].key);
    return n;
}

/* NetworkMode, and NetworkingConfig with the first network only (API 1.41 takes one at create;
 * the others are joined with sched_network_connect_body() before start). */
static int add_networking(const struct ctx *c, json_t *body, json_t *hc, json_t *links)
{
    const struct compose_service *s = c->s;
    if (s->network_mode) {
        if (!strncmp(s->network_mode, "service:", 8)) {
            const struct compose_service *other =
                compose_project_service(c->p, s->network_mode + 8);
            if (!other)
                return bad(c, NULL, "network_mode", "'%s' in network_mode is not a service",
                           s->network_mode + 8);
            char *cname = sched_container_name(c->p, other, 1);
            put_owned(hc, "NetworkMode", xasprintf("container:%s", cname));
            free(cname);
        } else {
            put_str(hc, "NetworkMode", s->network_mode);
        }
        return 0;
    }
    if (!s->n_networks) {
        put_str(hc, "NetworkMode", "none");
        return 0;
    }
    const struct compose_network *n = service_network(c, 0);
    if (!n)
        return -1;
    for (size_t i = 1; i < s->n_networks; i++)
        if (!service_network(c, i))
            return -1;
    put_str(hc, "NetworkMode", sched_network_name(n));
    json_t *eps = json_object();
    put(eps, sched_network_name(n), endpoint_json(c, 0, links));
    /* The hash covers every network the container joins, as API 1.44's create body would. */
    for (size_t i = 1; c->for_hash && i < s->n_networks; i++)
        put(eps, sched_network_name(service_network(c, i)), endpoint_json(c, i, links));
    put(body, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", eps));
    return 0;
}

static void put_tmpfs(json_t *hc, const struct compose_strv *tmpfs)
{
    if (!tmpfs->n)
        return;
    json_t *o = json_object();
    for (size_t i = 0; i < tmpfs->n; i++) {
        const char *colon = strchr(tmpfs->v[i], ':');
        char *path =
            colon ? xstrndup(tmpfs->v[i], (size_t)(colon - tmpfs->v[i])) : xstrdup(tmpfs->v[i]);
        put(o, path, json_string(colon ? colon + 1 : ""));
        free(path);
    }
    put(hc, "Tmpfs", o);
}

static json_t *host_config(const struct ctx *c, json_t *exposed, json_t *links)
{
    const struct compose_service *s = c->s;
    json_t *hc = json_object();
    json_t *bindings = json_object();
    if (add_ports(c, exposed, bindings) < 0 || add_volumes(c, hc) < 0 ||
        add_file_refs(c, hc, s->secrets, s->n_secrets, c->p->secrets, c->p->n_secrets, "secret",
                      "secrets", "/run/secrets/") < 0 ||
        add_file_refs(c, hc, s->configs, s->n_configs, c->p->configs, c->p->n_configs, "config",
                      "configs", "/") < 0 ||
        (!c->oneoff && add_restart(c, hc) < 0) || add_security_opt(c, hc) < 0 ||
        add_volumes_from(c, hc) < 0) {
        json_decref(bindings);
        json_decref(hc);
        return NULL;
    }
    if (json_object_size(bindings))
        put(hc, "PortBindings", bindings);
    else
        json_decref(bindings);
    if (s->init != COMPOSE_TRI_UNSET)
        put(hc, "Init", json_boolean(s->init == COMPOSE_TRI_TRUE));
    put_strv(hc, "CapAdd", &s->cap_add);
    put_strv(hc, "CapDrop", &s->cap_drop);
    if (s->privileged)
        put(hc, "Privileged", json_true());
    if (s->read_only)
        put(hc, "ReadonlyRootfs", json_true());
    put_strv(hc, "ExtraHosts", &s->extra_hosts);
    put_strv(hc, "Dns", &s->dns);
    put_strv(hc, "DnsSearch", &s->dns_search);
    put_strv(hc, "DnsOptions", &s->dns_opt);
    put_kvv(hc, "Sysctls", &s->sysctls);
    put_kvv(hc, "StorageOpt", &s->storage_opt);
    /* annotations need API 1.43: not sent to a 1.41 engine. */
    if (s->logging.driver || s->logging.options.n) {
        json_t *lc = json_pack("{s:s}", "Type", s->logging.driver ? s->logging.driver : "");
        put(lc, "Config", kvv_json(&s->logging.options));
        put(hc, "LogConfig", lc);
    }
    add_resources(c, hc);
    add_more(c, hc);
    put_tmpfs(hc, &s->tmpfs);
    put_str(hc, "IpcMode", s->ipc);
    put_str(hc, "PidMode", s->pid);
    put_str(hc, "CgroupnsMode", s->cgroup);
    put_str(hc, "CgroupParent", s->cgroup_parent);
    put_str(hc, "UsernsMode", s->userns_mode);
    put_strv(hc, "GroupAdd", &s->group_add);
    if (json_array_size(links))
        put(hc, "Links", json_incref(links));
    return hc;
}

static json_t *body_build(const struct ctx *cx, const char *image_id);

json_t *sched_body_build(const struct compose_project *p, const struct compose_service *s,
                         int number, const char *image_id, bool for_hash, struct cc_error *reterr)
{
    struct ctx c = {p, s, number, for_hash, reterr, NULL, NULL};
    return body_build(&c, image_id);
}

static json_t *body_build(const struct ctx *cx, const char *image_id)
{
    struct ctx c = *cx;
    const struct compose_project *p = c.p;
    const struct compose_service *s = c.s;
    bool for_hash = c.for_hash;
    json_t *body = json_object(), *links = NULL, *exposed = json_object(), *hc = NULL;
    if (links_json(&c, &links) < 0 || add_expose(&c, exposed) < 0)
        goto fail;
    if (!(hc = host_config(&c, exposed, links)))
        goto fail;
    if (add_networking(&c, body, hc, links) < 0)
        goto fail;
    put(body, "HostConfig", hc);
    hc = NULL;

    char *image = sched_image_name(p, s);
    put_str(body, "Image", !for_hash && image_id ? image_id : image);
    free(image);
    if (s->has_command)
        put(body, "Cmd", strv_json(&s->command));
    /* An explicit empty entrypoint is sent as [], which clears the image's. */
    if (s->has_entrypoint)
        put(body, "Entrypoint", strv_json(&s->entrypoint));
    put(body, "Env", env_json(&s->environment));
    put(body, "Labels", labels_json(&c, image_id));
    if (json_object_size(exposed))
        put(body, "ExposedPorts", json_incref(exposed));
    if (s->healthcheck.set)
        put(body, "Healthcheck", healthcheck_json(&s->healthcheck));
    put_str(body, "User", s->user);
    put_str(body, "WorkingDir", s->working_dir);
    put_str(body, "Hostname", s->hostname);
    put_str(body, "Domainname", s->domainname);
    /* Before API 1.44 the MAC address is the container's, from the first network's if set. */
    put_str(body, "MacAddress",
            s->mac_address  ? s->mac_address
            : s->n_networks ? s->networks[0].mac_address
                            : NULL);
    put(body, "Tty", json_boolean(s->tty));
    put(body, "OpenStdin", json_boolean(s->stdin_open));
    put(body, "AttachStdout", json_true());
    put(body, "AttachStderr", json_true());
    put_str(body, "StopSignal", s->stop_signal);
    if (s->stop_grace_period != COMPOSE_UNSET)
        put(body, "StopTimeout", json_integer(s->stop_grace_period / 1000000000));
    json_decref(exposed);
    json_decref(links);
    return body;

fail:
    json_decref(hc);
    json_decref(exposed);
    json_decref(links);
    json_decref(body);
    return NULL;
}

json_t *sched_container_body(const struct compose_project *p, const struct compose_service *s,
                             int number, const char *image_id, struct cc_error *reterr)
{
    json_t *body = sched_body_build(p, s, number, image_id, false, reterr);
    if (!body)
        return NULL;
    char *hash = sched_config_hash(p, s);
    put_owned(json_object_get(body, "Labels"), SCHED_LABEL_CONFIG_HASH, hash);
    return body;
}

json_t *sched_network_connect_body(const struct compose_project *p, const struct compose_service *s,
                                   size_t i, const char *container_id, int number)
{
    struct ctx c = {p, s, number, false, NULL};
    json_t *links = NULL;
    if (i >= s->n_networks || links_json(&c, &links) < 0)
        return NULL;
    json_t *ep = endpoint_json(&c, i, links);
    json_decref(links);
    return json_pack("{s:s, s:o}", "Container", container_id, "EndpointConfig", ep);
}

static json_t *resource_labels(const struct compose_project *p, const struct compose_kvv *user,
                               const char *kind_label, const char *key)
{
    json_t *o = kvv_json(user);
    put_str(o, SCHED_LABEL_PROJECT, p->name);
    put_str(o, kind_label, key);
    put_str(o, SCHED_LABEL_VERSION, SCHED_COMPOSE_VERSION);
    return o;
}

json_t *sched_network_body(const struct compose_project *p, const struct compose_network *n)
{
    json_t *body = json_pack("{s:s, s:b}", "Name", sched_network_name(n), "CheckDuplicate", 1);
    put_str(body, "Driver", n->driver);
    put_kvv(body, "Options", &n->driver_opts);
    if (n->ipam_driver || n->n_ipam_config || n->ipam_options.n) {
        json_t *ipam = json_object();
        put_str(ipam, "Driver", n->ipam_driver);
        if (n->n_ipam_config) {
            json_t *configs = array_at(ipam, "Config");
            for (size_t i = 0; i < n->n_ipam_config; i++) {
                const struct compose_ipam_config *ic = &n->ipam_config[i];
                json_t *cfg = json_object();
                put_str(cfg, "Subnet", ic->subnet);
                put_str(cfg, "IPRange", ic->ip_range);
                put_str(cfg, "Gateway", ic->gateway);
                put_kvv(cfg, "AuxiliaryAddresses", &ic->aux_addresses);
                push(configs, cfg);
            }
        }
        put_kvv(ipam, "Options", &n->ipam_options);
        put(body, "IPAM", ipam);
    }
    if (n->internal)
        put(body, "Internal", json_true());
    if (n->attachable)
        put(body, "Attachable", json_true());
    if (n->enable_ipv6 != COMPOSE_TRI_UNSET)
        put(body, "EnableIPv6", json_boolean(n->enable_ipv6 == COMPOSE_TRI_TRUE));
    put(body, "Labels", resource_labels(p, &n->labels, SCHED_LABEL_NETWORK, n->key));
    return body;
}

json_t *sched_volume_body(const struct compose_project *p, const struct compose_volume *v)
{
    json_t *body = json_pack("{s:s}", "Name", sched_volume_name(v));
    put_str(body, "Driver", v->driver);
    put_kvv(body, "DriverOpts", &v->driver_opts);
    put(body, "Labels", resource_labels(p, &v->labels, SCHED_LABEL_VOLUME, v->key));
    return body;
}

/* ---- Shared with stack-spec.c (body.h) ------------------------------------------------------- */

void sched_json_put_str(json_t *o, const char *key, const char *v)
{
    put_str(o, key, v);
}

void sched_json_put_strv(json_t *o, const char *key, const struct compose_strv *sv)
{
    put_strv(o, key, sv);
}

void sched_json_put_kvv(json_t *o, const char *key, const struct compose_kvv *kvv)
{
    put_kvv(o, key, kvv);
}

void sched_json_put_i64(json_t *o, const char *key, int64_t v)
{
    put_i64(o, key, v);
}

json_t *sched_json_strv(const struct compose_strv *sv)
{
    return strv_json(sv);
}

json_t *sched_json_kvv(const struct compose_kvv *kvv)
{
    return kvv_json(kvv);
}

json_t *sched_json_env(const struct compose_kvv *env)
{
    return env_json(env);
}

json_t *sched_json_healthcheck(const struct compose_healthcheck *h)
{
    return healthcheck_json(h);
}

bool sched_port_range(const char *str, unsigned long *lo, unsigned long *hi)
{
    return parse_range(str, lo, hi);
}

json_t *sched_json_mount(const struct compose_project *p, const struct compose_mount *m)
{
    return mount_of(p, m);
}

/* ---- One-off containers --------------------------------------------------------------------- */

/* "<project>-<service>-run-<12 hex>", as docker compose names them. */
static char *oneoff_name(const struct compose_project *p, const struct compose_service *s)
{
    unsigned char r[6] = {0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* No entropy source: the clock and pid still make a name unique enough for a one-off. */
        uint64_t t = uv_hrtime() ^ ((uint64_t)getpid() << 32);
        memcpy(r, &t, sizeof(r));
    }
    return xasprintf("%s-%s-run-%02x%02x%02x%02x%02x%02x", p->name, s->name, r[0], r[1], r[2], r[3],
                     r[4], r[5]);
}

/* "[IP:]HOST:CONTAINER[/PROTO]" or "CONTAINER[/PROTO]" into ExposedPorts and PortBindings. */
static int oneoff_port(json_t *body, const char *spec, struct cc_error *reterr)
{
    char *copy = xstrdup(spec), *proto = strchr(copy, '/');
    if (proto)
        *proto++ = '\0';
    char *container = strrchr(copy, ':'), *host = "", *ip = "";
    if (container) {
        *container++ = '\0';
        host = copy;
        char *colon = strrchr(copy, ':');
        if (colon) {
            *colon = '\0';
            ip = copy;
            host = colon + 1;
        }
    } else {
        container = copy;
    }
    unsigned long lo, hi;
    if (!sched_port_range(container, &lo, &hi) || lo != hi ||
        (*host && !sched_port_range(host, &lo, &hi))) {
        free(copy);
        cc_error_set(reterr, CC_ERR_USAGE, "'%s' is not a port to publish", spec);
        cc_error_hint(reterr, "give [IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL], e.g. 8080:80");
        return -1;
    }
    char *key = xasprintf("%s/%s", container, proto && *proto ? proto : "tcp");
    json_t *exposed = json_object_get(body, "ExposedPorts");
    if (!exposed)
        put(body, "ExposedPorts", exposed = json_object());
    put(exposed, key, json_object());
    json_t *hc = json_object_get(body, "HostConfig");
    json_t *bindings = json_object_get(hc, "PortBindings");
    if (!bindings)
        put(hc, "PortBindings", bindings = json_object());
    push(array_at(bindings, key), json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", host));
    free(key);
    free(copy);
    return 0;
}

static json_t *str_list(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(a, json_string(v[i]));
    return a;
}

json_t *sched_oneoff_body(const struct compose_project *p, const struct compose_service *s,
                          const struct sched_oneoff *o, char **ret_name, struct cc_error *reterr)
{
    char *name = o->name && *o->name ? xstrdup(o->name) : oneoff_name(p, s);
    struct ctx c = {p, s, 1, false, reterr, o, name};
    json_t *body = body_build(&c, NULL);
    if (!body)
        goto fail;
    if (o->n_command)
        put(body, "Cmd", str_list(o->command, o->n_command));
    if (o->entrypoint) {
        json_t *ep = json_array();
        for (const char *e = o->entrypoint; *e;) {
            size_t n = strcspn(e, " ");
            if (n)
                push(ep, json_stringn(e, n));
            e += n + (e[n] == ' ');
        }
        put(body, "Entrypoint", ep);
    }
    json_t *env = array_at(body, "Env");
    for (size_t i = 0; i < o->n_env; i++)
        push(env, json_string(o->env[i]));
    json_t *labels = json_object_get(body, "Labels");
    for (size_t i = 0; i < o->n_labels; i++) {
        const char *eq = strchr(o->labels[i], '=');
        char *k = eq ? xstrndup(o->labels[i], (size_t)(eq - o->labels[i])) : xstrdup(o->labels[i]);
        put(labels, k, json_string(eq ? eq + 1 : ""));
        free(k);
    }
    json_t *hc = json_object_get(body, "HostConfig");
    json_t *binds = array_at(hc, "Binds");
    for (size_t i = 0; i < o->n_volumes; i++)
        push(binds, json_string(o->volumes[i]));
    if (!json_array_size(binds))
        json_object_del(hc, "Binds");
    for (size_t i = 0; i < o->n_ports; i++)
        if (oneoff_port(body, o->ports[i], reterr) < 0)
            goto fail;
    put_str(body, "User", o->user);
    put_str(body, "WorkingDir", o->workdir);
    put(body, "Tty", json_boolean(o->tty));
    put(body, "OpenStdin", json_boolean(o->interactive));
    put(body, "StdinOnce", json_boolean(o->interactive));
    put(body, "AttachStdin", json_boolean(o->interactive));
    *ret_name = name;
    return body;

fail:
    json_decref(body);
    free(name);
    return NULL;
}
