/* Names of what ccompose makes on the engine: containers, networks, volumes, images. docker compose
 * v2 finds its resources again by these names and by labels, so they follow it exactly. */
#include "scheduler/scheduler-internal.h"

char *sched_container_name(const struct compose_project *p, const struct compose_service *s,
                           int number)
{
    if (s->container_name)
        return xstrdup(s->container_name);
    return xasprintf("%s-%s-%d", p->name, s->name, number);
}

const char *sched_network_name(const struct compose_network *n)
{
    return n->name;
}

const char *sched_volume_name(const struct compose_volume *v)
{
    return v->name;
}

char *sched_image_name(const struct compose_project *p, const struct compose_service *s)
{
    if (s->image)
        return xstrdup(s->image);
    return xasprintf("%s-%s", p->name, s->name);
}
