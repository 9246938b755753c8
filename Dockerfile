# One image with every Tracebridge binary, for docker-compose.yml and
# production deployments. Built from Debian 12 packages only.
FROM debian:12-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
      librdkafka-dev libavro-dev libpq-dev libevent-dev libjansson-dev libsodium-dev \
      libiberty-dev libcmocka-dev ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make -j"$(nproc)" bins

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libavro23 libpq5 libevent-2.1-7 libevent-pthreads-2.1-7 libjansson4 libsodium23 \
      libelf1 libbpf1 zlib1g curl ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/ /usr/local/bin/
USER 65534:65534
