/* The short port syntax, "[[IP:]HOST:]CONTAINER[/PROTO]", read as compose-go reads it through
 * docker's go-connections nat package: ranges expand to one entry per container port. */
#include "compose/parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char port_hint[] =
    "write CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER with an optional /tcp, /udp or /sctp, "
    "e.g. '8080:80' or '127.0.0.1:8000-8010:8000-8010/udp'";

static int port_error(struct cc_error *reterr, const char *hint, const char *fmt, ...)
    CC_PRINTF(3, 4);

static int port_error(struct cc_error *reterr, const char *hint, const char *fmt, ...)
{
    if (!reterr)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "%s", msg);
    cc_error_hint(reterr, "%s", hint);
    free(msg);
    return -1;
}

/* "80" or "8000-8010" into [*lo, *hi]. Ports are 1..65535: port 0 means "any" to the engine,
 * which the short syntax says by leaving the host port out. */
static int port_range(const char *spec, const char *what, const char *s, size_t n, unsigned *lo,
                      unsigned *hi, struct cc_error *reterr)
{
    unsigned v[2] = {0, 0};
    int k = 0;
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && k == 0 && digits) {
            k = 1;
            digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9' && v[k] <= 65535) {
            v[k] = v[k] * 10 + (unsigned)(s[i] - '0');
            digits++;
        } else if (!(s[i] >= '0' && s[i] <= '9')) {
            return port_error(reterr, port_hint,
                              "invalid port '%s': %s '%.*s' is not a port or a range", spec, what,
                              (int)n, s);
        }
    }
    if (!digits)
        return port_error(reterr, port_hint,
                          "invalid port '%s': %s '%.*s' is not a port or a range", spec, what,
                          (int)n, s);
    if (!k)
        v[1] = v[0];
    for (int i = 0; i < 2; i++)
        if (v[i] < 1 || v[i] > 65535)
            return port_error(
                reterr,
                v[i] ? port_hint : "leave the host port out to let the engine pick a free one",
                "invalid port '%s': %s %u is not between 1 and 65535", spec, what, v[i]);
    if (v[1] < v[0])
        return port_error(reterr, "write the range lowest port first",
                          "invalid port '%s': %s range '%.*s' ends before it starts", spec, what,
                          (int)n, s);
    *lo = v[0];
    *hi = v[1];
    return 0;
}

static int cmp_port(const void *x, const void *y)
{
    /* compose-go sorts the ports as strings ("100/tcp" before "99/tcp"); so does docker compose
     * config, so the order is kept. */
    char a[8], b[8];
    snprintf(a, sizeof(a), "%u", ((const struct parse_port *)x)->target);
    snprintf(b, sizeof(b), "%u", ((const struct parse_port *)y)->target);
    return strcmp(a, b);
}

int parse_port_spec(struct arena *a, const char *spec, struct parse_port **ret, size_t *ret_n,
                    struct cc_error *reterr)
{
    /* The last two ':'-separated parts are host and container port; whatever is before them is
     * the IP, so "::1:8080:80" reads as IP "::1" just as "[::1]:8080:80" does. */
    const char *c2 = strrchr(spec, ':');
    const char *c1 = NULL;
    if (c2)
        for (const char *p = c2; p > spec;)
            if (*--p == ':') {
                c1 = p;
                break;
            }
    const char *cport = c2 ? c2 + 1 : spec;
    const char *host = c1 ? c1 + 1 : spec;
    size_t host_len = c2 ? (size_t)(c2 - host) : 0;
    char *ip = c1 ? xstrndup(spec, (size_t)(c1 - spec)) : xstrdup("");
    char *proto = NULL;
    int rc = -1;

    const char *slash = strchr(cport, '/');
    size_t cport_len = slash ? (size_t)(slash - cport) : strlen(cport);
    proto = xstrdup(slash && slash[1] ? slash + 1 : "tcp");
    for (char *p = proto; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');

    size_t ip_len = strlen(ip);
    if (ip_len && ip[0] == '[') {
        if (ip_len < 2 || ip[ip_len - 1] != ']') {
            port_error(reterr, "close the IPv6 address with ']', e.g. '[::1]:8080:80'",
                       "invalid port '%s': '%s' is not an IP address", spec, ip);
            goto out;
        }
        memmove(ip, ip + 1, ip_len - 2);
        ip[ip_len - 2] = '\0';
    }
    unsigned char addr[16];
    if (ip[0] && inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) {
        port_error(reterr, port_hint, "invalid port '%s': '%s' is not an IP address", spec, ip);
        goto out;
    }
    if (cport_len == 0) {
        port_error(reterr, port_hint, "invalid port '%s': no container port", spec);
        goto out;
    }
    unsigned lo, hi, hlo = 0, hhi = 0;
    if (port_range(spec, "container port", cport, cport_len, &lo, &hi, reterr) < 0)
        goto out;
    if (host_len && port_range(spec, "host port", host, host_len, &hlo, &hhi, reterr) < 0)
        goto out;
    /* A host range for a single container port is a pool the engine picks from; otherwise the
     * ranges pair up one to one and must be the same size. */
    if (host_len && hi - lo != hhi - hlo && hi != lo) {
        port_error(reterr, "give the host and container ranges the same number of ports",
                   "invalid port '%s': container range '%.*s' and host range '%.*s' differ in "
                   "size",
                   spec, (int)cport_len, cport, (int)host_len, host);
        goto out;
    }
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0) {
        port_error(reterr, "use tcp, udp or sctp", "invalid port '%s': unknown protocol '%s'", spec,
                   slash + 1);
        goto out;
    }

    size_t n = hi - lo + 1;
    struct parse_port *ports = arena_alloc(a, n * sizeof(*ports));
    const char *a_ip = arena_strdup(a, ip), *a_proto = arena_strdup(a, proto);
    for (size_t i = 0; i < n; i++) {
        ports[i].target = lo + (unsigned)i;
        if (!host_len)
            ports[i].published = "";
        else if (lo == hi && hlo != hhi)
            ports[i].published = arena_printf(a, "%u-%u", hlo, hhi);
        else
            ports[i].published = arena_printf(a, "%u", hlo + (unsigned)i);
        ports[i].host_ip = a_ip;
        ports[i].protocol = a_proto;
        ports[i].mode = "ingress";
    }
    qsort(ports, n, sizeof(*ports), cmp_port);
    *ret = ports;
    *ret_n = n;
    rc = 0;
out:
    free(proto);
    free(ip);
    return rc;
}
