/* Top-level networks, volumes, secrets and configs: every key checked, engine names computed
 * (`name:`, else "<project>_<key>"; external ones keep `name:` or their key). */
#include <stdlib.h>
#include <string.h>

#include "compose/model-internal.h"
#include "compose/parse.h"

/* external: true/false, or the legacy `external: {name: x}` (its name wins over `name:`). */
static int external_of(struct mctx *m, const struct cnode *n, bool *ret, const char **ret_name)
{
    if (n->kind == CNODE_MAPPING) {
        for (size_t i = 0; i < n->npairs; i++) {
            const struct cnode *k = n->pairs[i].key;
            cnode_path_push_key(&m->path, k->value);
            int r = 0;
            if (strcmp(k->value, "name") == 0)
                r = m_str(m, n->pairs[i].value, ret_name);
            else
                r = m_error(m, k, "write `external: true` and `name:` beside it",
                            "unknown key '%s' in external", k->value);
            cnode_path_pop(&m->path);
            if (r < 0)
                return -1;
        }
        m_warning(m, n,
                  "'%s' uses the deprecated `external: {name: ...}`; write `external: true` "
                  "and `name:`",
                  m_path(m));
        *ret = true;
        return 0;
    }
    return m_bool(m, n, ret) < 0 ? -1 : 0;
}

/* An external resource is made elsewhere: only name: (and x-*) may stand beside external:. */
static int check_external(struct mctx *m, const struct cnode *n, bool external, const char *what)
{
    int r = 0;
    for (size_t i = 0; external && n->kind == CNODE_MAPPING && i < n->npairs; i++) {
        const char *k = n->pairs[i].key->value;
        if (strcmp(k, "name") && strcmp(k, "external") && strncmp(k, "x-", 2))
            r = m_error(m, n->pairs[i].key, "remove it, or remove `external: true` to create it",
                        "%s is external and cannot set '%s'", what, k);
    }
    return r;
}

static const char *engine_name(struct mctx *m, const char *key, const char *name, bool external)
{
    if (name)
        return name;
    if (external)
        return key;
    return arena_printf(m->a, "%s_%s", m->ctx->project->name, key);
}

/* ---- networks ---- */

static const struct mfield ipam_config_fields[] = {
    {"subnet", MF_STR, offsetof(struct compose_ipam_config, subnet), NULL},
    {"ip_range", MF_STR, offsetof(struct compose_ipam_config, ip_range), NULL},
    {"gateway", MF_STR, offsetof(struct compose_ipam_config, gateway), NULL},
    {"aux_addresses", MF_KVV, offsetof(struct compose_ipam_config, aux_addresses), NULL},
};

static int f_ipam_config(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_network *net = dst;
    if (cnode_is_null(n))
        return 0;
    if (m_want_seq(m, n) < 0)
        return -1;
    int r = 0;
    net->ipam_config = m_array(m, n->nitems, sizeof(*net->ipam_config));
    for (size_t i = 0; i < n->nitems; i++) {
        cnode_path_push_index(&m->path, i);
        struct compose_ipam_config c = {0};
        if (m_fields(m, n->items[i], ipam_config_fields, CC_ARRAY_LEN(ipam_config_fields), &c,
                     "an ipam config") < 0)
            r = -1;
        else
            net->ipam_config[net->n_ipam_config++] = c;
        cnode_path_pop(&m->path);
    }
    return r;
}

static int f_ipam(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"driver", MF_STR, offsetof(struct compose_network, ipam_driver), NULL},
        {"config", MF_CUSTOM, 0, f_ipam_config},
        {"options", MF_KVV, offsetof(struct compose_network, ipam_options), NULL},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "ipam");
}

static int f_net_external(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_network *net = dst;
    return external_of(m, n, &net->external, &net->name);
}

static int f_enable_ipv4(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_network *net = dst;
    bool b;
    int r = m_bool(m, n, &b);
    if (r)
        return r;
    net->enable_ipv4 = b ? COMPOSE_TRI_TRUE : COMPOSE_TRI_FALSE;
    if (!b)
        m_warning(m, n,
                  "'%s: false' needs Docker Engine API 1.47; ccompose speaks 1.41 and the network "
                  "gets IPv4, ignoring",
                  m_path(m));
    return 0;
}

static const struct mfield network_fields[] = {
    {"name", MF_STR, offsetof(struct compose_network, name), NULL},
    {"driver", MF_STR, offsetof(struct compose_network, driver), NULL},
    {"driver_opts", MF_KVV, offsetof(struct compose_network, driver_opts), NULL},
    {"ipam", MF_CUSTOM, 0, f_ipam},
    {"external", MF_CUSTOM, 0, f_net_external},
    {"internal", MF_BOOL, offsetof(struct compose_network, internal), NULL},
    {"attachable", MF_BOOL, offsetof(struct compose_network, attachable), NULL},
    {"enable_ipv6", MF_TRI, offsetof(struct compose_network, enable_ipv6), NULL},
    {"enable_ipv4", MF_CUSTOM, 0, f_enable_ipv4},
    {"labels", MF_KVV, offsetof(struct compose_network, labels), NULL},
};

/* How a kind of top-level entry (networks:, volumes:, secrets:, configs:) is read: its fields,
 * where its external and name go, and what else its checks (NULL: nothing; called when the
 * fields read well, `what` naming the entry in messages). */
struct entry_kind {
    const char *noun; /* "network", ... */
    const struct mfield *fields;
    size_t n_fields;
    size_t external_off, name_off;
    int (*more)(struct mctx *m, const struct cnode *key, const struct cnode *val, void *dst,
                const char *what);
};

/* Reads the entry pr into dst (its key and position already set) as kind says, then gives it
 * the engine's name. Returns -1 when something is wrong (reported). */
static int entry(struct mctx *m, const struct cnode_pair *pr, const struct entry_kind *kind,
                 void *dst)
{
    bool *external = (bool *)((char *)dst + kind->external_off);
    const char **name = (const char **)((char *)dst + kind->name_off);
    cnode_path_push_key(&m->path, pr->key->value);
    char *what = xasprintf("%s '%s'", kind->noun, pr->key->value);
    int r = 0;
    if (m_fields(m, pr->value, kind->fields, kind->n_fields, dst, what) < 0 ||
        check_external(m, pr->value, *external, what) < 0)
        r = -1;
    else if (kind->more)
        r = kind->more(m, pr->key, pr->value, dst, what);
    free(what);
    *name = engine_name(m, pr->key->value, *name, *external);
    cnode_path_pop(&m->path);
    return r < 0 ? -1 : 0;
}

int m_networks(struct mctx *m, const struct cnode *n)
{
    struct compose_project *p = m->ctx->project;
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    static const struct entry_kind kind = {"network", network_fields,
                                           CC_ARRAY_LEN(network_fields),
                                           offsetof(struct compose_network, external),
                                           offsetof(struct compose_network, name), NULL};
    p->networks = m_array(m, n->npairs + 1, sizeof(*p->networks));
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key;
        struct compose_network *net = &p->networks[p->n_networks++];
        *net = (struct compose_network){.key = k->value, .pos = m_pos(k)};
        if (entry(m, &n->pairs[i], &kind, net) < 0)
            r = -1;
    }
    return r;
}

/* ---- volumes ---- */

static int f_vol_external(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_volume *v = dst;
    return external_of(m, n, &v->external, &v->name);
}

static const struct mfield volume_fields[] = {
    {"name", MF_STR, offsetof(struct compose_volume, name), NULL},
    {"driver", MF_STR, offsetof(struct compose_volume, driver), NULL},
    {"driver_opts", MF_KVV, offsetof(struct compose_volume, driver_opts), NULL},
    {"external", MF_CUSTOM, 0, f_vol_external},
    {"labels", MF_KVV, offsetof(struct compose_volume, labels), NULL},
};

int m_volumes(struct mctx *m, const struct cnode *n)
{
    struct compose_project *p = m->ctx->project;
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    static const struct entry_kind kind = {"volume", volume_fields, CC_ARRAY_LEN(volume_fields),
                                           offsetof(struct compose_volume, external),
                                           offsetof(struct compose_volume, name), NULL};
    p->volumes = m_array(m, n->npairs, sizeof(*p->volumes));
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key;
        struct compose_volume *v = &p->volumes[p->n_volumes++];
        *v = (struct compose_volume){.key = k->value, .pos = m_pos(k)};
        if (entry(m, &n->pairs[i], &kind, v) < 0)
            r = -1;
    }
    return r;
}

/* ---- secrets and configs ---- */

static int f_def_external(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_file_def *d = dst;
    return external_of(m, n, &d->external, &d->name);
}

/* Secret and config drivers are swarm's: a container gets the file, the variable or the
 * content, so they are warned about. */
static void swarm_only(struct mctx *m, const struct cnode *n)
{
    m_warning(m, n, "'%s' applies to swarm secrets and configs only, ignoring", m_path(m));
}

static int f_def_driver(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_file_def *d = dst;
    int r = m_str(m, n, &d->driver);
    if (r == 0)
        swarm_only(m, n);
    return r;
}

static int f_def_driver_opts(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_file_def *d = dst;
    int r = m_kvv(m, n, false, &d->driver_opts);
    if (r == 0 && d->driver_opts.n)
        swarm_only(m, n);
    return r;
}

static int f_def_template_driver(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_file_def *d = dst;
    int r = m_str(m, n, &d->template_driver);
    if (r == 0)
        swarm_only(m, n);
    return r;
}

static const struct mfield file_def_fields[] = {
    {"name", MF_STR, offsetof(struct compose_file_def, name), NULL},
    {"file", MF_STR, offsetof(struct compose_file_def, file), NULL},
    {"environment", MF_STR, offsetof(struct compose_file_def, environment), NULL},
    {"content", MF_STR, offsetof(struct compose_file_def, content), NULL},
    {"external", MF_CUSTOM, 0, f_def_external},
    {"labels", MF_KVV, offsetof(struct compose_file_def, labels), NULL},
    {"driver", MF_CUSTOM, 0, f_def_driver},
    {"driver_opts", MF_CUSTOM, 0, f_def_driver_opts},
    {"template_driver", MF_CUSTOM, 0, f_def_template_driver},
};

/* A secret or config takes its content from one source (a custom driver may bring it its own
 * way; a secret takes no content:), and a relative file is the project directory's. */
static int file_sources(struct mctx *m, const struct cnode *key, const struct cnode *val,
                        struct compose_file_def *d, const char *what, bool secrets)
{
    int r = 0;
    int sources = (d->file != NULL) + (d->environment != NULL) + (d->content != NULL);
    if (!d->external && (sources > 1 || (sources == 0 && !cnode_get(val, "driver"))))
        r = m_error(m, key,
                    "give exactly one of file:, environment: or content:, or `external: true`",
                    "%s needs exactly one source", what);
    else if (secrets && d->content)
        r = m_error(m, key, "use file: or environment: for secrets", "%s cannot take content:",
                    what);
    if (d->file && d->file[0] != '/' && !m->ctx->opts->no_normalize)
        d->file = parse_path_join(m->a, m->ctx->project->working_dir, d->file);
    return r;
}

static int secret_sources(struct mctx *m, const struct cnode *key, const struct cnode *val,
                          void *dst, const char *what)
{
    return file_sources(m, key, val, dst, what, true);
}

static int config_sources(struct mctx *m, const struct cnode *key, const struct cnode *val,
                          void *dst, const char *what)
{
    return file_sources(m, key, val, dst, what, false);
}

int m_file_defs(struct mctx *m, const struct cnode *n, bool secrets)
{
    struct compose_project *p = m->ctx->project;
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    struct entry_kind kind = {secrets ? "secret" : "config", file_def_fields,
                              CC_ARRAY_LEN(file_def_fields),
                              offsetof(struct compose_file_def, external),
                              offsetof(struct compose_file_def, name),
                              secrets ? secret_sources : config_sources};
    struct compose_file_def *v = m_array(m, n->npairs, sizeof(*v));
    size_t nv = 0;
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key;
        struct compose_file_def *d = &v[nv++];
        *d = (struct compose_file_def){.key = k->value, .pos = m_pos(k)};
        if (entry(m, &n->pairs[i], &kind, d) < 0)
            r = -1;
    }
    if (secrets) {
        p->secrets = v;
        p->n_secrets = nv;
    } else {
        p->configs = v;
        p->n_configs = nv;
    }
    return r;
}
