/* The uploader's spool directory (see spool.h). */
#include "ops/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sha256.h"
#include "util/text.h"

static const char suffix[] = ".json";

static int open_dir(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* close(2) that keeps errno: for cleanup paths. */
static void close_quietly(int fd)
{
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
}

/* A name this module may act on: one path component, not hidden. */
static bool plain_name(const char *name)
{
    return name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < SPOOL_NAME_MAX;
}

int spool_prepare(const char *dir)
{
    char sub[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, SPOOL_REJECTED) >= sizeof sub) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    if (mkdir(sub, 0700) < 0 && errno != EEXIST)
        return -1;
    int fd = open_dir(sub);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes data as dirfd/name, whole or not at all, durably: a hidden
 * temporary file, fsync, rename, fsync of the directory. */
static int write_atomic(int dirfd, const char *name, const void *data, size_t len)
{
    char tmp[SPOOL_NAME_MAX + 32], hex[17];
    unsigned char rnd[8];
    int fd = -1;

    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -1;
    hex_encode(rnd, sizeof rnd, hex);
    if ((size_t)snprintf(tmp, sizeof tmp, ".%s.%s.tmp", name, hex) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
        goto fail;
    int rc = close(fd);
    fd = -1;
    if (rc < 0 || renameat(dirfd, tmp, dirfd, name) < 0)
        goto fail;
    return fsync(dirfd);

fail:
    close_quietly(fd);
    {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        errno = saved;
    }
    return -1;
}

/* "<UTC time>.<ns>Z-<16 hex digits of SHA-256>.json" */
static int make_name(const void *body, size_t len, char name[SPOOL_NAME_MAX])
{
    struct timespec now;
    struct tm tm;
    char stamp[32], hash[2 * SHA256_LEN + 1];
    if (clock_gettime(CLOCK_REALTIME, &now) < 0 || !gmtime_r(&now.tv_sec, &tm) ||
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm) == 0)
        return -1;
    sha256_hex(body, len, hash);
    snprintf(name, SPOOL_NAME_MAX, "%s.%09ldZ-%.16s%s", stamp, now.tv_nsec, hash, suffix);
    return 0;
}

int spool_put(const char *dir, const void *body, size_t len, char name[SPOOL_NAME_MAX])
{
    int dfd = open_dir(dir);
    if (dfd < 0)
        return -1;
    int rc = make_name(body, len, name) < 0 ? -1 : write_atomic(dfd, name, body, len);
    close_quietly(dfd);
    return rc;
}

/* name + ".error", the reason's file. */
static int reason_name(const char *name, char out[SPOOL_NAME_MAX + 8])
{
    if ((size_t)snprintf(out, SPOOL_NAME_MAX + 8, "%s.error", name) >= SPOOL_NAME_MAX + 8) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Opens dir and its rejected/: 0, or -1 with neither open. */
static int open_both(const char *dir, int *dfd, int *rfd)
{
    *rfd = -1;
    if ((*dfd = open_dir(dir)) < 0)
        return -1;
    if ((*rfd = openat(*dfd, SPOOL_REJECTED, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        close_quietly(*dfd);
        *dfd = -1;
        return -1;
    }
    return 0;
}

/* Closes what open_both opened; returns rc, errno kept. */
static int close_both(int dfd, int rfd, int rc)
{
    close_quietly(rfd);
    close_quietly(dfd);
    return rc;
}

int spool_put_rejected(const char *dir, const void *body, size_t len, const char *reason, size_t reason_len,
                       char name[SPOOL_NAME_MAX])
{
    char why[SPOOL_NAME_MAX + 8];
    int rfd, dfd;
    if (open_both(dir, &dfd, &rfd) < 0)
        return -1;
    /* The reason first: a payload in rejected/ always has its reason. */
    bool ok = make_name(body, len, name) == 0 && reason_name(name, why) == 0 &&
              write_atomic(rfd, why, reason, reason_len) == 0 && write_atomic(rfd, name, body, len) == 0;
    return close_both(dfd, rfd, ok ? 0 : -1);
}

int spool_reject(const char *dir, const char *name, const char *reason, size_t reason_len)
{
    char why[SPOOL_NAME_MAX + 8];
    int rfd, dfd;
    if (!plain_name(name)) {
        errno = EINVAL;
        return -1;
    }
    if (reason_name(name, why) < 0 || open_both(dir, &dfd, &rfd) < 0)
        return -1;
    if (write_atomic(rfd, why, reason, reason_len) < 0)
        return close_both(dfd, rfd, -1);
    if (renameat(dfd, name, rfd, name) < 0) {
        if (errno != ENOENT)
            return close_both(dfd, rfd, -1);
        /* Another drain took it meanwhile: no payload, no reason. */
        unlinkat(rfd, why, 0);
    }
    return close_both(dfd, rfd, fsync(rfd) < 0 || fsync(dfd) < 0 ? -1 : 0);
}

int spool_remove(const char *dir, const char *name)
{
    int dfd;
    if (!plain_name(name)) {
        errno = EINVAL;
        return -1;
    }
    if ((dfd = open_dir(dir)) < 0)
        return -1;
    int rc = unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    close_quietly(dfd);
    return rc;
}

int spool_sync(const char *dir)
{
    int dfd = open_dir(dir);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close_quietly(dfd);
    return rc;
}

static bool pending_name(const char *name)
{
    size_t n = strlen(name);
    return plain_name(name) && n > sizeof suffix - 1 && strcmp(name + n - (sizeof suffix - 1), suffix) == 0;
}

static int by_time_then_name(const void *a, const void *b)
{
    const struct spool_entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

int spool_lock(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int busy = errno == EWOULDBLOCK;
        close_quietly(fd);
        return busy ? -2 : -1;
    }
    return fd;
}

int spool_list(const char *dir, struct spool_list *out)
{
    size_t cap = 0;
    struct dirent *e;
    DIR *d = NULL;
    int dfd = open_dir(dir);

    out->items = NULL;
    out->count = 0;
    if (dfd < 0 || !(d = fdopendir(dfd)))
        goto fail;
    for (;;) {
        struct stat st;
        errno = 0;
        if ((e = readdir(d)) == NULL)
            break;
        if (!pending_name(e->d_name))
            continue;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) /* sent by another drain meanwhile */
                continue;
            goto fail;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 64;
            out->items = xrealloc(out->items, cap * sizeof *out->items);
        }
        out->items[out->count].name = xstrdup(e->d_name);
        out->items[out->count].mtime = st.st_mtim;
        out->count++;
    }
    if (errno != 0)
        goto fail;
    closedir(d);
    if (out->count > 1)
        qsort(out->items, out->count, sizeof *out->items, by_time_then_name);
    return 0;

fail:
    {
        int saved = errno;
        if (d)
            closedir(d); /* closes dfd too */
        else
            close_quietly(dfd);
        spool_list_free(out);
        errno = saved;
    }
    return -1;
}

void spool_list_free(struct spool_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].name);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

int spool_read_fd(int fd, struct buf *out)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 0;
        buf_append(out, chunk, (size_t)n);
    }
}

int spool_read(const char *dir, const char *name, struct buf *out)
{
    struct stat st;
    int rc = -1, fd = -1, dfd;
    if (!plain_name(name)) {
        errno = EINVAL;
        return -1;
    }
    if ((dfd = open_dir(dir)) < 0)
        return -1;
    if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto out;
    }
    rc = spool_read_fd(fd, out);
out:
    close_quietly(fd);
    close_quietly(dfd);
    return rc;
}
