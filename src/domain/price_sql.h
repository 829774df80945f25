/* The SQL that prices GenAI usage (README "Tokens and cost"), shared by
 * the statements that store node executions: the JSON ingest's
 * (ingest_sql.c) and the OpenTelemetry ingest's (otlp_sql.c). Macros that
 * expand into string literals, so each statement stays one constant text
 * with $n parameters. */
#ifndef AGORA_PRICE_SQL_H
#define AGORA_PRICE_SQL_H

/* The cost of a node execution's model calls (README "Tokens and cost"),
 * for the statements that need it: the ingest's execution insert sums it for
 * a new execution, the items' statements store it per node execution.
 *
 * PRICE_JOIN(org, model, provider, at, gate) joins, as pr, the price of
 * model valid at time at: the organization's own first, else the default
 * (organization_id NULL). Each side is one backward step of the
 * (organization_id, model, valid_from) index, to the latest period that
 * started at or before at; it counts if it has not ended by then and its
 * provider, when it names one, is the node execution's (or the node
 * execution names none). A set-based join in the statement that stores
 * the rows, never a query per row from here; gate (no tokens, no model)
 * skips the lookup altogether. Nothing found: pr's columns are NULL. */
#define PRICE_SIDE(owner, rank, model, at)                                                          \
    "(SELECT p.input_usd_per_mtok, p.output_usd_per_mtok, p.provider, p.valid_to, " rank " AS rank"   \
    " FROM agora.model_prices p WHERE p.organization_id " owner " AND p.model = " model                \
    " AND p.valid_from <= " at " ORDER BY p.valid_from DESC LIMIT 1)"
#define PRICE_JOIN(org, model, provider, at, gate)                                                  \
    " LEFT JOIN LATERAL (SELECT s.input_usd_per_mtok AS pin, s.output_usd_per_mtok AS pout FROM ("   \
    PRICE_SIDE("= " org, "0", model, at) " UNION ALL " PRICE_SIDE("IS NULL", "1", model, at) ") s"    \
    " WHERE " gate " AND (s.valid_to IS NULL OR s.valid_to > " at ")"                                 \
    " AND (s.provider IS NULL OR " provider " IS NULL OR s.provider = " provider ")"                  \
    " ORDER BY s.rank LIMIT 1) pr ON true"
/* Whether a node execution reports tokens, and their cost at pr's price:
 * null without tokens or without a price; exact (numeric), trailing zeros
 * trimmed. */
#define HAS_TOKENS(in, out) "(" in " IS NOT NULL OR " out " IS NOT NULL)"
#define TOKEN_COST(in, out)                                                                         \
    "CASE WHEN " HAS_TOKENS(in, out) " THEN trim_scale((COALESCE(" in ", 0) * pr.pin"               \
    " + COALESCE(" out ", 0) * pr.pout) * 0.000001) END"

#endif
