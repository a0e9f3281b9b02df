# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
REPO ?= ./data/config-repo
HOST ?= 127.0.0.1
PORT ?= 8899

.PHONY: run test install typecheck bench clean

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

src/gen/proto.js: $(wildcard proto/*.proto) scripts/gen-proto.mjs node_modules/.installed
	node scripts/gen-proto.mjs

install: node_modules/.installed src/gen/proto.js

run: install
	@[ -d "$(REPO)/.git" ] || ./bin/configserver init "$(REPO)"
	./bin/configserver serve --repo "$(REPO)" --host "$(HOST)" --port "$(PORT)"

typecheck: install
	npx tsc --noEmit

test: typecheck
	npx ava

bench: install
	node --import tsx bench/run.ts

clean:
	rm -rf node_modules src/gen data
