/* A compose model as swarm specs: ServiceSpec per service, overlay networks, secrets and configs,
 * following docker stack deploy's conversion (docker/cli cli/compose/convert) for Engine API 1.41.
 * Values that containers and services share (environment, health checks, ports) are mapped by
 * body.c's helpers, so `up` and `stack deploy` read a model the same way. docs/stack.md lists
 * what is mapped, what is not, and where ccompose differs from docker. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "scheduler/body.h"
#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"
#include "scheduler/stack-internal.h"

char *sched_stack_service_name(const struct compose_project *p, const struct compose_service *s)
{
    return xasprintf("%s_%s", p->name, s->name);
}

/* The user's labels with the namespace over them. */
static json_t *labels_with_namespace(const struct compose_project *p, const struct compose_kvv *kv)
{
    json_t *o = sched_json_kvv(kv);
    json_object_set_new(o, SCHED_STACK_LABEL_NAMESPACE, json_string(p->name));
    return o;
}

static void put_ns(json_t *o, const char *key, int64_t ns)
{
    sched_json_put_i64(o, key, ns);
}

/* ---- What swarm cannot honour -------------------------------------------------------------- */

static void warn(json_t *warnings, const struct compose_service *s, const char *key,
                 const char *why)
{
    if (!warnings)
        return;
    char *w = xasprintf("services.%s.%s: %s", s->name, key, why);
    json_array_append_new(warnings, json_string(w));
    free(w);
}

/* Keys docker stack deploy reports as unsupported (and a few it ignores without a word). */
static void warn_unsupported(const struct compose_service *s, json_t *w)
{
    static const char unsupported[] = "not supported in swarm mode, ignoring";
    struct {
        const char *key;
        bool set;
    } keys[] = {
        {"build", s->build != NULL},
        {"container_name", s->container_name != NULL},
        /* Restart policies and health checks do the ordering's work in a swarm. */
        {"depends_on", s->n_depends_on > 0},
        {"links", s->links.n > 0},
        {"external_links", s->external_links.n > 0},
        {"network_mode", s->network_mode != NULL},
        {"privileged", s->privileged},
        {"devices", s->n_devices > 0},
        {"cgroup_parent", s->cgroup_parent != NULL},
        {"cgroup", s->cgroup != NULL},
        {"security_opt", s->security_opt.n > 0},
        {"userns_mode", s->userns_mode != NULL},
        {"volumes_from", s->volumes_from.n > 0},
        {"ipc", s->ipc != NULL},
        {"pid", s->pid != NULL},
        {"mac_address", s->mac_address != NULL},
        {"domainname", s->domainname != NULL},
        {"shm_size", s->shm_size != COMPOSE_UNSET},
        {"tmpfs", s->tmpfs.n > 0},
        {"mem_limit", s->mem_limit != COMPOSE_UNSET},
        {"memswap_limit", s->memswap_limit != COMPOSE_UNSET},
        {"mem_reservation", s->mem_reservation != COMPOSE_UNSET},
        {"cpus", s->cpus > 0},
        {"cpu_shares", s->cpu_shares != COMPOSE_UNSET},
        {"cpu_quota", s->cpu_quota != COMPOSE_UNSET},
        {"cpu_period", s->cpu_period != COMPOSE_UNSET},
        {"cpuset", s->cpuset != NULL},
        {"pids_limit", s->pids_limit != COMPOSE_UNSET},
        {"oom_score_adj", s->oom_score_adj != 0},
        {"oom_kill_disable", s->oom_kill_disable},
        {"storage_opt", s->storage_opt.n > 0},
        {"platform", s->platform != NULL},
        {"scale", s->scale != COMPOSE_UNSET},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(keys); i++)
        if (keys[i].set)
            warn(w, s, keys[i].key, unsupported);
    if (s->expose.n)
        warn(w, s, "expose", "not needed in swarm mode (a network reaches every port), ignoring");
}

/* ---- ContainerSpec ------------------------------------------------------------------------- */

/* Mounts as containers get them (binds included: swarm never creates a missing host path), and
 * named volumes with what each node's engine needs to create them when a task first mounts one
 * (swarm has no volume create of its own): the stack's labels and the driver. */
static int add_mounts(const struct compose_project *p, const struct compose_service *s, json_t *cs,
                      struct cc_error *reterr)
{
    if (!s->n_volumes)
        return 0;
    json_t *mounts = json_array();
    json_object_set_new(cs, "Mounts", mounts);
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct compose_mount *m = &s->volumes[i];
        const struct compose_volume *v =
            m->type == COMPOSE_MOUNT_VOLUME && m->source ? compose_project_volume(p, m->source)
                                                         : NULL;
        if (m->type == COMPOSE_MOUNT_VOLUME && m->source && !v)
            return sched_service_error(reterr, s, &m->pos, "volumes",
                                       "'%s' in volumes is not a volume", m->source);
        json_t *o = sched_json_mount(p, m);
        if (!o)
            return sched_service_error(reterr, s, &m->pos, "volumes",
                                       "%s '%s' needs Engine API %s, ccompose speaks 1.41",
                                       m->type == COMPOSE_MOUNT_IMAGE ? "image mount of"
                                                                      : "cluster volume",
                                       m->source ? m->source : m->target,
                                       m->type == COMPOSE_MOUNT_IMAGE ? "1.48" : "1.42");
        json_array_append_new(mounts, o);
        if (!v || v->external)
            continue;
        json_t *vo = json_object_get(o, "VolumeOptions");
        if (!vo) {
            vo = json_object();
            json_object_set_new(o, "VolumeOptions", vo);
        }
        json_object_set_new(vo, "Labels", labels_with_namespace(p, &v->labels));
        if (v->driver || v->driver_opts.n) {
            json_t *dc = json_object();
            sched_json_put_str(dc, "Name", v->driver);
            sched_json_put_kvv(dc, "Options", &v->driver_opts);
            json_object_set_new(vo, "DriverConfig", dc);
        }
    }
    return 0;
}

/* Secrets and configs: {"File": {Name, UID, GID, Mode}, "<Kind>ID", "<Kind>Name"}. Swarm puts a
 * secret at /run/secrets/<Name>, so the model's default target comes back to its bare name;
 * configs take the absolute target as it is. */
static int add_file_refs(const struct compose_service *s, json_t *cs,
                         const struct compose_file_ref *refs, size_t n,
                         const struct compose_file_def *defs, size_t n_defs, json_t *ids,
                         const char *kind, const char *key, const char *field, bool secret,
                         struct cc_error *reterr)
{
    if (!n)
        return 0;
    json_t *a = json_array();
    json_object_set_new(cs, field, a);
    for (size_t i = 0; i < n; i++) {
        const struct compose_file_ref *r = &refs[i];
        const struct compose_file_def *d = NULL;
        for (size_t k = 0; k < n_defs && !d; k++)
            if (!strcmp(defs[k].key, r->source))
                d = &defs[k];
        if (!d)
            return sched_service_error(reterr, s, &r->pos, key, "%s '%s' is not defined", kind,
                                       r->source);
        const char *id = json_string_value(json_object_get(json_object_get(ids, key), d->name));
        if (!id)
            return sched_service_error(reterr, s, &r->pos, key, "%s '%s' does not exist", kind,
                                       d->name);
        const char *target = r->target ? r->target : r->source;
        if (secret && !strncmp(target, "/run/secrets/", 13))
            target += 13;
        json_t *file = json_pack("{s:s, s:s, s:s, s:i}", "Name", target, "UID",
                                 r->uid ? r->uid : "0", "GID", r->gid ? r->gid : "0", "Mode",
                                 r->mode != COMPOSE_UNSET ? r->mode : 0444);
        char id_key[16], name_key[16];
        snprintf(id_key, sizeof(id_key), "%sID", secret ? "Secret" : "Config");
        snprintf(name_key, sizeof(name_key), "%sName", secret ? "Secret" : "Config");
        json_array_append_new(a, json_pack("{s:o, s:s, s:s}", "File", file, id_key, id, name_key,
                                           d->name));
    }
    return 0;
}

/* extra_hosts "host:ip" as swarm's "ip host" lines. */
static void add_hosts(const struct compose_service *s, json_t *cs)
{
    if (!s->extra_hosts.n)
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < s->extra_hosts.n; i++) {
        const char *h = s->extra_hosts.v[i];
        const char *sep = strchr(h, ':');
        char *line = sep ? xasprintf("%s %.*s", sep + 1, (int)(sep - h), h) : xstrdup(h);
        json_array_append_new(a, json_string(line));
        free(line);
    }
    json_object_set_new(cs, "Hosts", a);
}

static json_t *container_spec(const struct compose_project *p, const struct compose_service *s,
                              json_t *ids, struct cc_error *reterr)
{
    json_t *cs = json_object();
    sched_json_put_str(cs, "Image", s->image);
    /* Swarm's Command is the image's entrypoint, its Args the command. */
    if (s->has_entrypoint)
        json_object_set_new(cs, "Command", sched_json_strv(&s->entrypoint));
    if (s->has_command)
        json_object_set_new(cs, "Args", sched_json_strv(&s->command));
    json_object_set_new(cs, "Labels", labels_with_namespace(p, &s->labels));
    json_t *env = sched_json_env(&s->environment);
    if (json_array_size(env))
        json_object_set_new(cs, "Env", env);
    else
        json_decref(env);
    sched_json_put_str(cs, "Dir", s->working_dir);
    sched_json_put_str(cs, "User", s->user);
    sched_json_put_str(cs, "Hostname", s->hostname);
    sched_json_put_strv(cs, "Groups", &s->group_add);
    if (s->tty)
        json_object_set_new(cs, "TTY", json_true());
    if (s->stdin_open)
        json_object_set_new(cs, "OpenStdin", json_true());
    if (s->read_only)
        json_object_set_new(cs, "ReadOnly", json_true());
    if (s->init != COMPOSE_TRI_UNSET)
        json_object_set_new(cs, "Init", json_boolean(s->init == COMPOSE_TRI_TRUE));
    put_ns(cs, "StopGracePeriod", s->stop_grace_period);
    sched_json_put_str(cs, "StopSignal", s->stop_signal);
    if (s->healthcheck.set)
        json_object_set_new(cs, "Healthcheck", sched_json_healthcheck(&s->healthcheck));
    add_hosts(s, cs);
    if (s->dns.n || s->dns_search.n || s->dns_opt.n) {
        json_t *dns = json_object();
        sched_json_put_strv(dns, "Nameservers", &s->dns);
        sched_json_put_strv(dns, "Search", &s->dns_search);
        sched_json_put_strv(dns, "Options", &s->dns_opt);
        json_object_set_new(cs, "DNSConfig", dns);
    }
    sched_json_put_kvv(cs, "Sysctls", &s->sysctls);
    sched_json_put_strv(cs, "CapabilityAdd", &s->cap_add);
    sched_json_put_strv(cs, "CapabilityDrop", &s->cap_drop);
    if (s->n_ulimits) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_ulimits; i++)
            json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name", s->ulimits[i].name,
                                               "Soft", (json_int_t)s->ulimits[i].soft, "Hard",
                                               (json_int_t)s->ulimits[i].hard));
        json_object_set_new(cs, "Ulimits", a);
    }
    if (add_mounts(p, s, cs, reterr) < 0 ||
        add_file_refs(s, cs, s->secrets, s->n_secrets, p->secrets, p->n_secrets, ids, "secret",
                      "secrets", "Secrets", true, reterr) < 0 ||
        add_file_refs(s, cs, s->configs, s->n_configs, p->configs, p->n_configs, ids, "config",
                      "configs", "Configs", false, reterr) < 0) {
        json_decref(cs);
        return NULL;
    }
    return cs;
}

/* ---- TaskTemplate and service-level settings ---------------------------------------------- */

static json_t *resources_json(const struct compose_resources *r, bool pids)
{
    json_t *o = json_object();
    if (r->cpus > 0)
        json_object_set_new(o, "NanoCPUs", json_integer((json_int_t)llround(r->cpus * 1e9)));
    sched_json_put_i64(o, "MemoryBytes", r->memory);
    if (pids)
        sched_json_put_i64(o, "Pids", r->pids);
    if (r->n_generic_resources) {
        json_t *a = json_array();
        for (size_t i = 0; i < r->n_generic_resources; i++)
            json_array_append_new(a, json_pack("{s:{s:s, s:I}}", "DiscreteResourceSpec", "Kind",
                                               r->generic_resources[i].kind, "Value",
                                               (json_int_t)r->generic_resources[i].value));
        json_object_set_new(o, "GenericResources", a);
    }
    return o;
}

static void add_resources(const struct compose_service *s, json_t *tt)
{
    json_t *lim = resources_json(&s->deploy.limits, true);
    json_t *res = resources_json(&s->deploy.reservations, false);
    if (!json_object_size(lim) && !json_object_size(res)) {
        json_decref(lim);
        json_decref(res);
        return;
    }
    json_object_set_new(tt, "Resources", json_pack("{s:o, s:o}", "Limits", lim, "Reservations",
                                                   res));
}

/* deploy.restart_policy, else restart: mapped as docker does ("always" and "unless-stopped" are
 * "any"), but for "no", which docker leaves to swarm's default (any) and ccompose keeps "none". */
static int add_restart(const struct compose_service *s, json_t *tt, struct cc_error *reterr)
{
    const struct compose_restart_policy *rp = &s->deploy.restart_policy;
    json_t *o = json_object();
    const char *cond = rp->condition;
    int max = rp->max_attempts;
    if (!cond && s->restart) {
        if (!strcmp(s->restart, "always") || !strcmp(s->restart, "unless-stopped")) {
            cond = "any";
        } else if (!strcmp(s->restart, "no")) {
            cond = "none";
        } else if (!strncmp(s->restart, "on-failure", 10)) {
            cond = "on-failure";
            if (s->restart[10] == ':')
                max = atoi(s->restart + 11);
        }
    }
    if (cond && strcmp(cond, "none") && strcmp(cond, "on-failure") && strcmp(cond, "any")) {
        json_decref(o);
        return sched_service_error(reterr, s, NULL, "deploy.restart_policy.condition",
                                   "'%s' is not a restart condition (none, on-failure, any)",
                                   cond);
    }
    sched_json_put_str(o, "Condition", cond);
    put_ns(o, "Delay", rp->delay);
    if (max != COMPOSE_UNSET)
        json_object_set_new(o, "MaxAttempts", json_integer(max));
    put_ns(o, "Window", rp->window);
    if (json_object_size(o))
        json_object_set_new(tt, "RestartPolicy", o);
    else
        json_decref(o);
    return 0;
}

static void add_placement(const struct compose_service *s, json_t *tt)
{
    const struct compose_deploy *d = &s->deploy;
    json_t *o = json_object();
    sched_json_put_strv(o, "Constraints", &d->placement_constraints);
    if (d->placement_preferences.n) {
        json_t *a = json_array();
        for (size_t i = 0; i < d->placement_preferences.n; i++) {
            const char *pref = d->placement_preferences.v[i];
            const char *spread = !strncmp(pref, "spread=", 7) ? pref + 7 : pref;
            json_array_append_new(a, json_pack("{s:{s:s}}", "Spread", "SpreadDescriptor", spread));
        }
        json_object_set_new(o, "Preferences", a);
    }
    if (d->max_replicas_per_node != COMPOSE_UNSET)
        json_object_set_new(o, "MaxReplicas", json_integer(d->max_replicas_per_node));
    if (json_object_size(o))
        json_object_set_new(tt, "Placement", o);
    else
        json_decref(o);
}

/* Networks sorted by target, as docker sends them; each with the file's aliases, then the
 * service's name. */
static int cmp_target(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "Target")),
                  json_string_value(json_object_get(*(json_t *const *)b, "Target")));
}

static int add_networks(const struct compose_project *p, const struct compose_service *s,
                        json_t *tt, struct cc_error *reterr)
{
    if (!s->n_networks)
        return 0;
    json_t **nets = xcalloc(s->n_networks, sizeof(*nets));
    for (size_t i = 0; i < s->n_networks; i++) {
        const struct compose_service_network *sn = &s->networks[i];
        const struct compose_network *n = compose_project_network(p, sn->key);
        if (!n) {
            for (size_t k = 0; k < i; k++)
                json_decref(nets[k]);
            free(nets);
            return sched_service_error(reterr, s, &sn->pos, "networks",
                                       "'%s' in networks is not a network", sn->key);
        }
        json_t *aliases = sched_json_strv(&sn->aliases);
        json_array_append_new(aliases, json_string(s->name));
        nets[i] = json_pack("{s:s, s:o}", "Target", sched_network_name(n), "Aliases", aliases);
        sched_json_put_kvv(nets[i], "DriverOpts", &sn->driver_opts);
    }
    qsort(nets, s->n_networks, sizeof(*nets), cmp_target);
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_networks; i++)
        json_array_append_new(a, nets[i]);
    free(nets);
    json_object_set_new(tt, "Networks", a);
    return 0;
}

static json_t *task_template(const struct compose_project *p, const struct compose_service *s,
                             json_t *ids, struct cc_error *reterr)
{
    json_t *cs = container_spec(p, s, ids, reterr);
    if (!cs)
        return NULL;
    json_t *tt = json_pack("{s:o}", "ContainerSpec", cs);
    add_resources(s, tt);
    add_placement(s, tt);
    if (add_restart(s, tt, reterr) < 0 || add_networks(p, s, tt, reterr) < 0) {
        json_decref(tt);
        return NULL;
    }
    if (s->logging.driver || s->logging.options.n) {
        json_t *ld = json_object();
        sched_json_put_str(ld, "Name", s->logging.driver);
        sched_json_put_kvv(ld, "Options", &s->logging.options);
        json_object_set_new(tt, "LogDriver", ld);
    }
    return tt;
}

/* update_config / rollback_config; parallelism defaults to 1, as docker's. */
static json_t *update_json(const struct compose_update_config *u)
{
    json_t *o = json_pack("{s:I}", "Parallelism",
                          (json_int_t)(u->parallelism != COMPOSE_UNSET ? u->parallelism : 1));
    if (u->delay > 0)
        json_object_set_new(o, "Delay", json_integer(u->delay));
    sched_json_put_str(o, "FailureAction", u->failure_action);
    if (u->monitor > 0)
        json_object_set_new(o, "Monitor", json_integer(u->monitor));
    if (u->max_failure_ratio > 0)
        json_object_set_new(o, "MaxFailureRatio", json_real(u->max_failure_ratio));
    sched_json_put_str(o, "Order", u->order);
    return o;
}

/* Published ports, container ranges expanded one port each; host_ip has no meaning in swarm. */
static int add_endpoint(const struct compose_service *s, json_t *spec, json_t *warnings,
                        struct cc_error *reterr)
{
    const char *mode = s->deploy.endpoint_mode;
    if (mode && strcmp(mode, "vip") && strcmp(mode, "dnsrr"))
        return sched_service_error(reterr, s, NULL, "deploy.endpoint_mode",
                                   "'%s' is not an endpoint mode (vip, dnsrr)", mode);
    json_t *ports = json_array();
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct compose_port *pt = &s->ports[i];
        uint32_t end = pt->target_end > pt->target ? pt->target_end : pt->target;
        unsigned long n = end - pt->target + 1, lo = 0, hi = 0;
        if (pt->published && *pt->published && !sched_port_range(pt->published, &lo, &hi)) {
            json_decref(ports);
            return sched_service_error(reterr, s, &pt->pos, "ports",
                                       "'%s' is not a port or port range", pt->published);
        }
        if (lo && hi - lo + 1 != n) {
            json_decref(ports);
            return sched_service_error(reterr, s, &pt->pos, "ports",
                                       "published ports '%s' and container ports %u-%u differ "
                                       "in number (swarm publishes one port for one port)",
                                       pt->published, pt->target, end);
        }
        if (pt->host_ip)
            warn(warnings, s, "ports", "host_ip is not supported in swarm mode, ignoring");
        for (unsigned long k = 0; k < n; k++) {
            json_t *o = json_pack("{s:s, s:I, s:s}", "Protocol",
                                  pt->protocol ? pt->protocol : "tcp", "TargetPort",
                                  (json_int_t)(pt->target + k), "PublishMode",
                                  pt->mode ? pt->mode : "ingress");
            if (lo)
                json_object_set_new(o, "PublishedPort", json_integer((json_int_t)(lo + k)));
            json_array_append_new(ports, o);
        }
    }
    if (!mode && !json_array_size(ports)) {
        json_decref(ports);
        return 0;
    }
    /* dnsrr has no virtual IP for the ingress to forward to; host-mode ports need none. */
    bool ingress = false;
    size_t i;
    json_t *o;
    json_array_foreach(ports, i, o)
        ingress = ingress || !strcmp(json_string_value(json_object_get(o, "PublishMode")), "ingress");
    if (mode && !strcmp(mode, "dnsrr") && ingress) {
        json_decref(ports);
        return sched_service_error(reterr, s, NULL, "deploy.endpoint_mode",
                                   "dnsrr cannot publish ports through the ingress; publish "
                                   "them in host mode or use vip");
    }
    json_t *ep = json_object();
    sched_json_put_str(ep, "Mode", mode);
    if (json_array_size(ports))
        json_object_set_new(ep, "Ports", ports);
    else
        json_decref(ports);
    json_object_set_new(spec, "EndpointSpec", ep);
    return 0;
}

json_t *sched_stack_service_spec(const struct compose_project *p, const struct compose_service *s,
                                 json_t *ids, json_t *warnings, struct cc_error *reterr)
{
    const struct compose_deploy *d = &s->deploy;
    bool global = d->mode && !strcmp(d->mode, "global");
    if (d->mode && !global && strcmp(d->mode, "replicated")) {
        sched_service_error(reterr, s, NULL, "deploy.mode",
                            "'%s' is not a mode (replicated, global)", d->mode);
        return NULL;
    }
    if (global && d->replicas != COMPOSE_UNSET) {
        sched_service_error(reterr, s, NULL, "deploy.replicas",
                            "replicas cannot be used with the global mode");
        return NULL;
    }
    if (!s->image) {
        sched_service_error(reterr, s, &s->pos, "image",
                            "a swarm service needs an image: build it and push it, then name "
                            "it in image");
        return NULL;
    }
    json_t *tt = task_template(p, s, ids, reterr);
    if (!tt)
        return NULL;
    char *name = sched_stack_service_name(p, s);
    json_t *labels = labels_with_namespace(p, &d->labels);
    json_object_set_new(labels, SCHED_STACK_LABEL_IMAGE, json_string(s->image));
    json_t *spec = json_pack("{s:s, s:o, s:o}", "Name", name, "Labels", labels, "TaskTemplate", tt);
    free(name);
    json_object_set_new(spec, "Mode",
                        global ? json_pack("{s:{}}", "Global")
                               : json_pack("{s:{s:i}}", "Replicated", "Replicas",
                                           compose_service_replicas(s)));
    if (d->update_config.set)
        json_object_set_new(spec, "UpdateConfig", update_json(&d->update_config));
    if (d->rollback_config.set)
        json_object_set_new(spec, "RollbackConfig", update_json(&d->rollback_config));
    if (add_endpoint(s, spec, warnings, reterr) < 0) {
        json_decref(spec);
        return NULL;
    }
    warn_unsupported(s, warnings);
    return spec;
}

/* ---- Networks, secrets, configs ------------------------------------------------------------ */

json_t *sched_stack_network_spec(const struct compose_project *p, const struct compose_network *n)
{
    /* The container body's network, with swarm's driver and the stack's labels only. */
    json_t *body = sched_network_body(p, n);
    if (!n->driver)
        json_object_set_new(body, "Driver", json_string("overlay"));
    json_object_set_new(body, "Labels", labels_with_namespace(p, &n->labels));
    return body;
}

json_t *sched_stack_file_spec(const struct compose_project *p, const struct compose_file_def *d,
                              struct cc_error *reterr)
{
    struct buf data = BUF_INIT, b64 = BUF_INIT;
    if (compose_file_def_data(d, NULL, &data, reterr) < 0) {
        sched_bytes_wipe(&data);
        return NULL;
    }
    buf_add_base64(&b64, data.data, data.len);
    sched_bytes_wipe(&data);
    json_t *spec = json_pack("{s:s, s:o, s:s}", "Name", d->name, "Labels",
                             labels_with_namespace(p, &d->labels), "Data", buf_str(&b64));
    sched_bytes_wipe(&b64);
    return spec;
}
