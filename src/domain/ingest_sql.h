/* The SQL statements of an ingest, one per step (see ingest.c). */
#ifndef AGORA_INGEST_SQL_H
#define AGORA_INGEST_SQL_H

extern const char SQL_WORKFLOW[];
extern const char SQL_IDEM_CLAIM[];
extern const char SQL_IDEM_READ[];
extern const char SQL_IDEM_STORE[];
extern const char SQL_EXECUTION_INSERT[];
extern const char SQL_EXECUTION_USAGE[];
extern const char SQL_EXECUTION_LOCK[];
extern const char SQL_NODES[];
extern const char SQL_NODE_COUNT[];
extern const char SQL_ITEMS[];
extern const char SQL_EXECUTION_APPEND[];
extern const char SQL_PURGE[];

#endif
