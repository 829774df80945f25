/* Unit tests for spool.c: a kept payload is a whole file named by time and
 * hash, private, with no temporary left behind; listing finds only
 * pending payloads (not hidden or temporary files, not other names, not
 * links or directories), in the order they were kept; refused payloads
 * move to rejected/ with their reason; removing is idempotent; names that
 * would leave the directory are refused. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/spool.h"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/agora-spool-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(rmdir(dir), 0); /* spool_prepare makes it */
    cr_assert_eq(spool_prepare(dir), 0);
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(spool, .init = make_dir, .fini = remove_dir);

static char *path_of(const char *sub, const char *name)
{
    static char p[4][512];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "%s%s%s/%s", dir, sub[0] ? "/" : "", sub, name);
    return out;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0, "%s", path);
}

static void read_back(const char *sub, const char *name, const char *want)
{
    struct buf b;
    buf_init(&b);
    if (!sub[0]) {
        cr_assert_eq(spool_read(dir, name, &b), 0, "%s", name);
    } else {
        int fd = open(path_of(sub, name), O_RDONLY);
        cr_assert_geq(fd, 0, "%s/%s", sub, name);
        cr_assert_eq(spool_read_fd(fd, &b), 0);
        close(fd);
    }
    cr_assert_eq(b.len, strlen(want));
    cr_assert(b.len == 0 || memcmp(b.data, want, b.len) == 0);
    buf_free(&b);
}

/* Names in the directory (sub) that start with '.', joined. */
static size_t hidden_files(const char *sub)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    DIR *d = opendir(p);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The spool lists exactly want, in that order. */
static void assert_listed(const char *const *want, size_t n)
{
    struct spool_list l;
    cr_assert_eq(spool_list(dir, &l), 0);
    cr_assert_eq(l.count, n, "%zu listed, want %zu", l.count, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(l.items[i].name, want[i], "position %zu", i);
    spool_list_free(&l);
}

Test(spool, prepare_makes_a_private_directory_with_rejected_and_may_run_again)
{
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(stat(path_of("", SPOOL_REJECTED), &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(spool_prepare(dir), 0);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/parent", dir);
    cr_assert_eq(spool_prepare(missing), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(spool, a_kept_payload_is_whole_private_named_by_time_and_hash_and_listed)
{
    static const char body[] = "{\"workflow_id\":\"w\"}";
    char name[SPOOL_NAME_MAX];
    cr_assert_eq(spool_put(dir, body, strlen(body), name), 0);
    /* 20261204T183636.035110589Z- then the hash's first 16 digits of
     * sha256("{\"workflow_id\":\"w\"}"), then .json */
    cr_assert_eq(strlen(name), 48, "%s", name);
    cr_assert_eq(name[8], 'T');
    cr_assert_eq(name[25], 'Z');
    cr_assert_str_eq(name + 48 - 5, ".json");
    read_back("", name, body);
    struct stat st;
    cr_assert_eq(stat(path_of("", name), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(hidden_files(""), 0, "a temporary file was left");

    const char *want[] = {name};
    assert_listed(want, 1);
}

Test(spool, an_empty_payload_is_kept_too)
{
    char name[SPOOL_NAME_MAX];
    cr_assert_eq(spool_put(dir, "", 0, name), 0);
    read_back("", name, "");
}

Test(spool, payloads_kept_one_after_another_list_in_that_order)
{
    char names[20][SPOOL_NAME_MAX];
    const char *want[20];
    for (int i = 0; i < 20; i++) {
        char body[32];
        snprintf(body, sizeof body, "{\"i\":%d}", i);
        cr_assert_eq(spool_put(dir, body, strlen(body), names[i]), 0);
        want[i] = names[i];
    }
    assert_listed(want, 20);
}

Test(spool, the_list_is_ordered_by_modification_time_then_name_whoever_wrote_the_files)
{
    /* Another client's names need not sort by time. */
    write_file(path_of("", "zzz.json"), "{}");
    write_file(path_of("", "aaa.json"), "{}");
    write_file(path_of("", "mmm.json"), "{}");
    write_file(path_of("", "bbb.json"), "{}");
    set_mtime(path_of("", "zzz.json"), 1000, 1);
    set_mtime(path_of("", "aaa.json"), 1000, 2);
    set_mtime(path_of("", "mmm.json"), 999, 0);
    set_mtime(path_of("", "bbb.json"), 1000, 2);
    static const char *const want[] = {"mmm.json", "zzz.json", "aaa.json", "bbb.json"};
    assert_listed(want, 4);
}

Test(spool, only_pending_payloads_are_listed)
{
    write_file(path_of("", "ok.json"), "{}");
    write_file(path_of("", ".hidden.json"), "{}");         /* a writer's temporary file */
    write_file(path_of("", ".ok.json.1234.tmp"), "{}");    /* ours */
    write_file(path_of("", "ok.json.tmp"), "{}");
    write_file(path_of("", "notes.txt"), "x");
    write_file(path_of("", ".json"), "{}");
    write_file(path_of("", "x.JSON"), "{}");
    cr_assert_eq(mkdir(path_of("", "dir.json"), 0700), 0);
    cr_assert_eq(symlink("/etc/passwd", path_of("", "link.json")), 0);
    write_file(path_of(SPOOL_REJECTED, "refused.json"), "{}");
    static const char *const want[] = {"ok.json"};
    assert_listed(want, 1);
    /* And a link is never read through. */
    struct buf b;
    buf_init(&b);
    cr_assert_eq(spool_read(dir, "link.json", &b), -1);
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(spool, a_refused_payload_moves_to_rejected_with_its_reason)
{
    write_file(path_of("", "bad.json"), "not json");
    static const char reason[] = "{\"status\":400}\n";
    cr_assert_eq(spool_reject(dir, "bad.json", reason, strlen(reason)), 0);
    cr_assert_eq(access(path_of("", "bad.json"), F_OK), -1);
    read_back(SPOOL_REJECTED, "bad.json", "not json");
    read_back(SPOOL_REJECTED, "bad.json.error", reason);
    cr_assert_eq(hidden_files(SPOOL_REJECTED), 0);
    assert_listed(NULL, 0);
}

Test(spool, a_payload_gone_before_it_is_moved_aside_leaves_no_reason_behind)
{
    cr_assert_eq(spool_reject(dir, "gone.json", "{}", 2), 0);
    cr_assert_eq(access(path_of(SPOOL_REJECTED, "gone.json.error"), F_OK), -1);
}

Test(spool, a_refused_payload_from_elsewhere_is_set_aside_with_its_reason)
{
    char name[SPOOL_NAME_MAX];
    cr_assert_eq(spool_put_rejected(dir, "[1,", 3, "{\"why\":1}", 9, name), 0);
    read_back(SPOOL_REJECTED, name, "[1,");
    char why[SPOOL_NAME_MAX + 8];
    snprintf(why, sizeof why, "%s.error", name);
    read_back(SPOOL_REJECTED, why, "{\"why\":1}");
    assert_listed(NULL, 0); /* a refused payload is not pending */
}

Test(spool, removing_is_idempotent)
{
    char name[SPOOL_NAME_MAX];
    cr_assert_eq(spool_put(dir, "{}", 2, name), 0);
    cr_assert_eq(spool_remove(dir, name), 0);
    cr_assert_eq(access(path_of("", name), F_OK), -1);
    cr_assert_eq(spool_remove(dir, name), 0);
    cr_assert_eq(spool_sync(dir), 0);
}

Test(spool, names_that_would_leave_the_directory_are_refused)
{
    static const char *bad[] = {"../x.json", "a/b.json", ".hidden.json", ""};
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        cr_assert_eq(spool_remove(dir, bad[i]), -1, "%s", bad[i]);
        cr_assert_eq(errno, EINVAL);
        cr_assert_eq(spool_reject(dir, bad[i], "{}", 2), -1, "%s", bad[i]);
        cr_assert_eq(spool_read(dir, bad[i], &b), -1, "%s", bad[i]);
    }
    buf_free(&b);
}

Test(spool, a_spool_that_cannot_be_written_says_so)
{
    char name[SPOOL_NAME_MAX];
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    cr_assert_eq(spool_put(missing, "{}", 2, name), -1);
    cr_assert_eq(errno, ENOENT);
    struct spool_list l;
    cr_assert_eq(spool_list(missing, &l), -1);
    cr_assert_eq(l.count, 0);
    cr_assert_null(l.items);
}

Test(spool, reading_a_descriptor_takes_everything_up_to_its_end)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(write(p[1], "abc", 3), 3);
    cr_assert_eq(write(p[1], "def", 3), 3);
    close(p[1]);
    struct buf b;
    buf_init(&b);
    cr_assert_eq(spool_read_fd(p[0], &b), 0);
    close(p[0]);
    cr_assert_eq(b.len, 6);
    cr_assert_str_eq(b.data, "abcdef");
    buf_free(&b);
}

/* One drainer at a time, across processes and with the Python client's
 * drainer (the same flock on DIR/.lock); the lock goes with its
 * descriptor, and the lock file is no payload. */
Test(spool, one_drainer_at_a_time_holds_the_lock)
{
    int fd = spool_lock(dir);
    cr_assert_geq(fd, 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(spool_lock(dir) == -2 ? 0 : 1);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a second drainer got the lock");
    cr_assert_eq(close(fd), 0);
    int again = spool_lock(dir);
    cr_assert_geq(again, 0, "released with its descriptor");
    close(again);
    struct spool_list l;
    cr_assert_eq(spool_list(dir, &l), 0);
    cr_assert_eq(l.count, 0);
    spool_list_free(&l);
}
