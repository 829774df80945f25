#!/usr/bin/env bash
# bench/stats_cpu.sh: what the statistics rollups cost an ingest, in
# PostgreSQL CPU, without HTTP or the rest of the stack around it.
#
#   AGORA_VAR=... bench/stats_cpu.sh [ROUNDS (5)] [N (1000)] [FOLD_EVERY (100)]
#
# Needs a running stack's cluster (./run.sh; AGORA_VAR names it). Makes
# three scratch databases in it: s011 (migrations up to 012: sql/011's
# triggers upsert the rollups), s013 (all migrations: sql/013's triggers
# append deltas) and soff (all migrations, the triggers disabled). In each,
# one backend (psql) runs N M-sized ingests, one transaction each (an
# execution, then 20 node executions of 20 nodes in one statement: the
# statements of the ingest); in s013 it also folds every FOLD_EVERY ingests
# (as agora-live does every 2 s at 50 ingests a second), so the folds' cost
# is counted. The figure is that backend's CPU time (/proc/PID/schedstat) per
# ingest, which other work on the machine moves far less than
# wall time. ROUNDS rounds, the databases alternating (bench/lib.sh,
# cpu_rounds). Drops the databases at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-5} n=${2:-1000} every=${3:-100}
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
scratch_init

scratch_db s011 12
scratch_db s013 13
scratch_db soff 13
for t in executions:stats_executions_insert executions:stats_executions_update executions:stats_executions_delete \
         node_executions:stats_nodes_insert node_executions:stats_nodes_update node_executions:stats_nodes_delete; do
    scratch_sql soff -c "ALTER TABLE agora.${t%%:*} DISABLE TRIGGER ${t#*:}"
done

# script DB: the session's commands; s013 also folds every $every ingests.
script() {
    local i fold=0
    [[ $1 == s013 ]] && fold=$every
    cpu_pid
    [[ $fold != 0 ]] && echo "SELECT agora.stats_fold(NULL);"
    cpu_mark t0
    for ((i = 1; i <= n; i++)); do
        cpu_ingest super
        if [[ $fold != 0 ]] && ((i % fold == 0)); then echo "SELECT agora.stats_fold(NULL);"; fi
    done
    cpu_mark t1
}

cpu_rounds "$rounds" "$n" "s011:sql/011 triggers" "s013:sql/013 triggers + folds" "soff:no triggers"
