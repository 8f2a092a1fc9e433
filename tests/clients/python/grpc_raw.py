"""Sends one OTLP/gRPC TraceService/Export call whose message is the raw bytes of a file, with
grpcio (the library under the Python OTLP/gRPC exporter), and prints what the server answered:
{"code": "OK" | "INVALID_ARGUMENT" | ..., "details": "...", "retryDelaySeconds": N | null,
 "response": hex of the response message | null}.

usage: python grpc_raw.py HOST:PORT MESSAGE_FILE [--gzip] [--token TOKEN] [--path PATH]
"""
import argparse
import json

import grpc
from google.rpc import error_details_pb2, status_pb2

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def retry_delay(error):
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.RetryInfo()
                if detail.Unpack(info):
                    return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("message_file")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--token")
    parser.add_argument("--path", default=EXPORT)
    args = parser.parse_args()
    with open(args.message_file, "rb") as message_file:
        message = message_file.read()
    options = [("grpc.max_send_message_length", 1 << 30)]
    compression = grpc.Compression.Gzip if args.gzip else grpc.Compression.NoCompression
    with grpc.insecure_channel(args.address, options=options, compression=compression) as channel:
        call = channel.unary_unary(args.path, request_serializer=None, response_deserializer=None)
        metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
        try:
            response = call(message, metadata=metadata, timeout=30)
            print(json.dumps({"code": "OK", "details": "", "retryDelaySeconds": None,
                              "response": response.hex()}))
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "details": error.details(),
                              "retryDelaySeconds": retry_delay(error), "response": None}))


if __name__ == "__main__":
    main()
