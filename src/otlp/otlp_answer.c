/* The bodies of OTLP/HTTP answers (part of otlp_decode.h): an
 * ExportTraceServiceResponse for a 200, a google.rpc.Status for an error,
 * each in the format of the request, as the specification asks. Protobuf
 * bodies are packed by protobuf-c from trace.proto's messages. */
#include "otlp/otlp_decode.h"

#include <inttypes.h>
#include <string.h>

#include "otlp/trace.pb-c.h"
#include "util/buf.h"
#include "util/text.h"

/* The longest message an answer carries: a client logs it, no more. */
#define MESSAGE_MAX 1024

/* protobuf-c's output into a struct buf. */
struct pb_sink {
    ProtobufCBuffer base;
    struct buf *out;
};

static void sink_append(ProtobufCBuffer *base, size_t len, const uint8_t *data)
{
    struct pb_sink *s = (struct pb_sink *)base;
    buf_append(s->out, data, len);
}

static void pack(const ProtobufCMessage *msg, struct buf *out)
{
    struct pb_sink sink = {{sink_append}, out};
    protobuf_c_message_pack_to_buffer(msg, &sink.base);
}

void otlp_response(enum otlp_format fmt, int64_t rejected_spans, const char *error_message, struct buf *out)
{
    char msg[MESSAGE_MAX];
    sanitize_text(msg, sizeof msg, error_message ? error_message : "");
    if (fmt == OTLP_JSON) {
        if (rejected_spans == 0) {
            buf_puts(out, "{}");
            return;
        }
        /* proto3 JSON writes 64-bit integers as strings. */
        buf_printf(out, "{\"partialSuccess\":{\"rejectedSpans\":\"%" PRId64 "\",\"errorMessage\":", rejected_spans);
        buf_json_string(out, msg, strlen(msg));
        buf_puts(out, "}}");
        return;
    }
    if (rejected_spans == 0)
        return; /* an empty message: partial_success absent */
    Otlp__ExportTracePartialSuccess partial = OTLP__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    Otlp__ExportTraceServiceResponse resp = OTLP__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    partial.rejected_spans = rejected_spans;
    partial.error_message = msg;
    resp.partial_success = &partial;
    pack(&resp.base, out);
}

void otlp_status(enum otlp_format fmt, int32_t code, const char *message, struct buf *out)
{
    char msg[MESSAGE_MAX];
    sanitize_text(msg, sizeof msg, message ? message : "");
    if (fmt == OTLP_JSON) {
        buf_printf(out, "{\"code\":%" PRId32 ",\"message\":", code);
        buf_json_string(out, msg, strlen(msg));
        buf_putc(out, '}');
        return;
    }
    Otlp__RpcStatus st = OTLP__RPC_STATUS__INIT;
    st.code = code;
    st.message = msg;
    pack(&st.base, out);
}
