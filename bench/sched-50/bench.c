/* The scheduler side of bench/sched-50/run: brings a compose file's project up (detached) or down
 * through the scheduler, or sends the engine's floor for the same work: the same create bodies and
 * starts as raw API calls, 16 in flight, with nothing else around them.
 *
 *     bench up|down|raw-up|raw-down|raw-ps FILE PROJECT
 *
 * Prints nothing on success (the script times the whole process, as it times docker-compose);
 * on failure the error on stderr and exit 1. raw-ps is the floor of `ps`: a process that lists
 * the project's containers (one call, the answer parsed as every answer is) and prints their
 * names, without reading FILE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"

#define RAW_PARALLEL 16

struct bench {
    uv_loop_t loop;
    struct engine_client *c;
    const struct compose_project *p;
    bool done;
    struct cc_error err;
    /* raw: work items, and how many are in flight / left */
    char **ids;
    size_t n_ids, next;
    int in_flight, pending;
    bool down;
};

static void fail(const char *what, const struct cc_error *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err && err->message ? err->message : "failed");
    exit(1);
}

static void on_done(const struct cc_error *err, void *data)
{
    struct bench *b = data;
    b->done = true;
    if (err)
        cc_error_copy(&b->err, err);
}

static void run_until_done(struct bench *b)
{
    while (!b->done)
        uv_run(&b->loop, UV_RUN_ONCE);
    if (b->err.kind != CC_ERR_NONE)
        fail("operation", &b->err);
}

/* ---- The raw floor ------------------------------------------------------------------------- */

static void raw_pump(struct bench *b);

struct raw_item {
    struct bench *b;
    size_t index; /* service index (up) or container index (down) */
    char *id;
    int step;
};

static void on_raw_answer(json_t *result, const struct cc_error *err, void *data)
{
    struct raw_item *it = data;
    struct bench *b = it->b;
    struct cc_error e2 = CC_ERROR_INIT;
    b->in_flight--;
    if (err && !(b->down && err->kind == CC_ERR_NOT_FOUND))
        fail(it->id ? it->id : b->p->services[it->index].name, err);
    it->step++;
    if (!b->down && it->step == 1) {
        it->id = xstrdup(json_string_value(json_object_get(result, "Id")));
        b->in_flight++;
        if (!engine_container_start(b->c, it->id, on_raw_answer, it, &e2))
            fail("start", &e2);
        return;
    }
    if (b->down && it->step == 1) {
        b->in_flight++;
        if (!engine_container_remove(b->c, it->id, true, false, on_raw_answer, it, &e2))
            fail("remove", &e2);
        return;
    }
    free(it->id);
    free(it);
    b->pending--;
    raw_pump(b);
}

static void raw_pump(struct bench *b)
{
    struct cc_error err = CC_ERROR_INIT;
    size_t n = b->down ? b->n_ids : b->p->n_services;
    while (b->in_flight < RAW_PARALLEL && b->next < n) {
        struct raw_item *it = xcalloc(1, sizeof(*it));
        it->b = b;
        it->index = b->next++;
        b->in_flight++;
        b->pending++;
        if (b->down) {
            it->id = xstrdup(b->ids[it->index]);
            if (!engine_container_stop(b->c, it->id, -1, on_raw_answer, it, &err))
                fail("stop", &err);
            continue;
        }
        const struct compose_service *s = &b->p->services[it->index];
        char *name = sched_container_name(b->p, s, 1);
        json_t *body = sched_container_body(b->p, s, 1, NULL, &err);
        if (!body)
            fail("body", &err);
        if (!engine_container_create(b->c, name, body, on_raw_answer, it, &err))
            fail("create", &err);
        json_decref(body);
        free(name);
    }
    if (b->pending == 0 && b->next == n)
        b->done = true;
}

struct sync_call {
    bool done;
    json_t *result;
    struct cc_error err;
};

static void on_sync(json_t *result, const struct cc_error *err, void *data)
{
    struct sync_call *s = data;
    s->done = true;
    s->result = result ? json_incref(result) : NULL;
    if (err)
        cc_error_copy(&s->err, err);
}

static json_t *sync_wait(struct bench *b, struct sync_call *s, struct engine_request *r,
                         const struct cc_error *err, const char *what, bool not_found_ok)
{
    if (!r)
        fail(what, err);
    while (!s->done)
        uv_run(&b->loop, UV_RUN_ONCE);
    if (s->err.kind != CC_ERR_NONE && !(not_found_ok && s->err.kind == CC_ERR_NOT_FOUND))
        fail(what, &s->err);
    cc_error_release(&s->err);
    return s->result;
}

static void raw_up(struct bench *b)
{
    struct cc_error err = CC_ERROR_INIT;
    for (size_t i = 0; i < b->p->n_networks; i++) {
        if (!b->p->networks[i].used || b->p->networks[i].external)
            continue;
        struct sync_call s = {false, NULL, CC_ERROR_INIT};
        json_t *body = sched_network_body(b->p, &b->p->networks[i]);
        json_decref(sync_wait(b, &s, engine_network_create(b->c, body, on_sync, &s, &err), &err,
                              "network create", false));
        json_decref(body);
    }
    raw_pump(b);
    while (!b->done)
        uv_run(&b->loop, UV_RUN_ONCE);
}

static void raw_down(struct bench *b)
{
    struct cc_error err = CC_ERROR_INIT;
    json_t *f = sched_project_filters(b->p->name, NULL);
    struct sync_call s = {false, NULL, CC_ERROR_INIT};
    json_t *list = sync_wait(b, &s, engine_container_list(b->c, true, f, on_sync, &s, &err), &err,
                             "container list", false);
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
        sched_strv_push(&b->ids, &b->n_ids, xstrdup(sched_json_str(it, "Id")));
    json_decref(list);
    b->down = true;
    raw_pump(b);
    while (!b->done)
        uv_run(&b->loop, UV_RUN_ONCE);
    struct sync_call n = {false, NULL, CC_ERROR_INIT};
    list = sync_wait(b, &n, engine_network_list(b->c, f, on_sync, &n, &err), &err, "network list",
                     false);
    json_array_foreach(list, i, it)
    {
        struct sync_call r = {false, NULL, CC_ERROR_INIT};
        json_decref(sync_wait(
            b, &r, engine_network_remove(b->c, sched_json_str(it, "Id"), on_sync, &r, &err), &err,
            "network remove", true));
    }
    json_decref(list);
    json_decref(f);
    for (size_t k = 0; k < b->n_ids; k++)
        free(b->ids[k]);
    free(b->ids);
}

/* The floor of `ps` for PROJECT: the engine client, one container list by the project label. */
static int raw_ps(const char *project)
{
    struct bench b = {.err = CC_ERROR_INIT};
    struct cc_error err = CC_ERROR_INIT;
    uv_loop_init(&b.loop);
    if (engine_client_new(&b.loop, NULL, &b.c, &err) < 0)
        fail("engine", &err);
    json_t *f = sched_project_filters(project, NULL);
    struct sync_call s = {false, NULL, CC_ERROR_INIT};
    json_t *list = sync_wait(&b, &s, engine_container_list(b.c, true, f, on_sync, &s, &err), &err,
                             "container list", false);
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
        puts(json_string_value(json_array_get(json_object_get(it, "Names"), 0)));
    json_decref(list);
    json_decref(f);
    engine_client_free(b.c);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    return uv_loop_close(&b.loop) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench up|down|raw-up|raw-down|raw-ps FILE PROJECT\n");
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "raw-ps"))
        return raw_ps(argv[3]);
    const char *files[] = {argv[2]};
    struct compose_load_options lo = {.files = files, .n_files = 1, .project_name = argv[3]};
    struct compose_project *p = NULL;
    struct cc_error err = CC_ERROR_INIT;
    if (compose_project_load(&lo, &p, NULL, &err) < 0)
        fail(argv[2], &err);
    struct bench b = {.p = p, .err = CC_ERROR_INIT};
    uv_loop_init(&b.loop);
    if (engine_client_new(&b.loop, NULL, &b.c, &err) < 0)
        fail("engine", &err);
    if (!strcmp(mode, "up")) {
        struct sched_up_options o = {.stop_timeout_s = -1};
        if (!sched_up(&b.loop, b.c, p, &o, NULL, NULL, on_done, &b, &err))
            fail("up", &err);
        run_until_done(&b);
    } else if (!strcmp(mode, "down")) {
        struct sched_down_options o = {.stop_timeout_s = -1};
        if (!sched_down(&b.loop, b.c, p->name, p, &o, NULL, on_done, &b, &err))
            fail("down", &err);
        run_until_done(&b);
    } else if (!strcmp(mode, "raw-up")) {
        raw_up(&b);
    } else if (!strcmp(mode, "raw-down")) {
        raw_down(&b);
    } else {
        fprintf(stderr, "bench: unknown mode '%s'\n", mode);
        return 2;
    }
    engine_client_free(b.c);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&b.loop) == 0 ? 0 : 1;
    cc_error_release(&b.err);
    cc_error_release(&err);
    compose_project_free(p);
    return rc;
}
