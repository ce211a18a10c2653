/* Images for services: building one service's image, pulling an image, and deciding from a
 * service's pull_policy which of the two (if either) `up` needs. The scheduler's up engine calls
 * these; they report through callbacks and never print.
 *
 * Operations run on the engine client's loop. Each returns a handle at once (or NULL with *reterr
 * filled, and then its callback never runs) and calls its completion callback exactly once,
 * later, from the loop; the handle is freed right after that callback returns. Progress callbacks
 * run before completion, any number of times. Everything a callback is handed is *borrowed* for
 * the duration of the call. The model is read only while the call is made: nothing points into it
 * afterwards. */
#ifndef CC_SCHEDULER_IMAGES_H
#define CC_SCHEDULER_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose/compose.h"
#include "engine-client/engine.h"

/* ---- Build -------------------------------------------------------------------------------- */

struct sched_build_progress {
    const char *service;
    int step;                /* "Step 2/5": 2; 0 before the first step */
    int steps;               /* 5; 0 before the first step */
    const char *instruction; /* the current step's instruction ("RUN make"), or NULL */
    const char *line;        /* one line of the engine's output, without its newline */
    bool cached;             /* line says the current step was taken from the cache */
};
typedef void (*sched_build_progress_cb)(const struct sched_build_progress *p, void *data);

struct sched_build_result {
    const char *service;
    const char *image;         /* the name it was tagged with */
    const char *image_id;      /* "sha256:..." */
    uint64_t context_bytes;    /* the tar stream's size */
    size_t context_high_water; /* the most bytes of it held in memory at once */
};
/* res is NULL on failure. */
typedef void (*sched_build_cb)(const struct sched_build_result *res, const struct cc_error *err,
                               void *data);

struct sched_build_options {
    /* --build-arg values, "KEY=VALUE" or "KEY" (then the value comes from the environment, and
     * the argument is left out when it is unset); they override build.args. */
    const char *const *build_args;
    size_t n_build_args;
    bool no_cache;     /* --no-cache, or'ed with build.no_cache */
    bool pull;         /* --pull, or'ed with build.pull */
    size_t chunk_size; /* context bytes read per step; 0: the default */
};

struct sched_build;

/* Builds s's image (s->build must be set) and tags it sched_image_name() (s->image when given),
 * plus build.tags. The context is streamed as it is read (scheduler/build-context.h). Sends
 * dockerfile (or the added inline/outside one), target, args, labels (with
 * com.docker.compose.project/.service), network, shm_size, extra_hosts, cache_from, no_cache and
 * pull. Fails at once with CC_ERR_NOT_FOUND / CC_ERR_INVALID_CONFIG for an unusable context,
 * Dockerfile or .dockerignore, CC_ERR_UNSUPPORTED for a URL context. A failed step completes with
 * CC_ERR_FAILED naming the service, the step and its instruction; engine_message holds the
 * engine's words. opts may be NULL. */
struct sched_build *sched_build_service(struct engine_client *c, const struct compose_project *p,
                                        const struct compose_service *s,
                                        const struct sched_build_options *opts,
                                        sched_build_progress_cb on_progress, sched_build_cb cb,
                                        void *data, struct cc_error *reterr);
/* The callback then runs from the loop with CC_ERR_CANCELLED (unless it already ran). Safe from
 * inside the build's own callbacks. */
void sched_build_cancel(struct sched_build *b);

/* ---- Pull --------------------------------------------------------------------------------- */

struct sched_pull_progress {
    const char *image;
    const char *layer;  /* the layer's short ID, or NULL for a line about the whole image */
    const char *status; /* "Pulling fs layer", "Downloading", "Pull complete", ... */
    int64_t current;    /* bytes done and total, 0 when the line says none */
    int64_t total;
};
typedef void (*sched_pull_progress_cb)(const struct sched_pull_progress *p, void *data);
typedef void (*sched_pull_cb)(const char *image, const struct cc_error *err, void *data);

struct sched_pull;

/* Pulls image ("name", "name:tag", "host:port/name:tag", "name@sha256:..."). A failure keeps the
 * engine's kind (CC_ERR_NOT_FOUND for an unknown image) with a message naming the image and its
 * registry, and the engine's words in engine_message. */
struct sched_pull *sched_pull_image(struct engine_client *c, const char *image,
                                    sched_pull_progress_cb on_progress, sched_pull_cb cb,
                                    void *data, struct cc_error *reterr);
void sched_pull_cancel(struct sched_pull *pl);

/* Pushes image (it must be on the engine) to the registry its name points at. Progress and
 * errors as sched_pull_image ("cannot push image '...' to registry '...': ..."). */
struct sched_pull *sched_push_image(struct engine_client *c, const char *image,
                                    sched_pull_progress_cb on_progress, sched_pull_cb cb,
                                    void *data, struct cc_error *reterr);

/* The registry an image name points at: "host:port" or "docker.io". new. */
char *sched_image_registry(const char *image);

/* The X-Registry-Auth value for image's registry from $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json ("auths": base64 "user:password" in "auth", or "identitytoken"); NULL
 * when there is none (credential helpers are not read). new. Pulls and pushes send it. */
char *sched_registry_auth(const char *image);

/* ---- pull_policy -------------------------------------------------------------------------- */

enum sched_image_action {
    SCHED_IMAGE_USE = 0, /* the local image will do */
    SCHED_IMAGE_PULL,
    SCHED_IMAGE_BUILD,
};

/* What `up` does for s's image under its pull_policy (missing when unset, as docker compose):
 * always: pull; never: use (build when missing and s has a build, else fail); missing and
 * if_not_present: use, or build when missing and s has a build, else pull; build: build (s must
 * have a build); daily, weekly, every_<duration>: pull when missing or when image_age_ns (the time
 * since the local image was made or pulled; < 0 unknown) is at least the period, else use.
 * Fails with CC_ERR_INVALID_CONFIG for an unknown policy or `build` without a build section, and
 * CC_ERR_NOT_FOUND for `never` with the image missing and nothing to build. */
int sched_image_action(const struct compose_service *s, bool image_exists, int64_t image_age_ns,
                       enum sched_image_action *ret, struct cc_error *reterr);

#endif
