/* Pulling and pushing an image with per-layer progress, and the pull_policy decision. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "compose/parse.h"
#include "scheduler/images.h"

enum pull_state { PULL_RUNNING, PULL_DONE };

static const char *const pull_state_names[] = {"running", "done"};

struct sched_pull {
    enum pull_state state;
    bool push;
    char *image;
    struct engine_request *req;
    sched_pull_progress_cb on_progress;
    sched_pull_cb cb;
    void *data;
};

static void op_set_state(struct sched_pull *pl, enum pull_state s)
{
    log_debug("%s: pull of '%s': %s -> %s", __func__, pl->image, pull_state_names[pl->state],
              pull_state_names[s]);
    pl->state = s;
}

static void op_finish(struct sched_pull *pl, const struct cc_error *err)
{
    op_set_state(pl, PULL_DONE);
    pl->cb(pl->image, err, pl->data);
    free(pl->image);
    free(pl);
}

char *sched_image_registry(const char *image)
{
    const char *slash = strchr(image, '/');
    if (slash) {
        size_t n = (size_t)(slash - image);
        if (memchr(image, '.', n) || memchr(image, ':', n) ||
            (n == 9 && strncmp(image, "localhost", 9) == 0))
            return xstrndup(image, n);
    }
    return xstrdup("docker.io");
}

static void on_pull_item(json_t *item, void *data)
{
    struct sched_pull *pl = data;
    const char *status = json_string_value(json_object_get(item, "status"));
    if (!pl->on_progress || !status)
        return;
    json_t *detail = json_object_get(item, "progressDetail");
    struct sched_pull_progress p = {
        .image = pl->image,
        .layer = json_string_value(json_object_get(item, "id")),
        .status = status,
        .current = json_integer_value(json_object_get(detail, "current")),
        .total = json_integer_value(json_object_get(detail, "total")),
    };
    /* Image-wide lines carry the tag as their id ("Pulling from x", id "latest"). */
    if (p.layer && strncmp(status, "Pulling from ", 13) == 0)
        p.layer = NULL;
    pl->on_progress(&p, pl->data);
}

static void on_pull_done(json_t *result, const struct cc_error *err, void *data)
{
    (void)result;
    struct sched_pull *pl = data;
    pl->req = NULL;
    if (!err || err->kind == CC_ERR_CANCELLED) {
        op_finish(pl, err);
        return;
    }
    struct cc_error e = CC_ERROR_INIT;
    char *registry = sched_image_registry(pl->image);
    cc_error_copy(&e, err);
    free(e.message);
    e.message = xasprintf("cannot %s image '%s' %s registry '%s': %s", pl->push ? "push" : "pull",
                          pl->image, pl->push ? "to" : "from", registry,
                          err->engine_message ? err->engine_message : err->message);
    if (!e.engine_message)
        e.engine_message = xstrdup(err->message);
    if (!e.hint && e.kind == CC_ERR_NOT_FOUND)
        cc_error_hint(&e, "check the image's name and tag, and that '%s' has it", registry);
    free(registry);
    op_finish(pl, &e);
    cc_error_release(&e);
}

static struct sched_pull *transfer(struct engine_client *c, const char *image, bool push,
                                   sched_pull_progress_cb on_progress, sched_pull_cb cb, void *data,
                                   struct cc_error *reterr)
{
    struct sched_pull *pl = xcalloc(1, sizeof(*pl));
    pl->push = push;
    pl->image = xstrdup(image);
    pl->on_progress = on_progress;
    pl->cb = cb;
    pl->data = data;
    char *auth = sched_registry_auth(image);
    pl->req = (push ? engine_image_push : engine_image_pull)(c, image, auth, on_pull_item,
                                                             on_pull_done, pl, reterr);
    free(auth);
    if (!pl->req) {
        free(pl->image);
        free(pl);
        return NULL;
    }
    return pl;
}

struct sched_pull *sched_pull_image(struct engine_client *c, const char *image,
                                    sched_pull_progress_cb on_progress, sched_pull_cb cb,
                                    void *data, struct cc_error *reterr)
{
    return transfer(c, image, false, on_progress, cb, data, reterr);
}

struct sched_pull *sched_push_image(struct engine_client *c, const char *image,
                                    sched_pull_progress_cb on_progress, sched_pull_cb cb,
                                    void *data, struct cc_error *reterr)
{
    return transfer(c, image, true, on_progress, cb, data, reterr);
}

void sched_pull_cancel(struct sched_pull *pl)
{
    if (pl && pl->req)
        engine_request_cancel(pl->req);
}

/* The refresh period of daily, weekly and every_<duration>; 0 when policy is none of them. */
static int refresh_period(const char *policy, int64_t *ret, struct cc_error *reterr)
{
    *ret = 0;
    if (strcmp(policy, "daily") == 0)
        *ret = 24 * 3600 * INT64_C(1000000000);
    else if (strcmp(policy, "weekly") == 0)
        *ret = 7 * 24 * 3600 * INT64_C(1000000000);
    else if (strncmp(policy, "every_", 6) == 0) {
        if (parse_duration(policy + 6, ret, reterr) < 0 || *ret <= 0)
            return cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                                "invalid pull_policy '%s': '%s' is not a positive duration", policy,
                                policy + 6);
    }
    return 0;
}

int sched_image_action(const struct compose_service *s, bool image_exists, int64_t image_age_ns,
                       enum sched_image_action *ret, struct cc_error *reterr)
{
    const char *policy = s->pull_policy ? s->pull_policy : "missing";
    bool buildable = s->build != NULL;
    enum sched_image_action a;
    int64_t period;
    if (strcmp(policy, "always") == 0) {
        a = SCHED_IMAGE_PULL;
    } else if (strcmp(policy, "build") == 0) {
        if (!buildable)
            return cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                                "service '%s' has pull_policy 'build' but no build section",
                                s->name);
        a = SCHED_IMAGE_BUILD;
    } else if (strcmp(policy, "never") == 0) {
        if (!image_exists && !buildable) {
            cc_error_set(reterr, CC_ERR_NOT_FOUND,
                         "image '%s' of service '%s' is not here and pull_policy is 'never'",
                         s->image ? s->image : "", s->name);
            cc_error_hint(reterr, "pull it first, or change pull_policy");
            return -1;
        }
        a = image_exists ? SCHED_IMAGE_USE : SCHED_IMAGE_BUILD;
    } else if (strcmp(policy, "missing") == 0 || strcmp(policy, "if_not_present") == 0) {
        a = image_exists ? SCHED_IMAGE_USE : buildable ? SCHED_IMAGE_BUILD : SCHED_IMAGE_PULL;
    } else {
        if (refresh_period(policy, &period, reterr) < 0)
            return -1;
        if (period == 0) {
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                         "service '%s' has an invalid pull_policy '%s'", s->name, policy);
            cc_error_hint(reterr, "use always, missing, never, build, daily, weekly or "
                                  "every_<duration>");
            return -1;
        }
        a = image_exists && image_age_ns >= 0 && image_age_ns < period ? SCHED_IMAGE_USE
                                                                       : SCHED_IMAGE_PULL;
    }
    *ret = a;
    return 0;
}
