/* libarchive, loaded when first used rather than when ccompose starts.
 *
 * libarchive pulls in libxml2, ICU and libstdc++: linked directly they are mapped and relocated
 * at every start, a third of the start-up of a command like `ps` (bench/sched-50), though only
 * build, cp, run and the secrets injection make or read tar streams. Files that use libarchive
 * include this header instead of <archive.h> and <archive_entry.h>, and call its functions by
 * their usual names: each name below calls through a table that the first call fills with
 * dlopen()/dlsym(). If libarchive cannot be loaded (not installed), that first call prints why
 * and exits with status 1, which is what the dynamic loader did at start-up before, but now only
 * in the commands that need it.
 *
 * A function not listed here fails to link (it is not linked directly any more): add it to
 * CC_ARCHIVE_FUNCTIONS and to the #defines below. */
#ifndef CC_COMMON_ARCHIVE_H
#define CC_COMMON_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#define CC_ARCHIVE_FUNCTIONS(X)                                                                  \
    X(archive_entry_copy_hardlink)                                                               \
    X(archive_entry_copy_pathname)                                                               \
    X(archive_entry_free)                                                                        \
    X(archive_entry_gid)                                                                         \
    X(archive_entry_hardlink)                                                                    \
    X(archive_entry_mode)                                                                        \
    X(archive_entry_mtime)                                                                       \
    X(archive_entry_new)                                                                         \
    X(archive_entry_pathname)                                                                    \
    X(archive_entry_set_filetype)                                                                \
    X(archive_entry_set_gid)                                                                     \
    X(archive_entry_set_mode)                                                                    \
    X(archive_entry_set_mtime)                                                                   \
    X(archive_entry_set_pathname)                                                                \
    X(archive_entry_set_perm)                                                                    \
    X(archive_entry_set_size)                                                                    \
    X(archive_entry_set_symlink)                                                                 \
    X(archive_entry_set_uid)                                                                     \
    X(archive_entry_size)                                                                        \
    X(archive_entry_symlink)                                                                     \
    X(archive_entry_uid)                                                                         \
    X(archive_error_string)                                                                      \
    X(archive_read_data)                                                                         \
    X(archive_read_data_block)                                                                   \
    X(archive_read_free)                                                                         \
    X(archive_read_new)                                                                          \
    X(archive_read_next_header)                                                                  \
    X(archive_read_open)                                                                         \
    X(archive_read_support_format_tar)                                                           \
    X(archive_set_error)                                                                         \
    X(archive_write_close)                                                                       \
    X(archive_write_data)                                                                        \
    X(archive_write_data_block)                                                                  \
    X(archive_write_disk_new)                                                                    \
    X(archive_write_disk_set_options)                                                            \
    X(archive_write_finish_entry)                                                                \
    X(archive_write_free)                                                                        \
    X(archive_write_header)                                                                      \
    X(archive_write_new)                                                                         \
    X(archive_write_open2)                                                                       \
    X(archive_write_set_bytes_in_last_block)                                                     \
    X(archive_write_set_bytes_per_block)                                                         \
    X(archive_write_set_format_pax_restricted)

struct cc_archive_api {
#define CC_ARCHIVE_FIELD(f) __typeof__(f) *f;
    CC_ARCHIVE_FUNCTIONS(CC_ARCHIVE_FIELD)
#undef CC_ARCHIVE_FIELD
};

/* The table, loaded on the first call (not thread-safe: ccompose runs one thread). */
const struct cc_archive_api *cc_archive(void);

#ifndef CC_ARCHIVE_NO_REDIRECT
#define archive_entry_copy_hardlink (*cc_archive()->archive_entry_copy_hardlink)
#define archive_entry_copy_pathname (*cc_archive()->archive_entry_copy_pathname)
#define archive_entry_free (*cc_archive()->archive_entry_free)
#define archive_entry_gid (*cc_archive()->archive_entry_gid)
#define archive_entry_hardlink (*cc_archive()->archive_entry_hardlink)
#define archive_entry_mode (*cc_archive()->archive_entry_mode)
#define archive_entry_mtime (*cc_archive()->archive_entry_mtime)
#define archive_entry_new (*cc_archive()->archive_entry_new)
#define archive_entry_pathname (*cc_archive()->archive_entry_pathname)
#define archive_entry_set_filetype (*cc_archive()->archive_entry_set_filetype)
#define archive_entry_set_gid (*cc_archive()->archive_entry_set_gid)
#define archive_entry_set_mode (*cc_archive()->archive_entry_set_mode)
#define archive_entry_set_mtime (*cc_archive()->archive_entry_set_mtime)
#define archive_entry_set_pathname (*cc_archive()->archive_entry_set_pathname)
#define archive_entry_set_perm (*cc_archive()->archive_entry_set_perm)
#define archive_entry_set_size (*cc_archive()->archive_entry_set_size)
#define archive_entry_set_symlink (*cc_archive()->archive_entry_set_symlink)
#define archive_entry_set_uid (*cc_archive()->archive_entry_set_uid)
#define archive_entry_size (*cc_archive()->archive_entry_size)
#define archive_entry_symlink (*cc_archive()->archive_entry_symlink)
#define archive_entry_uid (*cc_archive()->archive_entry_uid)
#define archive_error_string (*cc_archive()->archive_error_string)
#define archive_read_data (*cc_archive()->archive_read_data)
#define archive_read_data_block (*cc_archive()->archive_read_data_block)
#define archive_read_free (*cc_archive()->archive_read_free)
#define archive_read_new (*cc_archive()->archive_read_new)
#define archive_read_next_header (*cc_archive()->archive_read_next_header)
#define archive_read_open (*cc_archive()->archive_read_open)
#define archive_read_support_format_tar (*cc_archive()->archive_read_support_format_tar)
#define archive_set_error (*cc_archive()->archive_set_error)
#define archive_write_close (*cc_archive()->archive_write_close)
#define archive_write_data (*cc_archive()->archive_write_data)
#define archive_write_data_block (*cc_archive()->archive_write_data_block)
#define archive_write_disk_new (*cc_archive()->archive_write_disk_new)
#define archive_write_disk_set_options (*cc_archive()->archive_write_disk_set_options)
#define archive_write_finish_entry (*cc_archive()->archive_write_finish_entry)
#define archive_write_free (*cc_archive()->archive_write_free)
#define archive_write_header (*cc_archive()->archive_write_header)
#define archive_write_new (*cc_archive()->archive_write_new)
#define archive_write_open2 (*cc_archive()->archive_write_open2)
#define archive_write_set_bytes_in_last_block (*cc_archive()->archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block (*cc_archive()->archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted                                                  \
    (*cc_archive()->archive_write_set_format_pax_restricted)
#endif

#endif
