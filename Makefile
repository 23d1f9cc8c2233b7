# tokenlab: `make run` to start the server, `make test` to check everything.
# `make help` lists the targets.

GO      ?= go
BIN     := bin/tokenlab

.DEFAULT_GOAL := help
.PHONY: help build run example test vet fmt web-assets fuzz bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# build always asks go: its build cache makes an unchanged rebuild instant.
# -buildvcs=auto stamps the commit (`tokenlab version`) even where GOFLAGS
# turns stamping off.
build: web-assets ## build the self-contained binary bin/tokenlab
	$(GO) build -buildvcs=auto -o $(BIN) ./server

# web-assets builds what the page embeds into web/static/gen/ (gitignored):
# the wasm program, precompressed as gzip (by zopfli when it is installed:
# about 4 % smaller than gzip -9, any gzip client reads it, ~15 s per
# rebuilt program) and zstd -19 when the zstd command exists (Chromium and
# Firefox accept it), and the wasm_exec.js of
# the Go that compiled it. The compiler inlines as usual: turning that off
# compresses the program 8 % smaller, but it is 5 % more code for the
# browser to validate and compile, and the page shows its first token
# later. Compression reruns only when the program changed.
GEN        := web/static/gen
WASM_FLAGS := -trimpath -ldflags='-s -w'
web-assets: ## build the page's program (wasm) and wasm_exec.js
	@mkdir -p bin $(GEN)
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o bin/tokenlab.wasm ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(GEN)/wasm_exec.js
	@if ! cmp -s bin/tokenlab.wasm bin/.tokenlab.wasm.done || [ ! -f $(GEN)/tokenlab.wasm.gz ]; then \
		rm -f $(GEN)/tokenlab.wasm $(GEN)/tokenlab.wasm.gz $(GEN)/tokenlab.wasm.zst; \
		if command -v zopfli >/dev/null; then zopfli -c --i5 bin/tokenlab.wasm > $(GEN)/tokenlab.wasm.gz; \
		else gzip -9 -n -c bin/tokenlab.wasm > $(GEN)/tokenlab.wasm.gz; fi; \
		if command -v zstd >/dev/null; then zstd -q -19 -c bin/tokenlab.wasm > $(GEN)/tokenlab.wasm.zst; fi; \
		cp bin/tokenlab.wasm bin/.tokenlab.wasm.done; \
	fi
	@echo "wasm: $$(wc -c < bin/tokenlab.wasm) bytes raw, $$(wc -c < $(GEN)/tokenlab.wasm.gz) gzip$$([ -f $(GEN)/tokenlab.wasm.zst ] && echo ", $$(wc -c < $(GEN)/tokenlab.wasm.zst) zstd")"

# run passes no PORT of its own: the server reads .env, then the
# environment (`make run PORT=9000` puts PORT there), then its flags.
run: build ## build, then start the server (PORT from .env or the environment; default 8080)
	./$(BIN) serve

# example runs tokenlab on :8080 with the example app (web/examples/app) on
# http://localhost:3000, the app's origin in TOKENLAB_ALLOWED_ORIGINS, until
# Ctrl-C; the Playwright example (web/examples/playwright) tests against it.
example: build ## run tokenlab and the example app that uses its embed (http://localhost:3000)
	$(GO) build -o bin/example-app ./web/examples/app/serve
	@trap 'kill $$tokenlab $$app 2>/dev/null' EXIT INT TERM; \
	TOKENLAB_ALLOWED_ORIGINS=http://localhost:3000 ./$(BIN) serve --port 8080 & tokenlab=$$!; \
	bin/example-app -addr localhost:3000 -tokenlab http://localhost:8080 & app=$$!; \
	wait

# test builds the binary first: the page's browser tests (web/e2e) drive
# the real bin/tokenlab in headless Chromium. DOM-free browser code is also
# tested compiled to js/wasm, under Node.
test: build vet ## go vet, then every test (host, js/wasm under Node, browser)
	$(GO) test ./...
	GOOS=js GOARCH=wasm $(GO) test -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./shared/... ./wasm/view/...

vet: ## go vet on the host, and wasm/ and shared/ under js/wasm
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./shared/...

fmt: ## gofmt every Go file in place
	gofmt -w $$(git ls-files '*.go')

# fuzz runs each fuzz target for FUZZTIME, one after the other (go test
# fuzzes one target of one package at a time). A crasher lands in the
# package's testdata/fuzz/, where plain `go test` replays it from then on.
FUZZTIME     ?= 20s
FUZZ_TARGETS := ./shared/jsonlite:FuzzParse ./shared/jsonlite:FuzzAppendString \
                ./shared/token:FuzzDecode ./shared/token:FuzzRoundTrip ./shared/token:FuzzParseGrantsStrict \
                ./shared/token:FuzzCheckIdentityFastPath \
                ./shared/lint:FuzzCheck ./shared/protocol:FuzzDecodeMessage \
                ./shared/protocol:FuzzEncodeOracle \
                ./server/api:FuzzTokenRequest ./server/api:FuzzVerifyRequest ./server/hub:FuzzHandleFrame \
                ./server/twilsock:FuzzDecode ./server/voicesignal:FuzzDecode
fuzz: ## run every fuzz target for FUZZTIME (default 20s) each
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZTIME) $${t%%:*}; \
	done

# bench measures the performance figures, each against a baseline from the
# same run, and writes them into docs/benchmarks.md (five to six minutes, on
# loopback; never part of test). brotli, for one of the page's sizes, and
# Flask with Twilio's Python helper, for figure 2's tutorial baseline, are
# installed from Debian when missing; without them, that size and that
# baseline are skipped.
# PROFILE=dir also saves CPU profiles of the server under load.
bench: build ## measure the performance figures into docs/benchmarks.md
	@command -v brotli >/dev/null || apt-get install -y brotli >/dev/null 2>&1 || \
		(apt-get update >/dev/null 2>&1 && apt-get install -y brotli >/dev/null 2>&1) || \
		echo "bench: brotli could not be installed; its size is skipped"
	@/usr/bin/python3 -c 'import flask, twilio.jwt.access_token' 2>/dev/null || apt-get install -y python3-flask python3-twilio >/dev/null 2>&1 || \
		(apt-get update >/dev/null 2>&1 && apt-get install -y python3-flask python3-twilio >/dev/null 2>&1) || \
		echo "bench: Flask and Twilio's Python helper could not be installed; figure 2's Flask baseline is skipped"
	$(GO) build -o bin/bench ./server/bench
	./bin/bench -go $(GO) -wasm bin/tokenlab.wasm -out docs/benchmarks.md $(if $(PROFILE),-profile $(PROFILE))

clean: ## remove built files
	rm -rf bin
