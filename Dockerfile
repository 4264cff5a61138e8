# syntax=docker/dockerfile:1
# The autopoll image: one image for every command (producer, consumer, board, status, replay, ...).
#   docker build -t autopoll:local .
#   docker run --rm autopoll:local consumer --help
# docker-compose.yml runs it; see "Run with Docker Compose" in README.md. No secret is ever part
# of the image: ANTHROPIC_API_KEY and AUTOPOLL_BOARD_TOKEN come from the container's environment.
#
# Every stage is Debian bookworm with glibc: better-sqlite3's native addon is compiled against the
# same libc and Node ABI it runs on, and the Claude Agent SDK's glibc platform package
# (@anthropic-ai/claude-agent-sdk-linux-x64 or -linux-arm64, the Claude Code binary) runs as is.

# Compilers for the native addons (better-sqlite3 builds from source when no prebuilt binary fits).
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Build: every dependency (TypeScript among them), then dist/.
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only. `npm install`, not `npm ci`: the lock lacks some platform-optional
# entries. Optional dependencies stay: the Claude Code binary is one (never --omit=optional).
# Install scripts run for the native addons (allowScripts in package.json).
FROM toolchain AS prod-deps
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Runtime: Node 20, dist/, production node_modules, package.json; nothing else of the repository.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# ca-certificates: the system trust store, for Claude Code's HTTPS to the Anthropic API (and any
# proxy). /bridge: where docker-compose.yml mounts the bridge folder; owned by node so that a fresh
# named volume there is writable by the producer (SQLite adds -wal and -shm files beside the db).
# /context: the producer's context root, mounted read-only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /bridge /context \
 && chown node:node /bridge
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
# The image's own non-root user (uid 1000). Claude Code keeps its settings under $HOME
# (~/.claude, ~/.claude.json): /home/node belongs to node. The app files stay root's, read-only.
USER node
ENV HOME=/home/node
# The operator server (/healthz, /readyz, /metrics; Bull Board for `board`) with --port 3000.
EXPOSE 3000
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["--help"]
