"""Records spans described in a JSON file with the real OpenTelemetry Python SDK, encodes them
with the OTLP exporter's own encoder into an ExportTraceServiceRequest, and prints that request
in protobuf's canonical JSON mapping (google.protobuf.json_format): ids in base64, enum values
by name, as older exporters and tools built on the generated classes write OTLP JSON.

usage: python protobuf_json_spans.py SPEC.json
SPEC: {serviceName, traceIdBits?: 64 (a 64-bit trace id, zero-padded, as Jaeger and Zipkin make),
       spans: [{name, parent: index|null, kind: "SERVER"|..., startNanos: "...", endNanos: "...",
       error: "message"|null}]}
prints: {"request": <the request as protobuf JSON>, "spans": [{"traceId": hex, "spanId": hex}, ...]}
"""
import json
import random
import sys

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode


class SixtyFourBitTraceIds(RandomIdGenerator):
    """Trace ids below 2^64, as a 64-bit tracer's ids look in a 128-bit field."""

    def generate_trace_id(self) -> int:
        return random.getrandbits(64) or 1


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    id_generator = SixtyFourBitTraceIds() if spec.get("traceIdBits") == 64 else RandomIdGenerator()
    provider = TracerProvider(
        resource=Resource.create({"service.name": spec["serviceName"]}),
        id_generator=id_generator,
    )
    recorded = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(recorded))
    tracer = provider.get_tracer("spanview-e2e", "1.0.0")

    started = []
    for span_spec in spec["spans"]:
        parent = span_spec.get("parent")
        context = trace.set_span_in_context(started[parent]) if parent is not None else None
        span = tracer.start_span(
            span_spec["name"],
            context=context,
            kind=SpanKind[span_spec.get("kind", "INTERNAL")],
            start_time=int(span_spec["startNanos"]),
        )
        if span_spec.get("error"):
            span.set_status(Status(StatusCode.ERROR, span_spec["error"]))
        started.append(span)
    for span, span_spec in reversed(list(zip(started, spec["spans"]))):
        span.end(end_time=int(span_spec["endNanos"]))
    provider.shutdown()

    request = encode_spans(recorded.get_finished_spans())
    print(json.dumps({
        "request": json.loads(json_format.MessageToJson(request)),
        "spans": [
            {
                "traceId": format(span.get_span_context().trace_id, "032x"),
                "spanId": format(span.get_span_context().span_id, "016x"),
            }
            for span in started
        ],
    }))


if __name__ == "__main__":
    main()
