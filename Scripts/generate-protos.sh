#!/usr/bin/env bash
# Regenerates Sources/PiggybackProtocol/Generated/telex.pb.swift from the schema.
# Needs protoc (Debian: protobuf-compiler). protoc-gen-swift is built from the
# swift-protobuf version this package resolves, (debug build, in .build).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
swift build --product protoc-gen-swift >/dev/null
plugin="$(swift build --product protoc-gen-swift --show-bin-path)/protoc-gen-swift"
mkdir -p Sources/PiggybackProtocol/Generated
protoc \
  --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_out=Sources/PiggybackProtocol/Generated \
  -I Sources/PiggybackProtocol/Schema \
  Sources/PiggybackProtocol/Schema/telex.proto
echo "generated Sources/PiggybackProtocol/Generated/telex.pb.swift"
