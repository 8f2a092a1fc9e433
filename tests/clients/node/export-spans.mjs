// Exports spans described in a JSON file with the real OpenTelemetry JS SDK and OTLP/HTTP
// exporter, then prints the ids the SDK generated, so a test can read them back from spanview.
//
// usage: node export-spans.mjs SPEC.json   (or import { exportSpans } from it)
// SPEC: { endpoint, protocol: "json" | "proto" | "grpc" | "zipkin" (Zipkin v2 JSON, endpoint is
//         the /api/v2/spans URL), compression?: "gzip" | "none" (grpc),
//         headers?: { name: value } (grpc: sent as metadata), serviceName,
//         spans: [{ name, parent: index|null, kind, startNanos: "…", endNanos: "…", attributes }] }
import { readFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { Metadata } from '@grpc/grpc-js';

// Nanosecond strings to HrTime [seconds, nanoseconds], exact beyond 2^53.
const hrTime = (nanos) => {
  const value = BigInt(nanos);
  return [Number(value / 1_000_000_000n), Number(value % 1_000_000_000n)];
};

function makeExporter(spec) {
  if (spec.protocol === 'zipkin') {
    return new ZipkinExporter({ url: spec.endpoint, headers: spec.headers ?? {} });
  }
  if (spec.protocol === 'grpc') {
    // The OTLP/gRPC exporter (@grpc/grpc-js); the endpoint is http://host:port.
    const metadata = new Metadata();
    for (const [name, value] of Object.entries(spec.headers ?? {})) metadata.set(name, value);
    return new GrpcExporter({ url: spec.endpoint, metadata, compression: spec.compression ?? 'none' });
  }
  const Exporter = spec.protocol === 'proto' ? ProtoExporter : JsonExporter;
  return new Exporter({ url: spec.endpoint, headers: spec.headers ?? {} });
}

/** Exports the spans of `spec` and returns the ids the SDK generated. */
export async function exportSpans(spec) {
  const exporter = makeExporter(spec);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': spec.serviceName }),
    // One export per ended span: the spans of a trace reach spanview in several requests.
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('spanview-e2e', '1.0.0');

  const started = [];
  for (const span of spec.spans) {
    const parentContext = span.parent === null || span.parent === undefined
      ? context.active()
      : trace.setSpan(context.active(), started[span.parent]);
    started.push(tracer.startSpan(span.name, {
      kind: span.kind ?? 0,
      startTime: hrTime(span.startNanos),
      attributes: span.attributes ?? {},
    }, parentContext));
  }
  // End children before parents, as real code does.
  for (let idx = started.length - 1; idx >= 0; idx--) {
    started[idx].end(hrTime(spec.spans[idx].endNanos));
  }
  await provider.forceFlush();
  await provider.shutdown();
  return started.map((span, idx) => ({
    name: spec.spans[idx].name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
  }));
}

// Run as a script: export the spec file given on the command line and print the ids.
if (import.meta.url === `file://${process.argv[1]}`) {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  process.stdout.write(JSON.stringify(await exportSpans(spec)));
}
