# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
# `make run` takes REPO (default ./data/config-repo), HOST (127.0.0.1) and PORT (8899).
SHELL := /bin/bash
REPO ?= ./data/config-repo
HOST ?= 127.0.0.1
PORT ?= 8899

# What dist/ is compiled from: rebuilt when any of it is newer than dist/cli.js.
BUILD_INPUTS := $(shell find src -name '*.ts' -not -path 'src/gen/*') tsconfig.json tsconfig.build.json scripts/build.mjs
# The web console's sources; web/dist/ is rebuilt when any is newer than its index.html.
WEB_INPUTS := $(shell find web -type f -not -path 'web/dist/*' -not -path 'web/dist.tmp-*') scripts/build-web.mjs

.PHONY: run test test-unit install build web typecheck chromium redis-server doc-tools containers kubectl image bench clean

# npm ci also runs `prepare` (generated code, then dist/), so a fresh install builds nothing twice;
# the order-only `|` below keeps a new node_modules from marking that output stale.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

src/gen/proto.js: $(wildcard proto/*.proto) scripts/gen-proto.mjs | node_modules/.installed
	node scripts/gen-proto.mjs

dist/cli.js: $(BUILD_INPUTS) src/gen/proto.js | node_modules/.installed
	node scripts/build.mjs

web/dist/index.html: $(WEB_INPUTS) | node_modules/.installed
	node scripts/build-web.mjs

web: web/dist/index.html

install: node_modules/.installed src/gen/proto.js dist/cli.js web/dist/index.html

build: install

run: install
	@[ -d "$(REPO)/.git" ] || ./bin/configserver init "$(REPO)" --no-serve-hint
	@h="$(HOST)"; case "$$h" in 0.0.0.0|::|"") h=127.0.0.1;; *:*) h="[$$h]";; esac; \
	  echo "Serving $(REPO): open http://$$h:$(PORT)/ in a browser for the web console (Ctrl-C stops the server)."
	./bin/configserver serve --repo "$(REPO)" --host "$(HOST)" --port "$(PORT)"

typecheck: install
	npx tsc --noEmit
	npx tsc --noEmit -p web

# The browser tests drive Debian's Chromium (playwright-core cannot download a browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "chromium is missing: run 'sudo apt-get install chromium' (the console's browser tests need it)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The shared registry's tests start their own Debian redis-server on a free port (never a service).
redis-server:
	@command -v redis-server >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "redis-server is missing: run 'sudo apt-get install redis-server' (the shared registry's tests need it)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

# The docs test runs the curl examples of docs/api.md and the README as written (curl, openssl).
doc-tools:
	@command -v curl >/dev/null && command -v openssl >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "curl or openssl is missing: run 'sudo apt-get install curl openssl' (the docs test runs the documents' examples)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl openssl; }

# The container test builds the image with Debian's podman (rootful, runc) from a base it makes
# with mmdebstrap; the Kubernetes test renders deploy/kubernetes/ with kubectl's kustomize.
containers:
	@command -v podman >/dev/null && command -v mmdebstrap >/dev/null && command -v runc >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "podman, mmdebstrap or runc is missing: run 'sudo apt-get install podman buildah mmdebstrap uidmap slirp4netns fuse-overlayfs runc' (the container test needs them)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah mmdebstrap uidmap slirp4netns fuse-overlayfs runc; }

kubectl:
	@command -v kubectl >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "kubectl is missing: run 'sudo apt-get install kubernetes-client' (the Kubernetes manifests' test needs it)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client; }

# `make image` builds the container image (Containerfile) with podman, or docker when there is no
# podman. IMAGE names it (deploy/kubernetes/ runs configserver:<version>); BASE_IMAGE and
# BUILD_IMAGE replace the Node.js base images; NPM_CA is a CA bundle file npm trusts inside the
# build (a private registry or a TLS-inspecting proxy), passed as a build secret, never a layer.
VERSION := $(shell node -p 'require("./package.json").version' 2>/dev/null)
IMAGE ?= configserver:$(VERSION)
BASE_IMAGE ?=
BUILD_IMAGE ?=
NPM_CA ?=
comma := ,
CONTAINER_ENGINE ?= $(shell command -v podman || command -v docker)

image:
	@[ -n "$(CONTAINER_ENGINE)" ] || { echo "make image needs podman or docker (e.g. apt-get install podman)"; exit 1; }
	$(CONTAINER_ENGINE) build $(if $(findstring podman,$(CONTAINER_ENGINE)),--format docker) -f Containerfile -t $(IMAGE) \
	  $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) $(if $(BUILD_IMAGE),--build-arg BUILD_IMAGE=$(BUILD_IMAGE)) \
	  $(if $(NPM_CA),--secret id=npmca$(comma)src=$(NPM_CA)) .

test: typecheck chromium redis-server doc-tools containers kubectl
	npx ava

# The unit tests alone (one module each: no server, browser, Redis or container), in seconds.
test-unit: install
	npx ava 'test/unit/**/*.test.ts'

bench: install
	node --import tsx bench/run.ts

clean:
	rm -rf node_modules src/gen dist data web/dist screenshots
