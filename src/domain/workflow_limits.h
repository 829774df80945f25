/* The size limit of a workflow graph, shared by the two paths that add
 * nodes: creating a workflow (workflow_input.c refuses a body with more
 * nodes) and ingesting (ingest.c refuses node executions that would make
 * the workflow create nodes past it). A plain integer literal: the messages
 * spell it out with WORKFLOW_LIMIT_TEXT. */
#ifndef AGORA_WORKFLOW_LIMITS_H
#define AGORA_WORKFLOW_LIMITS_H

#define WORKFLOW_NODES_MAX 1000

/* A limit above as a string literal ("1000"), for static messages. */
#define WORKFLOW_LIMIT_TEXT_(n) #n
#define WORKFLOW_LIMIT_TEXT(n) WORKFLOW_LIMIT_TEXT_(n)

#endif
