// One agent run traced with the OpenTelemetry JS SDK as any application
// would (BasicTracerProvider, BatchSpanProcessor, the OTLP/HTTP exporter),
// for tests/integration/test_otel_sdk.py and tests/browser/otel.test.mjs.
// Where the spans go is the environment's business only, as for any SDK:
//
//   OTEL_EXPORTER_OTLP_ENDPOINT   https://HOST or https://HOST/api/otlp
//   OTEL_EXPORTER_OTLP_HEADERS    Authorization=Bearer agk_...
//   OTEL_EXPORTER_OTLP_PROTOCOL   http/protobuf (default) or http/json
//   NODE_EXTRA_CA_CERTS           the stack's certificate
//
//   node tests/otel/emit.mjs --service NAME [--session ID] [--hold] [--out FILE.pb]
//
// The trace (5 nodes, 7 spans, 4 events; usage 2,300 input and 600 output
// tokens of gpt-4o; the web_search tool fails):
//
//   agent run                      root, traceloop.span.kind=workflow, session.id
//   +- invoke_agent researcher     gen_ai.operation.name=invoke_agent -> node "researcher"
//   |  +- chat gpt-4o              gen_ai chat, 1500/400 tokens, 2 events -> node "chat gpt-4o"
//   +- search                      traceloop tool "web_search", ERROR, an exception event
//   |  +- GET                      an HTTP client span, no node (its node: web_search)
//   +- retrieve docs               openinference.span.kind=RETRIEVER
//   +- summarize                   agora.node.name, 800/200 tokens of gpt-4o
//
// flushed in four batches: the tool and its HTTP call, the agent and its
// chat, the retriever and summarize, then the root alone, last. With
// --hold the script stops before the root, prints {"held": true} and
// waits for a line on stdin. --out FILE writes the whole trace, serialized
// by the SDK's own protobuf serializer, to FILE instead of sending it.
// Prints one JSON line: the trace id, each span's id and parent, and the
// export results; exits 1 when an export failed.
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

import { SpanKind, SpanStatusCode, trace, context } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

const { values: opt } = parseArgs({
  options: {
    service: { type: 'string' },
    session: { type: 'string' },
    hold: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
if (!opt.service) {
  process.stderr.write('emit.mjs: --service NAME is required\n');
  process.exit(2);
}

const protocol = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf';
let exporter;
if (opt.out) exporter = new InMemorySpanExporter();
else if (protocol === 'http/json') exporter = new JsonExporter();
else if (protocol === 'http/protobuf') exporter = new ProtoExporter();
else {
  process.stderr.write(`emit.mjs: OTEL_EXPORTER_OTLP_PROTOCOL ${protocol} is not http/json or http/protobuf\n`);
  process.exit(2);
}

// Every export's result, observed on the way back (the SDK only logs them).
const results = [];
const send = exporter.export.bind(exporter);
exporter.export = (spans, done) => send(spans, (r) => {
  results.push({ spans: spans.length, code: r.code, error: r.error ? String(r.error.message || r.error) : undefined });
  done(r);
});

const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 60e3 });
const provider = new BasicTracerProvider({
  // The SDK's own attributes (telemetry.sdk.*), then the application's.
  resource: defaultResource().merge(
    resourceFromAttributes({ [ATTR_SERVICE_NAME]: opt.service, 'deployment.environment.name': 'test' })),
  spanProcessors: [processor],
});
const tracer = provider.getTracer('agora-emit', '1.0.0');

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const spans = {};

/** Starts a span under parent (a Span or null for the root), records it in spans. */
function start(name, parent, attributes, kind) {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  const s = tracer.startSpan(name, { attributes, kind }, ctx);
  const sc = s.spanContext();
  spans[name] = { span_id: sc.spanId, parent_span_id: parent ? parent.spanContext().spanId : null };
  return s;
}

const root = start('agent run', null, {
  'traceloop.span.kind': 'workflow', 'traceloop.entity.name': opt.service,
  ...(opt.session ? { 'session.id': opt.session } : {}),
});
root.addEvent('run.started', { 'agent.input.chars': 812 });
await sleep(5); // the root starts strictly before its first child

// Batch 1: the tool, which fails, and the HTTP call it made.
const tool = start('search', root, { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'web_search' });
const http = start('GET', tool, { 'http.request.method': 'GET', 'url.full': 'https://search.example/q?agents' }, SpanKind.CLIENT);
await sleep(15);
http.setStatus({ code: SpanStatusCode.ERROR });
http.end();
tool.recordException(new Error('search backend rate limited'));
tool.setStatus({ code: SpanStatusCode.ERROR, message: 'search backend rate limited' });
tool.end();
await processor.forceFlush();

// Batch 2: the agent and its model call.
const agent = start('invoke_agent researcher', root, {
  'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'researcher', 'gen_ai.provider.name': 'openai',
});
const chat = start('chat gpt-4o', agent, {
  'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
  'gen_ai.request.temperature': 0.2, 'gen_ai.request.max_tokens': 1024,
}, SpanKind.CLIENT);
chat.addEvent('gen_ai.user.message', { 'gen_ai.message.content': 'Find three recent papers on agent evaluation.' });
await sleep(20);
chat.setAttributes({
  'gen_ai.response.model': 'gpt-4o', 'gen_ai.response.finish_reasons': ['stop'],
  'gen_ai.usage.input_tokens': 1500, 'gen_ai.usage.output_tokens': 400,
});
chat.addEvent('gen_ai.choice', { 'gen_ai.response.finish_reason': 'stop', index: 0 });
chat.end();
agent.end();
await processor.forceFlush();

// Batch 3: retrieval and the summary.
const retrieve = start('retrieve docs', root, { 'openinference.span.kind': 'RETRIEVER', 'retrieval.top_k': 5 });
await sleep(10);
retrieve.end();
const summary = start('summarize', root, {
  'agora.node.name': 'summarize', 'agora.node.type': 'Summarizer', 'gen_ai.request.model': 'gpt-4o',
  'gen_ai.usage.input_tokens': 800, 'gen_ai.usage.output_tokens': 200,
});
await sleep(10);
summary.end();
await processor.forceFlush();

if (opt.hold) {
  process.stdout.write(`${JSON.stringify({ held: true, trace_id: root.spanContext().traceId, results })}\n`);
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => { rl.once('line', resolve); rl.once('close', resolve); });
  rl.close();
}

// Batch 4: the root, last (shutdown flushes it).
root.setStatus({ code: SpanStatusCode.OK });
root.end();
if (opt.out) {
  await processor.forceFlush();
  fs.writeFileSync(opt.out, ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans()));
}
await provider.shutdown();

const failed = results.some((r) => r.code !== 0);
process.stdout.write(`${JSON.stringify({ trace_id: root.spanContext().traceId, spans, results })}\n`);
process.exit(failed ? 1 : 0);
