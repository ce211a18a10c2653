/* The loaded model printed back as docker compose v2's `config` prints it: `name:` first, then
 * services, networks, volumes, secrets and configs; long syntax for ports, volumes, depends_on,
 * secrets and configs; environment as a map; durations as Go prints them; keys sorted below the
 * top level. Each entry (a service, a network, ...) is turned into a jansson tree; for YAML the
 * trees are made, written through libyaml's emitter (keys sorted as they are written) and freed
 * one entry at a time, so memory stays flat on large projects; for JSON the whole project is one
 * tree, copied with sorted keys for jansson's writer. */
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/compose.h"
#include "compose/node.h"
#include "compose/parse.h"

/* ---- the model to a tree ---- */

static json_t *jstr(const char *s)
{
    return s ? json_string_nocheck(s) : NULL;
}

/* Sets key to v when v is not NULL (steals v). */
static void put(json_t *obj, const char *key, json_t *v)
{
    if (v)
        json_object_set_new_nocheck(obj, key, v);
}

static void put_str(json_t *obj, const char *key, const char *s)
{
    put(obj, key, jstr(s));
}

static void put_bool(json_t *obj, const char *key, bool b)
{
    if (b)
        put(obj, key, json_true());
}

static void put_int(json_t *obj, const char *key, int64_t v)
{
    if (v != COMPOSE_UNSET)
        put(obj, key, json_integer(v));
}

static void put_duration(json_t *obj, const char *key, int64_t ns)
{
    char buf[PARSE_DURATION_BUFSZ];
    if (ns != COMPOSE_UNSET)
        put_str(obj, key, parse_duration_format(ns, buf));
}

static void put_double(json_t *obj, const char *key, double v)
{
    if (v != 0)
        put(obj, key, json_real(v));
}

static json_t *strv(const struct compose_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, jstr(sv->v[i]));
    return a;
}

static void put_strv(json_t *obj, const char *key, const struct compose_strv *sv)
{
    if (sv->n)
        put(obj, key, strv(sv));
}

static json_t *kvv(const struct compose_kvv *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; i < kv->n; i++)
        put(o, kv->v[i].key, kv->v[i].value ? jstr(kv->v[i].value) : json_null());
    return o;
}

static void put_kvv(json_t *obj, const char *key, const struct compose_kvv *kv)
{
    if (kv->n)
        put(obj, key, kvv(kv));
}

static const char *mount_types[] = {"volume", "bind", "tmpfs", "npipe", "cluster", "image"};

static json_t *mount(const struct compose_mount *mt)
{
    json_t *o = json_object();
    put_str(o, "type", mount_types[mt->type]);
    put_str(o, "source", mt->source);
    put_str(o, "target", mt->target);
    put_bool(o, "read_only", mt->read_only);
    put_str(o, "consistency", mt->consistency);
    if (mt->type == COMPOSE_MOUNT_BIND) {
        json_t *b = json_object();
        put_str(b, "propagation", mt->propagation);
        put(b, "create_host_path", json_boolean(mt->create_host_path));
        put_str(b, "selinux", mt->selinux);
        put(o, "bind", b);
    }
    if (mt->type == COMPOSE_MOUNT_VOLUME && (mt->nocopy || mt->subpath)) {
        json_t *v = json_object();
        put_bool(v, "nocopy", mt->nocopy);
        put_str(v, "subpath", mt->subpath);
        put(o, "volume", v);
    }
    if (mt->type == COMPOSE_MOUNT_IMAGE && mt->image_subpath)
        put(o, "image", json_pack("{s:s}", "subpath", mt->image_subpath));
    if (mt->type == COMPOSE_MOUNT_TMPFS &&
        (mt->tmpfs_size != COMPOSE_UNSET || mt->tmpfs_mode != COMPOSE_UNSET)) {
        json_t *t = json_object();
        put_int(t, "size", mt->tmpfs_size);
        put_int(t, "mode", mt->tmpfs_mode);
        put(o, "tmpfs", t);
    }
    return o;
}

static json_t *port(const struct compose_port *p)
{
    json_t *o = json_object();
    put_str(o, "name", p->name);
    put_str(o, "mode", p->mode);
    put_str(o, "host_ip", p->host_ip);
    put(o, "target", json_integer(p->target));
    put_str(o, "published", p->published);
    put_str(o, "protocol", p->protocol);
    put_str(o, "app_protocol", p->app_protocol);
    return o;
}

static const char *conditions[] = {"service_started", "service_healthy",
                                   "service_completed_successfully"};

const char *compose_condition_name(enum compose_condition c)
{
    return conditions[c];
}

static json_t *file_refs(const struct compose_file_ref *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        put_str(o, "source", v[i].source);
        put_str(o, "target", v[i].target);
        put_str(o, "uid", v[i].uid);
        put_str(o, "gid", v[i].gid);
        put_int(o, "mode", v[i].mode);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *device_requests(const struct compose_device_request *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct compose_device_request *d = &v[i];
        json_t *o = json_object();
        put_str(o, "driver", d->driver);
        if (d->count_all)
            put_str(o, "count", "all");
        else
            put_int(o, "count", d->count);
        put_strv(o, "device_ids", &d->device_ids);
        put_strv(o, "capabilities", &d->capabilities);
        put_kvv(o, "options", &d->options);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *resources(const struct compose_resources *r)
{
    json_t *o = json_object();
    put_double(o, "cpus", r->cpus);
    put_int(o, "memory", r->memory);
    put_int(o, "pids", r->pids);
    if (r->n_devices)
        put(o, "devices", device_requests(r->devices, r->n_devices));
    if (r->n_generic_resources) {
        json_t *a = json_array();
        for (size_t i = 0; i < r->n_generic_resources; i++)
            json_array_append_new(
                a, json_pack("{s:{s:s, s:I}}", "discrete_resource_spec", "kind",
                             r->generic_resources[i].kind, "value",
                             (json_int_t)r->generic_resources[i].value));
        put(o, "generic_resources", a);
    }
    return o;
}

static json_t *ulimits(const struct compose_ulimit *v, size_t n)
{
    json_t *u = json_object();
    for (size_t i = 0; i < n; i++) {
        const struct compose_ulimit *l = &v[i];
        put(u, l->name,
            l->soft == l->hard ? json_integer(l->soft)
                               : json_pack("{s:I, s:I}", "soft", (json_int_t)l->soft, "hard",
                                           (json_int_t)l->hard));
    }
    return u;
}

static json_t *hook(const struct compose_hook *h)
{
    json_t *o = json_object();
    put(o, "command", strv(&h->command));
    put_str(o, "user", h->user);
    put_bool(o, "privileged", h->privileged);
    put_str(o, "working_dir", h->working_dir);
    put_kvv(o, "environment", &h->environment);
    return o;
}

static void put_hooks(json_t *obj, const char *key, const struct compose_hook *v, size_t n)
{
    if (!n)
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, hook(&v[i]));
    put(obj, key, a);
}

static void put_blkio_list(json_t *obj, const char *key, const char *value_key,
                           const struct compose_blkio_list *l)
{
    if (!l->n)
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:I}", "path", l->v[i].path, value_key,
                                           (json_int_t)l->v[i].value));
    put(obj, key, a);
}

static json_t *blkio(const struct compose_blkio *b)
{
    json_t *o = json_object();
    put_int(o, "weight", b->weight);
    put_blkio_list(o, "weight_device", "weight", &b->weight_device);
    put_blkio_list(o, "device_read_bps", "rate", &b->device_read_bps);
    put_blkio_list(o, "device_write_bps", "rate", &b->device_write_bps);
    put_blkio_list(o, "device_read_iops", "rate", &b->device_read_iops);
    put_blkio_list(o, "device_write_iops", "rate", &b->device_write_iops);
    return o;
}

static json_t *develop(const struct compose_service *s)
{
    json_t *o = json_object();
    if (s->n_develop_watch) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_develop_watch; i++) {
            const struct compose_watch *w = &s->develop_watch[i];
            json_t *r = json_object();
            put_str(r, "path", w->path);
            put_str(r, "action", w->action);
            put_str(r, "target", w->target);
            put_strv(r, "ignore", &w->ignore);
            put_strv(r, "include", &w->include);
            put_bool(r, "initial_sync", w->initial_sync);
            if (w->exec.command.n)
                put(r, "exec", hook(&w->exec));
            json_array_append_new(a, r);
        }
        put(o, "watch", a);
    }
    return o;
}

static json_t *update_config(const struct compose_update_config *u)
{
    json_t *o = json_object();
    put_int(o, "parallelism", u->parallelism);
    if (u->delay)
        put_duration(o, "delay", u->delay);
    put_str(o, "failure_action", u->failure_action);
    if (u->monitor)
        put_duration(o, "monitor", u->monitor);
    put_double(o, "max_failure_ratio", u->max_failure_ratio);
    put_str(o, "order", u->order);
    return o;
}

static json_t *deploy(const struct compose_deploy *d)
{
    json_t *o = json_object();
    put_str(o, "mode", d->mode);
    put_int(o, "replicas", d->replicas);
    put_kvv(o, "labels", &d->labels);
    json_t *res = json_object();
    json_t *lim = resources(&d->limits), *resv = resources(&d->reservations);
    if (json_object_size(lim))
        put(res, "limits", lim);
    else
        json_decref(lim);
    if (json_object_size(resv))
        put(res, "reservations", resv);
    else
        json_decref(resv);
    if (json_object_size(res))
        put(o, "resources", res);
    else
        json_decref(res);
    const struct compose_restart_policy *rp = &d->restart_policy;
    if (rp->condition || rp->delay != COMPOSE_UNSET || rp->max_attempts != COMPOSE_UNSET ||
        rp->window != COMPOSE_UNSET) {
        json_t *r = json_object();
        put_str(r, "condition", rp->condition);
        put_duration(r, "delay", rp->delay);
        put_int(r, "max_attempts", rp->max_attempts);
        put_duration(r, "window", rp->window);
        put(o, "restart_policy", r);
    }
    if (d->update_config.set)
        put(o, "update_config", update_config(&d->update_config));
    if (d->rollback_config.set)
        put(o, "rollback_config", update_config(&d->rollback_config));
    if (d->placement_constraints.n || d->placement_preferences.n ||
        d->max_replicas_per_node != COMPOSE_UNSET) {
        json_t *pl = json_object();
        put_strv(pl, "constraints", &d->placement_constraints);
        if (d->placement_preferences.n) {
            json_t *prefs = json_array();
            for (size_t i = 0; i < d->placement_preferences.n; i++) {
                const char *s = d->placement_preferences.v[i];
                const char *eq = strchr(s, '=');
                json_array_append_new(prefs, json_pack("{s:s}", "spread", eq ? eq + 1 : s));
            }
            put(pl, "preferences", prefs);
        }
        put_int(pl, "max_replicas_per_node", d->max_replicas_per_node);
        put(o, "placement", pl);
    }
    put_str(o, "endpoint_mode", d->endpoint_mode);
    return o;
}

static json_t *build(const struct compose_build *b)
{
    json_t *o = json_object();
    put_str(o, "context", b->context);
    put_str(o, "dockerfile",
            b->dockerfile ? b->dockerfile : (b->dockerfile_inline ? NULL : "Dockerfile"));
    put_str(o, "dockerfile_inline", b->dockerfile_inline);
    put_kvv(o, "args", &b->args);
    put_str(o, "target", b->target);
    put_kvv(o, "labels", &b->labels);
    put_strv(o, "cache_from", &b->cache_from);
    put_strv(o, "cache_to", &b->cache_to);
    put_str(o, "network", b->network);
    put_int(o, "shm_size", b->shm_size);
    put_strv(o, "extra_hosts", &b->extra_hosts);
    put_strv(o, "ssh", &b->ssh);
    if (b->n_secrets)
        put(o, "secrets", file_refs(b->secrets, b->n_secrets));
    put_strv(o, "tags", &b->tags);
    put_strv(o, "platforms", &b->platforms);
    put_bool(o, "no_cache", b->no_cache);
    put_bool(o, "pull", b->pull);
    put_kvv(o, "additional_contexts", &b->additional_contexts);
    put_bool(o, "privileged", b->privileged);
    put_strv(o, "entitlements", &b->entitlements);
    put_str(o, "provenance", b->provenance);
    put_str(o, "sbom", b->sbom);
    put_str(o, "isolation", b->isolation);
    if (b->n_ulimits)
        put(o, "ulimits", ulimits(b->ulimits, b->n_ulimits));
    return o;
}

static json_t *service_networks(const struct compose_service *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->n_networks; i++) {
        const struct compose_service_network *n = &s->networks[i];
        json_t *v = json_object();
        put_strv(v, "aliases", &n->aliases);
        put_str(v, "ipv4_address", n->ipv4_address);
        put_str(v, "ipv6_address", n->ipv6_address);
        put_strv(v, "link_local_ips", &n->link_local_ips);
        put_str(v, "mac_address", n->mac_address);
        if (n->priority)
            put(v, "priority", json_integer(n->priority));
        put_kvv(v, "driver_opts", &n->driver_opts);
        if (n->gw_priority)
            put(v, "gw_priority", json_integer(n->gw_priority));
        put_str(v, "interface_name", n->interface_name);
        if (json_object_size(v) == 0) {
            json_decref(v);
            v = json_null();
        }
        put(o, n->key, v);
    }
    return o;
}

static json_t *healthcheck(const struct compose_healthcheck *h)
{
    json_t *o = json_object();
    if (h->disable && (!h->test.n || strcmp(h->test.v[0], "NONE") != 0))
        put(o, "disable", json_true());
    put_strv(o, "test", &h->test);
    put_duration(o, "interval", h->interval);
    put_duration(o, "timeout", h->timeout);
    put_duration(o, "start_period", h->start_period);
    put_duration(o, "start_interval", h->start_interval);
    put_int(o, "retries", h->retries);
    return o;
}

static json_t *service(const struct compose_service *s)
{
    json_t *o = json_object();
    put_str(o, "image", s->image);
    if (s->build)
        put(o, "build", build(s->build));
    put_str(o, "pull_policy", s->pull_policy);
    put_str(o, "platform", s->platform);
    put_str(o, "container_name", s->container_name);
    put_str(o, "hostname", s->hostname);
    put_str(o, "domainname", s->domainname);
    put_str(o, "user", s->user);
    put_str(o, "working_dir", s->working_dir);
    put_str(o, "restart", s->restart);
    put_str(o, "stop_signal", s->stop_signal);
    put_duration(o, "stop_grace_period", s->stop_grace_period);
    put_str(o, "network_mode", s->network_mode);
    put_str(o, "ipc", s->ipc);
    put_str(o, "pid", s->pid);
    put_str(o, "cgroup", s->cgroup);
    put_str(o, "cgroup_parent", s->cgroup_parent);
    put_str(o, "userns_mode", s->userns_mode);
    put_str(o, "mac_address", s->mac_address);
    if (s->init != COMPOSE_TRI_UNSET)
        put(o, "init", json_boolean(s->init == COMPOSE_TRI_TRUE));
    put_bool(o, "privileged", s->privileged);
    put_bool(o, "read_only", s->read_only);
    put_bool(o, "tty", s->tty);
    put_bool(o, "stdin_open", s->stdin_open);
    if (s->has_command)
        put(o, "command", strv(&s->command));
    if (s->has_entrypoint)
        put(o, "entrypoint", strv(&s->entrypoint));
    put_kvv(o, "environment", &s->environment);
    put_kvv(o, "labels", &s->labels);
    put_kvv(o, "annotations", &s->annotations);
    put_kvv(o, "sysctls", &s->sysctls);
    put_kvv(o, "storage_opt", &s->storage_opt);
    if (s->n_ports) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_ports; i++)
            json_array_append_new(a, port(&s->ports[i]));
        put(o, "ports", a);
    }
    put_strv(o, "expose", &s->expose);
    if (s->n_volumes) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_volumes; i++)
            json_array_append_new(a, mount(&s->volumes[i]));
        put(o, "volumes", a);
    }
    put_strv(o, "tmpfs", &s->tmpfs);
    if (s->n_devices) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_devices; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "source", s->devices[i].source,
                                               "target", s->devices[i].target, "permissions",
                                               s->devices[i].permissions));
        put(o, "devices", a);
    }
    put_strv(o, "volumes_from", &s->volumes_from);
    put_strv(o, "links", &s->links);
    put_strv(o, "external_links", &s->external_links);
    put_strv(o, "dns", &s->dns);
    put_strv(o, "dns_search", &s->dns_search);
    put_strv(o, "dns_opt", &s->dns_opt);
    put_strv(o, "extra_hosts", &s->extra_hosts);
    put_strv(o, "cap_add", &s->cap_add);
    put_strv(o, "cap_drop", &s->cap_drop);
    put_strv(o, "security_opt", &s->security_opt);
    put_strv(o, "group_add", &s->group_add);
    put_strv(o, "profiles", &s->profiles);
    if (s->n_ulimits)
        put(o, "ulimits", ulimits(s->ulimits, s->n_ulimits));
    if (s->n_depends_on) {
        json_t *d = json_object();
        for (size_t i = 0; i < s->n_depends_on; i++) {
            const struct compose_dependency *dep = &s->depends_on[i];
            put(d, dep->service,
                json_pack("{s:s, s:b, s:b}", "condition", conditions[dep->condition], "required",
                          dep->required, "restart", dep->restart));
        }
        put(o, "depends_on", d);
    }
    if (s->n_networks)
        put(o, "networks", service_networks(s));
    if (s->n_secrets)
        put(o, "secrets", file_refs(s->secrets, s->n_secrets));
    if (s->n_configs)
        put(o, "configs", file_refs(s->configs, s->n_configs));
    if (s->healthcheck.set)
        put(o, "healthcheck", healthcheck(&s->healthcheck));
    if (s->logging.driver || s->logging.options.n) {
        json_t *l = json_object();
        put_str(l, "driver", s->logging.driver);
        put_kvv(l, "options", &s->logging.options);
        put(o, "logging", l);
    }
    if (s->deploy.set)
        put(o, "deploy", deploy(&s->deploy));
    put_int(o, "scale", s->scale);
    put_int(o, "mem_limit", s->mem_limit);
    put_int(o, "memswap_limit", s->memswap_limit);
    put_int(o, "mem_reservation", s->mem_reservation);
    put_int(o, "shm_size", s->shm_size);
    put_double(o, "cpus", s->cpus);
    put_int(o, "cpu_shares", s->cpu_shares);
    put_int(o, "cpu_quota", s->cpu_quota);
    put_int(o, "cpu_period", s->cpu_period);
    put_str(o, "cpuset", s->cpuset);
    put_int(o, "pids_limit", s->pids_limit);
    if (s->oom_score_adj)
        put(o, "oom_score_adj", json_integer(s->oom_score_adj));
    put_bool(o, "oom_kill_disable", s->oom_kill_disable);
    put_int(o, "cpu_count", s->cpu_count);
    put_int(o, "cpu_percent", s->cpu_percent);
    put_int(o, "cpu_rt_period", s->cpu_rt_period);
    put_int(o, "cpu_rt_runtime", s->cpu_rt_runtime);
    put_int(o, "mem_swappiness", s->mem_swappiness);
    if (s->blkio_config.set)
        put(o, "blkio_config", blkio(&s->blkio_config));
    put_strv(o, "device_cgroup_rules", &s->device_cgroup_rules);
    if (s->gpus_all)
        put_str(o, "gpus", "all");
    else if (s->n_gpus)
        put(o, "gpus", device_requests(s->gpus, s->n_gpus));
    put_str(o, "isolation", s->isolation);
    put_str(o, "runtime", s->runtime);
    put_str(o, "uts", s->uts);
    if (s->credential_spec.config || s->credential_spec.file || s->credential_spec.registry) {
        json_t *c = json_object();
        put_str(c, "config", s->credential_spec.config);
        put_str(c, "file", s->credential_spec.file);
        put_str(c, "registry", s->credential_spec.registry);
        put(o, "credential_spec", c);
    }
    put_strv(o, "label_file", &s->label_files);
    if (s->attach != COMPOSE_TRI_UNSET)
        put(o, "attach", json_boolean(s->attach == COMPOSE_TRI_TRUE));
    put_hooks(o, "post_start", s->post_start, s->n_post_start);
    put_hooks(o, "pre_stop", s->pre_stop, s->n_pre_stop);
    if (s->has_develop)
        put(o, "develop", develop(s));
    if (s->x_ccompose.restart_on_unhealthy)
        put(o, "x-ccompose", json_pack("{s:b}", "restart_on_unhealthy", 1));
    return o;
}

static json_t *network(const struct compose_network *n)
{
    json_t *o = json_object();
    put_str(o, "name", n->name);
    put_str(o, "driver", n->driver);
    put_kvv(o, "driver_opts", &n->driver_opts);
    if (n->ipam_driver || n->n_ipam_config || n->ipam_options.n) {
        json_t *ipam = json_object();
        put_str(ipam, "driver", n->ipam_driver);
        if (n->n_ipam_config) {
            json_t *a = json_array();
            for (size_t i = 0; i < n->n_ipam_config; i++) {
                const struct compose_ipam_config *c = &n->ipam_config[i];
                json_t *co = json_object();
                put_str(co, "subnet", c->subnet);
                put_str(co, "ip_range", c->ip_range);
                put_str(co, "gateway", c->gateway);
                put_kvv(co, "aux_addresses", &c->aux_addresses);
                json_array_append_new(a, co);
            }
            put(ipam, "config", a);
        }
        put_kvv(ipam, "options", &n->ipam_options);
        put(o, "ipam", ipam);
    }
    put_bool(o, "external", n->external);
    put_bool(o, "internal", n->internal);
    put_bool(o, "attachable", n->attachable);
    if (n->enable_ipv6 != COMPOSE_TRI_UNSET)
        put(o, "enable_ipv6", json_boolean(n->enable_ipv6 == COMPOSE_TRI_TRUE));
    if (n->enable_ipv4 != COMPOSE_TRI_UNSET)
        put(o, "enable_ipv4", json_boolean(n->enable_ipv4 == COMPOSE_TRI_TRUE));
    put_kvv(o, "labels", &n->labels);
    return o;
}

static json_t *volume(const struct compose_volume *v)
{
    json_t *o = json_object();
    put_str(o, "name", v->name);
    put_str(o, "driver", v->driver);
    put_kvv(o, "driver_opts", &v->driver_opts);
    put_bool(o, "external", v->external);
    put_kvv(o, "labels", &v->labels);
    return o;
}

static json_t *file_defs(const struct compose_file_def *v, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_object();
        put_str(d, "name", v[i].name);
        put_str(d, "file", v[i].file);
        put_str(d, "environment", v[i].environment);
        put_str(d, "content", v[i].content);
        put_bool(d, "external", v[i].external);
        put_kvv(d, "labels", &v[i].labels);
        put_str(d, "driver", v[i].driver);
        put_kvv(d, "driver_opts", &v[i].driver_opts);
        put_str(d, "template_driver", v[i].template_driver);
        put(o, v[i].key, d);
    }
    return o;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends s with every '$' doubled, so that reading it again (which interpolates) gives s. */
static void add_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '$')
            buf_addc(b, '$');
        buf_addc(b, *s);
    }
}

static json_t *escaped(const char *s)
{
    if (!strchr(s, '$'))
        return json_string_nocheck(s);
    struct buf b = BUF_INIT;
    add_escaped(&b, s);
    json_t *r = json_string_nocheck(buf_str(&b));
    buf_release(&b);
    return r;
}

/* A copy of v with every object's keys in sorted order (jansson keeps insertion order) and,
 * with escape, every '$' of string values doubled (keys are not interpolated). */
static json_t *sorted(json_t *v, bool escape)
{
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, sorted(x, escape));
        return a;
    }
    if (json_is_string(v) && escape)
        return escaped(json_string_value(v));
    if (!json_is_object(v))
        return json_incref(v);
    size_t n = json_object_size(v), i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_keys);
    json_t *o = json_object();
    for (i = 0; i < n; i++)
        json_object_set_new_nocheck(o, keys[i], sorted(json_object_get(v, keys[i]), escape));
    free(keys);
    return o;
}

/* A top-level section of the project: its entries (an array of the model's structs), where each
 * one's key is, and how to make an entry's tree (new), which happens only when it is written. */
struct section {
    const char *name;
    size_t n;
    const void *items;
    size_t size;
    size_t key_offset;
    json_t *(*tree)(const void *item);
};

static json_t *service_item(const void *item)
{
    return service(item);
}

static json_t *network_item(const void *item)
{
    return network(item);
}

static json_t *volume_item(const void *item)
{
    return volume(item);
}

/* services, networks and volumes, in docker compose's order; returns how many. */
static size_t project_sections(const struct compose_project *p, struct section out[3])
{
    out[0] = (struct section){"services", p->n_services, p->services, sizeof(*p->services),
                              offsetof(struct compose_service, name), service_item};
    out[1] = (struct section){"networks", p->n_networks, p->networks, sizeof(*p->networks),
                              offsetof(struct compose_network, key), network_item};
    out[2] = (struct section){"volumes", p->n_volumes, p->volumes, sizeof(*p->volumes),
                              offsetof(struct compose_volume, key), volume_item};
    return 3;
}

static const void *section_item(const struct section *sec, size_t i)
{
    return (const char *)sec->items + i * sec->size;
}

static const char *section_key(const struct section *sec, size_t i)
{
    return *(const char *const *)((const char *)section_item(sec, i) + sec->key_offset);
}

/* services is written even when empty, as docker compose does; the others only when used. */
static bool section_shown(const struct section *sec)
{
    return sec->n || strcmp(sec->name, "services") == 0;
}

static json_t *section_tree(const struct section *sec)
{
    json_t *o = json_object();
    for (size_t i = 0; i < sec->n; i++)
        put(o, section_key(sec, i), sec->tree(section_item(sec, i)));
    return o;
}

static json_t *models(const struct compose_project *p)
{
    json_t *o = json_object();
    for (size_t i = 0; i < p->n_models; i++) {
        const struct compose_model *md = &p->models[i];
        json_t *d = json_object();
        put_str(d, "name", md->name);
        put_str(d, "model", md->model);
        put_int(d, "context_size", md->context_size);
        put_strv(d, "runtime_flags", &md->runtime_flags);
        put(o, md->key, d);
    }
    return o;
}

static json_t *project_tree(const struct compose_project *p)
{
    json_t *root = json_object();
    put_str(root, "name", p->name);
    struct section secs[3];
    for (size_t i = 0, n = project_sections(p, secs); i < n; i++)
        if (section_shown(&secs[i]))
            put(root, secs[i].name, section_tree(&secs[i]));
    if (p->n_secrets)
        put(root, "secrets", file_defs(p->secrets, p->n_secrets));
    if (p->n_configs)
        put(root, "configs", file_defs(p->configs, p->n_configs));
    if (p->n_models)
        put(root, "models", models(p));
    return root;
}

/* root with its values' keys sorted (and '$' doubled with escape), for JSON output: jansson
 * writes objects in insertion order. YAML output sorts while it writes, without this copy. */
static json_t *sorted_below_top(json_t *root, bool escape)
{
    json_t *out = json_object();
    const char *k;
    json_t *x;
    json_object_foreach(root, k, x) json_object_set_new_nocheck(out, k, sorted(x, escape));
    return out;
}

/* ---- the tree as YAML ---- */

/* Whether a string must be quoted to read back as a string: it would resolve to null, a
 * boolean or a number, or reads as a YAML 1.1 boolean to older readers. */
static bool needs_quotes(const char *s)
{
    static const char *const words[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                        "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
    /* Only these first characters can start a null, boolean, number or one of the words: the
     * rest (most strings) need no resolving. */
    if (*s && !strchr("0123456789+-.~nNtTfFyYoO", *s))
        return false;
    struct cnode n = {.kind = CNODE_SCALAR, .style = CNODE_PLAIN, .value = s, .len = strlen(s)};
    if (cnode_resolve(&n).type != CNODE_TYPE_STRING)
        return true;
    for (size_t i = 0; i < CC_ARRAY_LEN(words); i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

struct yemit {
    yaml_emitter_t e;
    bool failed;
    bool sort;   /* keys of objects below the top level in sorted order */
    bool escape; /* every '$' of a string value doubled, so that reading it back gives it */
};

static void yscalar(struct yemit *y, const char *s, bool as_string)
{
    yaml_event_t ev;
    yaml_scalar_style_t style =
        as_string && needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
    if (as_string && strchr(s, '\n'))
        style = YAML_LITERAL_SCALAR_STYLE;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    if (!y->failed && !yaml_emitter_emit(&y->e, &ev))
        y->failed = true;
}

static void yevent(struct yemit *y, yaml_event_t *ev)
{
    if (!y->failed && !yaml_emitter_emit(&y->e, ev))
        y->failed = true;
}

static void ystring(struct yemit *y, const char *s)
{
    if (!y->escape || !strchr(s, '$')) {
        yscalar(y, s, true);
        return;
    }
    struct buf b = BUF_INIT;
    add_escaped(&b, s);
    yscalar(y, buf_str(&b), true);
    buf_release(&b);
}

static void ynode(struct yemit *y, json_t *v, int depth)
{
    yaml_event_t ev;
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        yevent(y, &ev);
        if (y->sort && depth > 0) {
            size_t n = json_object_size(v), i = 0;
            const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
            json_object_foreach(v, k, x) keys[i++] = k;
            qsort(keys, n, sizeof(*keys), cmp_keys);
            for (i = 0; i < n; i++) {
                yscalar(y, keys[i], true);
                ynode(y, json_object_get(v, keys[i]), depth + 1);
            }
            free(keys);
        } else {
            json_object_foreach(v, k, x)
            {
                yscalar(y, k, true);
                ynode(y, x, depth + 1);
            }
        }
        yaml_mapping_end_event_initialize(&ev);
        yevent(y, &ev);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        yevent(y, &ev);
        json_array_foreach(v, i, x) ynode(y, x, depth + 1);
        yaml_sequence_end_event_initialize(&ev);
        yevent(y, &ev);
        break;
    }
    case JSON_STRING:
        ystring(y, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        yscalar(y, buf, false);
        break;
    case JSON_REAL:
        snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
        yscalar(y, buf, false);
        break;
    case JSON_TRUE:
        yscalar(y, "true", false);
        break;
    case JSON_FALSE:
        yscalar(y, "false", false);
        break;
    case JSON_NULL:
        yscalar(y, "null", false);
        break;
    }
}

static int write_buf(void *data, unsigned char *buffer, size_t size)
{
    buf_add(data, buffer, size);
    return 1;
}

struct keyed {
    const char *key;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* The section's name, then its entries in key order, each tree made, written and freed in
 * turn: a large project never has more than one entry's tree in memory. */
static void ysection(struct yemit *y, const struct section *sec)
{
    yaml_event_t ev;
    struct keyed *order = xmalloc((sec->n ? sec->n : 1) * sizeof(*order));
    for (size_t i = 0; i < sec->n; i++)
        order[i] = (struct keyed){.key = section_key(sec, i), .i = i};
    qsort(order, sec->n, sizeof(*order), cmp_keyed);
    yscalar(y, sec->name, true);
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    yevent(y, &ev);
    for (size_t k = 0; k < sec->n; k++) {
        json_t *t = sec->tree(section_item(sec, order[k].i));
        yscalar(y, order[k].key, true);
        ynode(y, t, 2);
        json_decref(t);
    }
    yaml_mapping_end_event_initialize(&ev);
    yevent(y, &ev);
    free(order);
}

/* The project as YAML, written section by section (see ysection()). */
static void yproject(struct yemit *y, const struct compose_project *p)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    yevent(y, &ev);
    yscalar(y, "name", true);
    ystring(y, p->name);
    struct section secs[3];
    for (size_t i = 0, n = project_sections(p, secs); i < n; i++)
        if (section_shown(&secs[i]))
            ysection(y, &secs[i]);
    const struct {
        const char *name;
        const struct compose_file_def *v;
        size_t n;
    } defs[] = {{"secrets", p->secrets, p->n_secrets}, {"configs", p->configs, p->n_configs}};
    for (size_t i = 0; i < CC_ARRAY_LEN(defs); i++) {
        if (!defs[i].n)
            continue;
        json_t *t = file_defs(defs[i].v, defs[i].n);
        yscalar(y, defs[i].name, true);
        ynode(y, t, 1);
        json_decref(t);
    }
    if (p->n_models) {
        json_t *t = models(p);
        yscalar(y, "models", true);
        ynode(y, t, 1);
        json_decref(t);
    }
    yaml_mapping_end_event_initialize(&ev);
    yevent(y, &ev);
}

/* Writes a YAML document whose content body(y, arg) writes, to OUT when it is not NULL, else
 * into B. Returns -1 if libyaml failed (OUT may then hold part of the document). */
static int emit_yaml(void (*body)(struct yemit *y, const void *arg), const void *arg, bool sort,
                     bool escape, FILE *out, struct buf *b)
{
    struct yemit y = {.failed = false, .sort = sort, .escape = escape};
    yaml_event_t ev;
    yaml_emitter_initialize(&y.e);
    if (out)
        yaml_emitter_set_output_file(&y.e, out);
    else
        yaml_emitter_set_output(&y.e, write_buf, b);
    yaml_emitter_set_unicode(&y.e, 1);
    yaml_emitter_set_width(&y.e, -1);
    yaml_emitter_set_indent(&y.e, 2);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yevent(&y, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    yevent(&y, &ev);
    body(&y, arg);
    yaml_document_end_event_initialize(&ev, 1);
    yevent(&y, &ev);
    yaml_stream_end_event_initialize(&ev);
    yevent(&y, &ev);
    if (!yaml_emitter_flush(&y.e))
        y.failed = true;
    yaml_emitter_delete(&y.e);
    return y.failed ? -1 : 0;
}

/* A YAML document whose content body(y, arg) writes; NULL if libyaml failed. */
static char *to_yaml(void (*body)(struct yemit *y, const void *arg), const void *arg, bool sort,
                     bool escape)
{
    struct buf b = BUF_INIT;
    if (emit_yaml(body, arg, sort, escape, NULL, &b) < 0) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

static void ytree_body(struct yemit *y, const void *arg)
{
    ynode(y, (json_t *)arg, 0);
}

static void yproject_body(struct yemit *y, const void *arg)
{
    yproject(y, arg);
}

/* ---- the merged tree, uninterpolated ---- */

static json_t *tree_json(const struct cnode *n)
{
    if (n->kind == CNODE_MAPPING) {
        json_t *o = json_object();
        for (size_t i = 0; i < n->npairs; i++)
            json_object_set_new_nocheck(o, n->pairs[i].key->value, tree_json(n->pairs[i].value));
        return o;
    }
    if (n->kind == CNODE_SEQUENCE) {
        json_t *a = json_array();
        for (size_t i = 0; i < n->nitems; i++)
            json_array_append_new(a, tree_json(n->items[i]));
        return a;
    }
    struct cnode_scalar v = cnode_resolve(n);
    switch (v.type) {
    case CNODE_TYPE_NULL:
        return json_null();
    case CNODE_TYPE_BOOL:
        return json_boolean(v.b);
    case CNODE_TYPE_INT:
        return json_integer(v.i);
    case CNODE_TYPE_FLOAT:
        if (v.f == v.f && v.f - v.f == 0) /* JSON has no NaN or infinities */
            return json_real(v.f);
        return json_string_nocheck(n->value);
    default:
        return json_string_nocheck(n->value);
    }
}

/* tree as JSON, the caller frees it. */
static char *to_json(json_t *tree)
{
    char *s = json_dumps(tree, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *out = s ? xasprintf("%s\n", s) : NULL;
    free(s);
    return out;
}

int compose_config_dump_raw(const struct compose_load_options *opts,
                            enum compose_dump_format format, char **ret, struct compose_diag *diag,
                            struct cc_error *reterr)
{
    struct compose_project *p = xcalloc(1, sizeof(*p));
    struct asm_vars vars = {0};
    struct cnode *root;
    struct compose_load_options o = *opts;
    int r = -1;
    arena_init(&p->arena);
    o.no_interpolate = true;
    struct compose_load_ctx ctx = {.project = p, .opts = &o, .diag = diag};
    if (compose_assemble(&ctx, &vars, &root, reterr) < 0) {
        compose_diag_add_error(diag, reterr);
        goto out;
    }
    json_t *tree = json_object();
    json_object_set_new_nocheck(tree, "name", json_string_nocheck(p->name));
    for (size_t i = 0; i < root->npairs; i++) {
        const char *k = root->pairs[i].key->value;
        if (strcmp(k, "name") != 0 && strcmp(k, "version") != 0)
            json_object_set_new_nocheck(tree, k, tree_json(root->pairs[i].value));
    }
    char *out = format == COMPOSE_DUMP_JSON ? to_json(tree) : to_yaml(ytree_body, tree, false, false);
    json_decref(tree);
    if (!out) {
        cc_error_set(reterr, CC_ERR_FAILED, "cannot write the project");
        goto out;
    }
    *ret = out;
    r = 0;
out:
    asm_vars_release(&vars);
    compose_project_free(p);
    return r;
}

int compose_project_write(const struct compose_project *p, enum compose_dump_format format,
                          enum compose_dump_flags flags, FILE *out, struct cc_error *reterr)
{
    if (format == COMPOSE_DUMP_YAML) {
        if (emit_yaml(yproject_body, p, true, !(flags & COMPOSE_DUMP_RAW), out, NULL) < 0)
            return cc_error_set(reterr, CC_ERR_FAILED, "cannot write the project as YAML");
        return 0;
    }
    char *text = NULL;
    if (compose_project_dump(p, format, flags, &text, reterr) < 0)
        return -1;
    fputs(text, out);
    free(text);
    return 0;
}

int compose_project_dump(const struct compose_project *p, enum compose_dump_format format,
                         enum compose_dump_flags flags, char **ret, struct cc_error *reterr)
{
    bool escape = !(flags & COMPOSE_DUMP_RAW);
    char *out;
    if (format == COMPOSE_DUMP_JSON) {
        json_t *root = project_tree(p);
        json_t *tree = sorted_below_top(root, escape);
        out = to_json(tree);
        json_decref(tree);
        json_decref(root);
    } else {
        out = to_yaml(yproject_body, p, true, escape);
    }
    if (!out)
        return cc_error_set(reterr, CC_ERR_FAILED, "cannot write the project as %s",
                            format == COMPOSE_DUMP_JSON ? "JSON" : "YAML");
    *ret = out;
    return 0;
}
