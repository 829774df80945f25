/* The SQL of the OpenTelemetry ingest, one text per step (otlp_store.c has
 * the steps and why each is one statement). */
#ifndef AGORA_OTLP_SQL_H
#define AGORA_OTLP_SQL_H

extern const char SQL_OTLP_GENERIC_PLANS[];
extern const char SQL_OTLP_PLACE[];
extern const char SQL_OTLP_WORKFLOW_LOCK[];
extern const char SQL_OTLP_WORKFLOW_CREATE[];
extern const char SQL_OTLP_EXECUTIONS[];
extern const char SQL_OTLP_EXECUTIONS_LOCK[];
extern const char SQL_OTLP_NODES[];
extern const char SQL_OTLP_ITEMS[];

/* Step 5's parameters number the span and event columns after its first
 * three (otlp_columns.h); the costs step 2 answered come last, as $30. */
#define OTLP_ITEMS_COSTS 30

#endif
