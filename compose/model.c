/* Small accessors of the loaded model: lookups, the replica count, and freeing a project.
 *
 * A project is one heap struct (xcalloc'd by whoever builds it: the loader, or
 * tests/lib/model-builder.c) whose arena owns everything it points to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "common/buf.h"

const char *compose_kvv_get(const struct compose_kvv *kvv, const char *key)
{
    for (size_t i = 0; i < kvv->n; i++)
        if (!strcmp(kvv->v[i].key, key))
            return kvv->v[i].value;
    return NULL;
}

int compose_service_replicas(const struct compose_service *s)
{
    /* docker compose lets `scale` win over deploy.replicas (the loader checks they agree). */
    if (s->scale != COMPOSE_UNSET)
        return s->scale;
    if (s->deploy.replicas != COMPOSE_UNSET)
        return s->deploy.replicas;
    return 1;
}

/* Lookups are linear: projects hold tens of entries, and a linear scan stays correct while a
 * builder has not sorted yet. */
const struct compose_service *compose_project_service(const struct compose_project *p,
                                                      const char *name)
{
    for (size_t i = 0; i < p->n_services; i++)
        if (!strcmp(p->services[i].name, name))
            return &p->services[i];
    return NULL;
}

const struct compose_network *compose_project_network(const struct compose_project *p,
                                                      const char *key)
{
    for (size_t i = 0; i < p->n_networks; i++)
        if (!strcmp(p->networks[i].key, key))
            return &p->networks[i];
    return NULL;
}

const struct compose_volume *compose_project_volume(const struct compose_project *p,
                                                    const char *key)
{
    for (size_t i = 0; i < p->n_volumes; i++)
        if (!strcmp(p->volumes[i].key, key))
            return &p->volumes[i];
    return NULL;
}

/* name: "secret 'x'" or "'x'", for messages. */
static int file_def_data(const struct compose_file_def *d, const char *name, struct buf *out,
                         struct cc_error *reterr)
{
    if (d->file) {
        FILE *f = fopen(d->file, "rb");
        if (!f)
            return cc_error_set(reterr, CC_ERR_IO, "cannot read the file '%s' of %s: %s", d->file,
                                name, strerror(errno));
        char chunk[4096];
        size_t got;
        int rc = 0;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            if (out->len + got > COMPOSE_FILE_DEF_MAX) {
                rc = cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                                  "the file '%s' of %s is larger than %u bytes", d->file, name,
                                  COMPOSE_FILE_DEF_MAX);
                break;
            }
            buf_add(out, chunk, got);
        }
        if (rc == 0 && ferror(f))
            rc = cc_error_set(reterr, CC_ERR_IO, "cannot read the file '%s' of %s", d->file, name);
        explicit_bzero(chunk, sizeof(chunk));
        fclose(f);
        return rc;
    }
    if (d->environment) {
        const char *v = getenv(d->environment);
        if (!v) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                         "%s takes its content from the variable '%s', which is not set", name,
                         d->environment);
            cc_error_hint(reterr, "export %s before running ccompose", d->environment);
            return -1;
        }
        buf_adds(out, v);
        return 0;
    }
    if (d->content)
        buf_adds(out, d->content);
    return 0;
}

int compose_file_def_data(const struct compose_file_def *d, const char *what, struct buf *ret,
                          struct cc_error *reterr)
{
    char *name = what ? xasprintf("%s '%s'", what, d->key) : xasprintf("'%s'", d->key);
    int rc = file_def_data(d, name, ret, reterr);
    free(name);
    return rc;
}

void compose_project_free(struct compose_project *p)
{
    if (!p)
        return;
    arena_release(&p->arena);
    free(p);
}
