/* `ccompose port [--index N] [--protocol tcp|udp] SERVICE PRIVATE_PORT`: the host address a
 * container port is published on, "HOST:PORT", as docker compose prints it. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/buf.h"

/* The service's running container numbered index, or with index 0 its first (by number, one-off
 * ones last), as docker compose picks it. Borrowed; NULL when there is none. */
static const struct sched_observed_container *pick(const struct cli_view *v, const char *service,
                                                   int index)
{
    static const char *const running[] = {"running", "paused", NULL};
    char *const services[] = {(char *)service};
    size_t n = 0;
    struct sched_observed_container **cts =
        cli_select_containers(v, services, 1, true, true, running, &n);
    const struct sched_observed_container *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sched_observed_container *ct = cts[i];
        if (index > 0 && ct->number != index)
            continue;
        if (!best || (best->oneoff && !ct->oneoff) ||
            (best->oneoff == ct->oneoff && ct->number < best->number))
            best = ct;
    }
    free(cts);
    return best;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose port [OPTIONS] SERVICE PRIVATE_PORT\n\n"
                 "Print the public port for a port binding\n\n"
                 "Options:\n"
                 "      --index int         Index of the container if service has multiple\n"
                 "                          replicas\n"
                 "      --protocol string   tcp or udp (default \"tcp\")\n");
}

static int port_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_INDEX = 256, OPT_PROTOCOL };
    static const struct option options[] = {
        {"index", required_argument, NULL, OPT_INDEX},
        {"protocol", required_argument, NULL, OPT_PROTOCOL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int index = 0, c;
    const char *protocol = "tcp";
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_INDEX:
            if (cli_parse_count("--index", optarg, 100000, &index) < 0)
                return CLI_EXIT_USAGE;
            break;
        case OPT_PROTOCOL:
            if (strcmp(optarg, "tcp") && strcmp(optarg, "udp") && strcmp(optarg, "sctp")) {
                fprintf(stderr, "error: --protocol takes tcp, udp or sctp, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            protocol = optarg;
            break;
        default:
            return cli_usage_exit(c, usage);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "error: port takes a service and a private port\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *service = argv[optind];
    int private_port;
    if (cli_parse_count("PRIVATE_PORT", argv[optind + 1], 65535, &private_port) < 0)
        return CLI_EXIT_USAGE;
    struct cli_view v;
    struct buf have = BUF_INIT;
    /* As docker compose's port: the project's name only; a service it does not have is "not
     * running" below. */
    int code = cli_view_open(ctx, NULL, 0, &v);
    if (code)
        goto out;
    const struct sched_observed_container *ct = pick(&v, service, index);
    code = CLI_EXIT_FAILURE;
    if (!ct) {
        if (index > 0)
            fprintf(stderr, "error: service \"%s\" is not running container #%d\n", service, index);
        else
            fprintf(stderr, "error: service \"%s\" is not running\n", service);
        goto out;
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ct->summary, "Ports"), i, p)
    {
        const char *type = json_string_value(json_object_get(p, "Type"));
        json_int_t priv = json_integer_value(json_object_get(p, "PrivatePort"));
        json_int_t pub = json_integer_value(json_object_get(p, "PublicPort"));
        if (priv == private_port && type && !strcmp(type, protocol)) {
            const char *ip = json_string_value(json_object_get(p, "IP"));
            printf("%s:%lld\n", ip ? ip : "", (long long)pub);
            code = CLI_EXIT_OK;
            goto out;
        }
        buf_printf(&have, "%s%lld/%s", have.len ? ", " : "", (long long)pub, type ? type : "");
    }
    fprintf(stderr, "error: no port %d/%s for container %s: %s\n", private_port, protocol, ct->name,
            have.len ? buf_str(&have) : "");
out:
    buf_release(&have);
    cli_view_release(ctx, &v);
    return code;
}

const struct cli_command cli_cmd_port = {
    .name = "port",
    .summary = "Print the public port for a port binding",
    .run = port_run,
};
