/* The config hash: what, if it changes, means a service's containers must be recreated.
 *
 * It is the SHA-256 of the canonical JSON (sorted keys, compact) of the create body the service
 * would get, built in hash mode: without the compose labels (project, number, the hash itself,
 * working_dir, config files, depends_on, image ID, version) and with container 0's name where a
 * container's own name would go. So every field that reaches the engine is covered by
 * construction, and build, scale/deploy.replicas, depends_on and profiles (which never reach the
 * body) are not. docs/config-hash.md lists the fields. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/body.h"
#include "scheduler/scheduler-internal.h"
#include "scheduler/scheduler.h"

char *sched_hash_hex(const char *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL))
        abort(); /* SHA-256 with no engine cannot fail but for out-of-memory */
    static const char hex[] = "0123456789abcdef";
    char *out = xmalloc(2 * md_len + 1);
    for (unsigned int i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[2 * md_len] = '\0';
    return out;
}

char *sched_config_hash(const struct compose_project *p, const struct compose_service *s)
{
    json_t *body = sched_body_build(p, s, 0, NULL, true, NULL);
    if (!body)
        return NULL;
    char *canon = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(body);
    if (!canon)
        abort(); /* jansson fails only on out-of-memory */
    char *hash = sched_hash_hex(canon, strlen(canon));
    free(canon);
    return hash;
}
