# teaphone — a SIP softphone for the terminal.
#   make run     build and start the phone (installs what it needs)
#   make test    every test, race detector on, interop peers included
#   make bench   benchmarks (codecs, jitter buffer, RTP path, calls, teaphone load
#                against teaphone answer and baresip, latency, call quality;
#                TEAPHONE_BENCH_MAXCALLS=1 adds the max-calls steps)
#   make fuzz    every fuzz target, FUZZTIME each (make fuzz FUZZTIME=1m)
#   make soak    10 000 calls against teaphone answer, watched for leaks
#                (SOAK_CALLS, SOAK_RATE, SOAK_CONCURRENT, SOAK_HOLD; not in make test)

GO        ?= go
BIN       := teaphone
# The PortAudio binding passes an integer as a pointer: checkptr (enabled by
# -race) must be off for that one package, or OpenStream dies with "checkptr:
# pointer arithmetic computed bad pointer value".
RACEFLAGS := -race -gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0
# libopus-dev: audio/opus (cgo); libopusfile-dev only because the binding,
# gopkg.in/hraban/opus.v2, keeps its Ogg file reader in the same package
# (behind !nolibopusfile, and go.mod cannot set tags); libspeexdsp-dev:
# audio/aec (echo cancellation, cgo).
RUN_PKGS  := portaudio19-dev pkg-config libopus-dev libopusfile-dev libspeexdsp-dev
# pulseaudio, pulseaudio-utils, libasound2-plugins, espeak-ng: audio/portaudio's
# echo cancellation test plays speech through a private PulseAudio's echo
# path; make bench's latency and call-quality cases use the same.
TEST_PKGS := $(RUN_PKGS) baresip baresip-core kamailio kamailio-tls-modules linphone-cli sox tmux iproute2 nftables dnsmasq-base coturn sipvicious pulseaudio pulseaudio-utils libasound2-plugins espeak-ng
BENCH_PKGS := $(TEST_PKGS)
ARGS      ?=
FUZZTIME  ?= 10s
# teaphone version prints it (internal/version); empty outside a git checkout.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS   := -X github.com/teaphone/teaphone/internal/version.Version=$(VERSION)

.PHONY: all build run test test-short bench lint fuzz soak deps-run deps-test deps-bench clean

all: build

deps-run:
	@scripts/ensure-packages.sh $(RUN_PKGS)

deps-test:
	@scripts/ensure-packages.sh $(TEST_PKGS)

deps-bench:
	@scripts/ensure-packages.sh $(BENCH_PKGS)

build: deps-run
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

run: build
	./$(BIN) $(ARGS)

test: deps-test
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null .
	$(GO) test $(RACEFLAGS) -timeout 15m ./...

test-short:
	$(GO) test -short ./...

bench: deps-bench
	$(GO) test -run '^$$' -bench . -benchmem ./audio/... ./phone/...
	TEAPHONE_BENCH=1 $(GO) test -count=1 -run TestBench -v -timeout 20m ./internal/bench/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	scripts/check-deps.sh

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

soak: deps-run
	GO=$(GO) scripts/soak.sh

clean:
	rm -f $(BIN)
