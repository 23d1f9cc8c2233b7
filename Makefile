# tokenlab: `make run` to start the server, `make test` to check everything.
# `make help` lists the targets.

GO      ?= go
BIN     := bin/tokenlab
PORT    ?= 8080

.DEFAULT_GOAL := help
.PHONY: help build run test vet fmt web-assets clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# build always asks go: its build cache makes an unchanged rebuild instant.
build: web-assets ## build the self-contained binary bin/tokenlab
	$(GO) build -o $(BIN) ./server

# web-assets builds what the page embeds (the wasm program and
# wasm_exec.js) before the binary. Empty until the page's build step lands.
web-assets: ## build the page's generated assets

run: build ## build, then start the server on PORT (default 8080)
	PORT=$(PORT) ./$(BIN) serve

test: web-assets vet ## go vet, then every test
	$(GO) test ./...

vet: ## go vet on the host, and wasm/ and shared/ under js/wasm
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./shared/...

fmt: ## gofmt every Go file in place
	gofmt -w $$(git ls-files '*.go')

clean: ## remove built files
	rm -rf bin
