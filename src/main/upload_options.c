/* agora-upload's command line: the options, their defaults and limits,
 * the checks of how they combine, and the text of --help (the exit
 * codes it lists are enum upload_exit in upload.c). */
#include "main/upload.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

#define PARALLEL_DEFAULT 4u
#define PARALLEL_MAX 32u
#define RETRIES_DEFAULT 8u
#define RETRIES_MAX 100u
#define TIMEOUT_DEFAULT_S 120L

static const char usage_text[] =
    "Usage: agora-upload [OPTION]... FILE...\n"
    "       agora-upload [OPTION]... -            (one payload from standard input)\n"
    "       agora-upload [OPTION]... --drain DIR  (send what a spool holds)\n"
    "\n"
    "Sends workflow execution payloads (JSON files, each the body of POST /api/executions/ingest)\n"
    "to Agora Cloud, each with the SHA-256 of its bytes as Idempotency-Key: a payload sent twice\n"
    "is stored once.\n"
    "\n"
    "  --url URL            the API (https://HOST/api) or the site (https://HOST); default $AGORA_URL\n"
    "  --api-key-file F     a file holding a project API key (agk_...); or $AGORA_API_KEY_FILE\n"
    "  --token-file F       a file holding a user's token (JWT); or $AGORA_TOKEN_FILE\n"
    "  --ca-file F          trust the certificates in F (default: the system's, or $SSL_CERT_FILE)\n"
    "  --spool DIR          keep what could not be sent in DIR (and refused payloads in DIR/rejected)\n"
    "  --drain DIR          send the payloads kept in DIR; remove each once stored\n"
    "  --retries N          retries per payload before giving up on the server (default 8)\n"
    "  --parallel N         payloads in flight at once, 1..32 (default 4)\n"
    "  --timeout S          seconds one attempt may take (default 120)\n"
    "  --no-progress        no progress bar (shown on a terminal for several payloads)\n"
    "  -q, --quiet          print only problems\n"
    "  -v, --verbose        also print each payload stored\n"
    "  -h, --help           this help;  --version  the version\n"
    "\n"
    "Retries (no connection, 429, 5xx) back off exponentially with jitter, from 0.5 s to 30 s,\n"
    "and never come sooner than the server's Retry-After. Refused payloads (400, 413, 422...)\n"
    "are reported with the server's path and message and never retried.\n"
    "\n"
    "Exit status:\n"
    "  0  every payload is stored (a replayed answer, or a 409 for an execution already\n"
    "     closed, counts as stored)\n"
    "  1  partial: some payloads stored, others not sent (kept in the spool with --spool)\n"
    "  2  refused: every payload was sent, and the server refused some\n"
    "  3  unreachable: nothing stored, the server could not be reached (the payloads are\n"
    "     kept in the spool with --spool)\n"
    "  4  not accepted: credentials refused (401, 403), certificate not trusted, or the URL\n"
    "     is not the Agora API; nothing more was sent\n"
    "  5  usage error, or a local error (an unreadable file, a spool that cannot be written)\n"
    "\n"
    "See agora-upload(1).\n";

static int parse_count(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    if (decimal_parse(s, hi, out) < 0 || *out < lo) {
        fprintf(stderr, "agora-upload: %s takes a whole number from %lld to %lld\n", opt, lo, hi);
        return -1;
    }
    return 0;
}

int parse_options(int argc, char **argv, struct options *opt)
{
    enum { O_URL = 256, O_KEY, O_TOKEN, O_CA, O_SPOOL, O_DRAIN, O_RETRIES, O_PARALLEL, O_TIMEOUT, O_NOPROG,
           O_VERSION };
    static const struct option longs[] = {
        {"url", required_argument, NULL, O_URL},           {"api-key-file", required_argument, NULL, O_KEY},
        {"token-file", required_argument, NULL, O_TOKEN},  {"ca-file", required_argument, NULL, O_CA},
        {"spool", required_argument, NULL, O_SPOOL},       {"drain", required_argument, NULL, O_DRAIN},
        {"retries", required_argument, NULL, O_RETRIES},   {"parallel", required_argument, NULL, O_PARALLEL},
        {"timeout", required_argument, NULL, O_TIMEOUT},   {"no-progress", no_argument, NULL, O_NOPROG},
        {"quiet", no_argument, NULL, 'q'},                 {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},                  {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    long long v;
    int c;

    memset(opt, 0, sizeof *opt);
    opt->retries = RETRIES_DEFAULT;
    opt->parallel = PARALLEL_DEFAULT;
    opt->timeout_s = TIMEOUT_DEFAULT_S;
    opt->progress = true;
    while ((c = getopt_long(argc, argv, "qvh", longs, NULL)) != -1) {
        switch (c) {
        case O_URL: opt->url = optarg; break;
        case O_KEY: opt->api_key_file = optarg; break;
        case O_TOKEN: opt->token_file = optarg; break;
        case O_CA: opt->ca_file = optarg; break;
        case O_SPOOL: opt->spool = optarg; break;
        case O_DRAIN: opt->drain = optarg; break;
        case O_RETRIES:
            if (parse_count("--retries", optarg, 0, RETRIES_MAX, &v) < 0)
                return -1;
            opt->retries = (unsigned)v;
            break;
        case O_PARALLEL:
            if (parse_count("--parallel", optarg, 1, PARALLEL_MAX, &v) < 0)
                return -1;
            opt->parallel = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (parse_count("--timeout", optarg, 1, 86400, &v) < 0)
                return -1;
            opt->timeout_s = (long)v;
            break;
        case O_NOPROG: opt->progress = false; break;
        case 'q': opt->quiet = true; break;
        case 'v': opt->verbose = true; break;
        case 'h': fputs(usage_text, stdout); return 1;
        case O_VERSION: printf("agora-upload %s\n", PACKAGE_VERSION); return 1;
        default: fputs("Try 'agora-upload --help'.\n", stderr); return -1;
        }
    }
    opt->inputs = argv + optind;
    opt->n_inputs = argc - optind;
    if (!opt->url)
        opt->url = getenv("AGORA_URL");
    const char *problem = NULL;
    if (!opt->url || !*opt->url)
        problem = "no URL: give --url https://HOST/api (or set AGORA_URL)";
    else if (opt->api_key_file && opt->token_file)
        problem = "give --api-key-file or --token-file, not both";
    else if (opt->drain && opt->spool)
        problem = "--drain sends a spool: it takes no --spool";
    else if (opt->drain && opt->n_inputs > 0)
        problem = "--drain takes no FILE";
    else if (!opt->drain && opt->n_inputs == 0)
        problem = "nothing to send: give FILE..., - (standard input) or --drain DIR";
    for (int i = 0, dashes = 0; !problem && i < opt->n_inputs; i++)
        if (strcmp(opt->inputs[i], "-") == 0 && ++dashes > 1)
            problem = "standard input (-) holds one payload: give it once";
    if (problem) {
        fprintf(stderr, "agora-upload: %s\nTry 'agora-upload --help'.\n", problem);
        return -1;
    }
    return 0;
}
