/* Small accessors of the loaded model: lookups, the replica count, and freeing a project.
 *
 * A project is one heap struct (xcalloc'd by whoever builds it: the loader, or
 * tests/lib/model-builder.c) whose arena owns everything it points to. */
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"

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

void compose_project_free(struct compose_project *p)
{
    if (!p)
        return;
    arena_release(&p->arena);
    free(p);
}
