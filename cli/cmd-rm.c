/* `ccompose rm [-f] [-s] [-v] [SERVICE...]`: removes the project's stopped containers (one-off
 * ones left alone), as docker compose does: it names them ("Going to remove p-web-1, p-db-1") and
 * asks first unless -f; -s stops the running ones first; -v removes their anonymous volumes. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/buf.h"

struct rm_opts {
    bool force;
    bool stop;
    bool volumes;
};

struct rm_args {
    bool force;
    bool volumes;
};

static struct engine_request *rm_call(struct engine_client *c, const char *id, void *arg,
                                      engine_cb cb, void *data, struct cc_error *reterr)
{
    const struct rm_args *a = arg;
    return engine_container_remove(c, id, a->force, a->volumes, cb, data, reterr);
}

struct stop_ctx {
    struct cli_context *ctx;
    const struct cli_view *v;
    struct sched_lifecycle_options opts;
};

static struct sched_op *start_stop(struct cli_wait *w, void *data, struct cc_error *reterr)
{
    struct stop_ctx *s = data;
    return sched_lifecycle(s->ctx->loop, s->v->c, s->v->project, s->v->model, &s->opts,
                           cli_on_event, cli_on_done, w, reterr);
}

/* The answer to "Going to remove ...": on a terminal docker compose asks y/N (no answer is no);
 * elsewhere it writes the message without a newline and reads one line, which is yes when it says
 * y, 1, t or true (as Go's ParseBool, which we also let say "yes"). */
static bool confirm(const char *msg)
{
    bool tty = isatty(STDIN_FILENO);
    if (tty)
        printf("%s\nAre you sure? [yN] ", msg);
    else
        printf("%s", msg);
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    bool yes = false;
    if (getline(&line, &cap, stdin) >= 0) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, " \t\r\n")] = '\0';
        yes = !strcasecmp(s, "y") || !strcasecmp(s, "yes") ||
              (!tty && (!strcmp(s, "1") || !strcasecmp(s, "t") || !strcasecmp(s, "true")));
    }
    free(line);
    return yes;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose rm [OPTIONS] [SERVICE...]\n\n"
                 "Removes stopped service containers\n\n"
                 "By default, anonymous volumes attached to containers will not be removed. You\n"
                 "can override this with -v. To list all volumes, use \"docker volume ls\".\n\n"
                 "Any data which is not in a volume will be lost.\n\n"
                 "Options:\n"
                 "  -f, --force     Don't ask to confirm removal\n"
                 "  -s, --stop      Stop the containers, if required, before removing\n"
                 "  -v, --volumes   Remove any anonymous volumes attached to containers\n");
}

static int rm_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"force", no_argument, NULL, 'f'},
        {"stop", no_argument, NULL, 's'},
        {"volumes", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const stopped[] = {"created", "exited", "dead", NULL};
    struct rm_opts o = {0};
    int c;
    while ((c = cli_getopt_long(argc, argv, "fsvh", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            o.force = true;
            break;
        case 's':
            o.stop = true;
            break;
        case 'v':
            o.volumes = true;
            break;
        default:
            return cli_usage_exit(c, usage);
        }
    }
    struct cli_view v;
    struct sched_observed_container **cts = NULL;
    struct buf msg = BUF_INIT;
    int code = cli_view_open(ctx, argv + optind, argc - optind, &v);
    if (code)
        goto out;
    if (o.stop && !ctx->g.dry_run) {
        struct stop_ctx s = {
            .ctx = ctx,
            .v = &v,
            .opts = {.action = SCHED_LC_STOP,
                     .services = (const char *const *)v.services,
                     .n_services = (size_t)v.n_services,
                     .stop_timeout_s = -1,
                     .parallel = ctx->g.parallel},
        };
        if ((code = cli_run_op(ctx, start_stop, &s)))
            goto out;
        /* What is stopped now. */
        sched_observed_free(v.observed);
        v.observed = NULL;
        if ((code = cli_observe_containers(ctx, v.c, v.project, &v.observed)))
            goto out;
    }
    size_t n = 0;
    /* In a dry run nothing was stopped: -s would stop the running ones, then remove them. */
    cts = cli_select_containers(&v, v.services, v.n_services, false, false,
                                o.stop && ctx->g.dry_run ? NULL : stopped, &n);
    if (n == 0) {
        fprintf(stderr, "No stopped containers\n");
        goto out;
    }
    if (ctx->g.dry_run) {
        for (size_t i = 0; i < n; i++)
            printf("container %s: %s\n", cts[i]->name,
                   cts[i]->state && !strcmp(cts[i]->state, "running") ? "stop, remove" : "remove");
        goto out;
    }
    buf_adds(&msg, "Going to remove ");
    for (size_t i = 0; i < n; i++)
        buf_printf(&msg, "%s%s", i ? ", " : "", cts[i]->name);
    if (o.force) {
        printf("%s\n", buf_str(&msg));
        fflush(stdout);
    } else if (!confirm(buf_str(&msg))) {
        goto out;
    }
    struct rm_args args = {o.force, o.volumes};
    struct cli_each each = {"remove", "Removing", "Removed", rm_call, &args};
    code =
        cli_each_container(ctx, v.c, (const struct sched_observed_container *const *)cts, n, &each);
out:
    buf_release(&msg);
    free(cts);
    cli_view_release(ctx, &v);
    return code;
}

const struct cli_command cli_cmd_rm = {
    .name = "rm",
    .summary = "Removes stopped service containers",
    .run = rm_run,
};
