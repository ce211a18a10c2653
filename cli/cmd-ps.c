/* `ccompose ps`: the project's containers, from one list call by the project label, in docker
 * compose's columns (NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS) or as JSON lines. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/buf.h"

struct ps_opts {
    bool all;
    bool quiet;
    bool services;
    bool json;
    const char **status;
    int n_status;
};

/* "5 seconds", "About a minute", "2 hours", as docker prints how long ago something was. */
static char *human_duration(long long secs)
{
    if (secs < 1)
        return xstrdup("Less than a second");
    if (secs == 1)
        return xstrdup("1 second");
    if (secs < 60)
        return xasprintf("%lld seconds", secs);
    long long mins = (secs + 30) / 60;
    if (mins == 1)
        return xstrdup("About a minute");
    if (secs < 3600)
        return xasprintf("%lld minutes", secs / 60);
    long long hours = (secs + 1800) / 3600;
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", hours);
    if (hours < 24 * 7 * 2)
        return xasprintf("%lld days", hours / 24);
    if (hours < 24 * 30 * 2)
        return xasprintf("%lld weeks", hours / 24 / 7);
    if (hours < 24 * 365 * 2)
        return xasprintf("%lld months", hours / 24 / 30);
    return xasprintf("%lld years", hours / 24 / 365);
}

/* "0.0.0.0:8080->80/tcp, :::8080->80/tcp, 9000/tcp" from the list's Ports. */
static char *format_ports(json_t *ports)
{
    struct buf b = BUF_INIT;
    buf_adds(&b, "");
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        const char *ip = json_string_value(json_object_get(p, "IP"));
        const char *type = json_string_value(json_object_get(p, "Type"));
        json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
        json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));
        if (b.len)
            buf_adds(&b, ", ");
        if (pub)
            buf_printf(&b, "%s%s%lld->",
                       ip && strchr(ip, ':') ? ":::"
                       : ip                  ? ip
                                             : "",
                       ip && strchr(ip, ':') ? "" : ":", (long long)pub);
        buf_printf(&b, "%lld/%s", (long long)priv, type ? type : "tcp");
    }
    return buf_detach(&b);
}

/* The command as docker shows it: quoted, cut to 20 characters with an ellipsis. */
static char *format_command(const char *cmd)
{
    if (!cmd)
        cmd = "";
    if (strlen(cmd) <= 20)
        return xasprintf("\"%s\"", cmd);
    return xasprintf("\"%.19s…\"", cmd);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool wanted(const struct ps_opts *o, const struct sched_observed_container *c,
                   char *const *services, int n_services)
{
    if (c->oneoff || !cli_service_selected(c->service, services, n_services))
        return false;
    if (o->n_status > 0) {
        for (int i = 0; i < o->n_status; i++)
            if (c->state && !strcmp(o->status[i], c->state))
                return true;
        return false;
    }
    return o->all || (c->state && !strcmp(c->state, "running"));
}

/* The image as the service names it: containers made from an image ID show that ID in the list,
 * so the model's name is used when there is one, else the short ID as docker shows it. new. */
static char *image_name(const struct compose_project *model, const char *project,
                        const struct sched_observed_container *c)
{
    const char *image = jstr(c->summary, "Image");
    if (strncmp(image, "sha256:", 7) != 0)
        return xstrdup(image);
    const struct compose_service *s =
        model && c->service ? compose_project_service(model, c->service) : NULL;
    if (s && s->image)
        return xstrdup(s->image);
    if (s)
        return xasprintf("%s-%s", project, s->name);
    return xstrndup(image + 7, 12);
}

static json_t *container_json(const struct compose_project *model, const char *project,
                              const struct sched_observed_container *c, long long now)
{
    json_t *s = c->summary;
    char *image = image_name(model, project, c);
    long long created = (long long)json_integer_value(json_object_get(s, "Created"));
    char *ago = human_duration(now - created);
    char *running_for = xasprintf("%s ago", ago);
    char *ports = format_ports(json_object_get(s, "Ports"));
    const char *status = jstr(s, "Status");
    const char *health = strstr(status, "(healthy)")            ? "healthy"
                         : strstr(status, "(unhealthy)")        ? "unhealthy"
                         : strstr(status, "(health: starting)") ? "starting"
                                                                : "";
    int exit_code = 0;
    const char *exited = strstr(status, "Exited (");
    if (exited)
        exit_code = atoi(exited + 8);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:i, s:s}", "ID",
                          c->id ? c->id : "", "Name", c->name, "Image", image, "Command",
                          jstr(s, "Command"), "Project", project, "Service",
                          c->service ? c->service : "", "Created", (json_int_t)created,
                          "RunningFor", running_for, "State", c->state ? c->state : "", "Status",
                          status, "Health", health, "ExitCode", exit_code, "Ports", ports);
    json_t *publishers = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(s, "Ports"), i, p)
    {
        json_array_append_new(publishers,
                              json_pack("{s:s, s:I, s:I, s:s}", "URL", jstr(p, "IP"), "TargetPort",
                                        json_integer_value(json_object_get(p, "PrivatePort")),
                                        "PublishedPort",
                                        json_integer_value(json_object_get(p, "PublicPort")),
                                        "Protocol", jstr(p, "Type")));
    }
    json_object_set_new(o, "Publishers", publishers);
    free(image);
    free(ago);
    free(running_for);
    free(ports);
    return o;
}

/* Columns as docker's tabwriter lays them out: each as wide as its widest cell, three spaces
 * apart, the last one unpadded. */
static void print_table(json_t *rows)
{
    static const char *const heads[] = {"NAME",    "IMAGE",  "COMMAND", "SERVICE",
                                        "CREATED", "STATUS", "PORTS"};
    static const char *const keys[] = {"Name",       "Image",  "Command", "Service",
                                       "RunningFor", "Status", "Ports"};
    enum { NCOL = 7 };
    size_t n = json_array_size(rows);
    char **cells = xcalloc((n + 1) * NCOL, sizeof(*cells));
    int width[NCOL] = {0};
    for (size_t r = 0; r <= n; r++) {
        json_t *row = r ? json_array_get(rows, r - 1) : NULL;
        for (int k = 0; k < NCOL; k++) {
            char *cell;
            if (!row)
                cell = xstrdup(heads[k]);
            else if (k == 2)
                cell = format_command(jstr(row, keys[k]));
            else
                cell = xstrdup(jstr(row, keys[k]));
            /* Column widths count characters, not bytes (the command's ellipsis is three). */
            int w = 0;
            for (const char *s = cell; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
            if (w > width[k])
                width[k] = w;
            cells[r * NCOL + (size_t)k] = cell;
        }
    }
    for (size_t r = 0; r <= n; r++) {
        for (int k = 0; k < NCOL; k++) {
            const char *cell = cells[r * NCOL + (size_t)k];
            int w = 0;
            for (const char *s = cell; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
            fputs(cell, stdout);
            if (k < NCOL - 1)
                printf("%*s", width[k] - w + 3, "");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < (n + 1) * NCOL; i++)
        free(cells[i]);
    free(cells);
}

static void print_services(json_t *rows)
{
    json_t *seen = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *svc = jstr(row, "Service");
        if (json_object_get(seen, svc))
            continue;
        json_object_set_new(seen, svc, json_true());
        printf("%s\n", svc);
    }
    json_decref(seen);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose ps [OPTIONS] [SERVICE...]\n\n"
                 "List containers\n\n"
                 "Options:\n"
                 "  -a, --all             Show all stopped containers (including those created\n"
                 "                        by the run command)\n"
                 "      --format string   Format output using a custom template: 'table'\n"
                 "                        (default) or 'json'\n"
                 "  -q, --quiet           Only display IDs\n"
                 "      --services        Display services\n"
                 "      --status string   Filter services by status. Values: [paused |\n"
                 "                        restarting | removing | running | dead | created |\n"
                 "                        exited]\n");
}

static int ps_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_FORMAT = 256, OPT_SERVICES, OPT_STATUS };
    static const struct option options[] = {
        {"all", no_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"services", no_argument, NULL, OPT_SERVICES},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"status", required_argument, NULL, OPT_STATUS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const states[] = {"paused", "restarting", "removing", "running",
                                         "dead",   "created",    "exited"};
    struct ps_opts o = {0};
    int c, code = CLI_EXIT_USAGE;
    while ((c = cli_getopt_long(argc, argv, "aqh", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.all = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case OPT_SERVICES:
            o.services = true;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(optarg, &o.json) < 0)
                goto out;
            break;
        case OPT_STATUS: {
            bool known = false;
            for (size_t i = 0; i < CC_ARRAY_LEN(states); i++)
                known |= !strcmp(states[i], optarg);
            if (!known) {
                fprintf(stderr,
                        "error: invalid status '%s': --status takes paused, restarting, "
                        "removing, running, dead, created or exited\n",
                        optarg);
                goto out;
            }
            o.status = xrealloc(o.status, (size_t)(o.n_status + 1) * sizeof(*o.status));
            o.status[o.n_status++] = optarg;
            break;
        }
        case 'h':
            usage(stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    const char *project = NULL;
    struct compose_project *model = NULL;
    struct engine_client *client = NULL;
    struct sched_observed *observed = NULL;
    if ((code = cli_project_resolve(ctx, argv + optind, argc - optind, false, &project, &model)))
        goto out;
    if ((code = cli_engine_open(ctx, &client)) == 0 &&
        (code = cli_observe_containers(ctx, client, project, &observed)) == 0) {
        json_t *rows = json_array();
        long long now = (long long)time(NULL);
        for (size_t i = 0; i < observed->n_containers; i++)
            if (wanted(&o, &observed->containers[i], argv + optind, argc - optind))
                json_array_append_new(
                    rows, container_json(model, project, &observed->containers[i], now));
        size_t i;
        json_t *row;
        if (o.quiet) {
            json_array_foreach(rows, i, row) printf("%s\n", jstr(row, "ID"));
        } else if (o.services) {
            print_services(rows);
        } else if (o.json) {
            json_array_foreach(rows, i, row)
            {
                char *s = json_dumps(row, JSON_COMPACT);
                printf("%s\n", s);
                free(s);
            }
        } else {
            print_table(rows);
        }
        json_decref(rows);
    }
    sched_observed_free(observed);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    compose_project_free(model);
out:
    free(o.status);
    return code;
}

const struct cli_command cli_cmd_ps = {
    .name = "ps",
    .summary = "List containers",
    .run = ps_run,
};
