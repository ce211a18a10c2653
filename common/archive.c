/* See archive.h: libarchive loaded on first use. */
#define CC_ARCHIVE_NO_REDIRECT
#include "common/archive.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The soname the headers were written for (Debian's libarchive13). */
#define CC_ARCHIVE_SONAME "libarchive.so.13"

static struct cc_archive_api api;
static int loaded;

static void fail(const char *what)
{
    fprintf(stderr,
            "ccompose: cannot load %s, which building images and copying files need: %s\n"
            "install it (Debian: apt-get install libarchive13)\n",
            CC_ARCHIVE_SONAME, what);
    exit(1);
}

const struct cc_archive_api *cc_archive(void)
{
    if (loaded)
        return &api;
    /* RTLD_NODELETE: the library stays mapped for the process's life, as a linked one did. */
    void *h = dlopen(CC_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h)
        fail(dlerror());
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define CC_ARCHIVE_LOAD(f)                                                                       \
    if (!(*(void **)&api.f = dlsym(h, #f)))                                                      \
        fail(#f " is missing");
    CC_ARCHIVE_FUNCTIONS(CC_ARCHIVE_LOAD)
#undef CC_ARCHIVE_LOAD
    loaded = 1;
    return &api;
}
