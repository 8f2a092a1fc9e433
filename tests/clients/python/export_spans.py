"""Exports spans described in a JSON file with the real OpenTelemetry Python SDK and its
OTLP/HTTP protobuf exporter (gzip-compressed), then prints the ids the SDK generated.

With "protocol": "grpc" it uses opentelemetry-exporter-otlp-proto-grpc instead (endpoint
"http://host:port"; gzip unless "compression": "none").

usage: python export_spans.py SPEC.json
SPEC: {endpoint, protocol? ("http" | "grpc"), compression? ("gzip" | "none"), maxExportBatchSize?,
       serviceName, headers?, certificateFile? (a CA for https), spans: [{name, parent: index|null, kind: "SERVER"|...,
       startNanos: "...", endNanos: "...", attributes: {...}, events: [{name, timeNanos, attributes}],
       error: "message"|null}]}
"""
import json
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode


def make_exporter(spec):
    if spec.get("protocol") == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        compression = (grpc.Compression.NoCompression if spec.get("compression") == "none"
                       else grpc.Compression.Gzip)
        credentials = None
        if spec.get("certificateFile"):
            with open(spec["certificateFile"], "rb") as certificate:
                credentials = grpc.ssl_channel_credentials(root_certificates=certificate.read())
        return GrpcSpanExporter(
            endpoint=spec["endpoint"],
            insecure=credentials is None,
            credentials=credentials,
            compression=compression,
            headers={name.lower(): value for name, value in (spec.get("headers") or {}).items()},
        )
    return OTLPSpanExporter(
        endpoint=spec["endpoint"],
        compression=Compression.Gzip,
        headers=spec.get("headers") or {},
        certificate_file=spec.get("certificateFile"),
    )


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    if spec.get("certificateFile"):
        # requests lets these variables override the exporter's CA file (psf/requests#3829).
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        os.environ.pop("CURL_CA_BUNDLE", None)
    exporter = make_exporter(spec)
    provider = TracerProvider(resource=Resource.create({"service.name": spec["serviceName"]}))
    # Small batches make many export calls (the saturation test needs several tries to be refused).
    provider.add_span_processor(
        BatchSpanProcessor(exporter, max_export_batch_size=spec.get("maxExportBatchSize", 512)))
    tracer = provider.get_tracer("spanview-e2e", "1.0.0")

    started = []
    for span_spec in spec["spans"]:
        parent = span_spec.get("parent")
        context = trace.set_span_in_context(started[parent]) if parent is not None else None
        span = tracer.start_span(
            span_spec["name"],
            context=context,
            kind=SpanKind[span_spec.get("kind", "INTERNAL")],
            attributes=span_spec.get("attributes") or {},
            start_time=int(span_spec["startNanos"]),
        )
        for event in span_spec.get("events") or []:
            span.add_event(event["name"], attributes=event.get("attributes") or {},
                           timestamp=int(event["timeNanos"]))
        if span_spec.get("error"):
            span.set_status(Status(StatusCode.ERROR, span_spec["error"]))
        started.append(span)
    for span, span_spec in reversed(list(zip(started, spec["spans"]))):
        span.end(end_time=int(span_spec["endNanos"]))
    if not provider.force_flush():
        sys.exit("force_flush timed out")
    provider.shutdown()

    print(json.dumps([
        {
            "name": span_spec["name"],
            "traceId": format(span.get_span_context().trace_id, "032x"),
            "spanId": format(span.get_span_context().span_id, "016x"),
            "parentSpanId": format(span.parent.span_id, "016x") if span.parent else None,
        }
        for span, span_spec in zip(started, spec["spans"])
    ]))


if __name__ == "__main__":
    main()
