# syntax=docker/dockerfile:1

# MaxConf container image. One image serves two programs:
#   node dist/src/main.js        the service (default command)
#   node dist/simulator/main.js  the Pexip simulator (docker-compose.yml)

# --- build: compile TypeScript and keep only production dependencies -------
FROM node:20-bookworm-slim AS build

# better-sqlite3 is a native module: npm fetches a prebuilt binary when one
# matches this Node and libc, and compiles it with these tools when not.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# A dependency's install script reports installs to its vendor unless told
# not to; an image build has no business phoning out.
ENV SCARF_ANALYTICS=false

# The lock file alone decides the dependency layer, so a source change does
# not reinstall every package.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# The service and the simulator only. scripts/ holds development tools
# (the OpenAPI and .env.example writers, the soak) that the image never
# runs, some of which import the tests; the build skips what is absent.
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY simulator ./simulator
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled code, production dependencies, no compilers ---------
FROM node:20-bookworm-slim AS runtime

ENV NODE_ENV=production \
    PORT=3000 \
    SQLITE_PATH=/app/data/maxconf.db

WORKDIR /app

# Code and dependencies stay owned by root, so the process cannot rewrite
# them; only the queue store's folder is writable by the service's user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data

USER node

EXPOSE 3000

# The slim image has no curl: Node's own fetch asks the liveness route,
# which never touches Pexip, so a Pexip outage does not mark us unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/public/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node runs as PID 1 with no shell in between: main.ts handles SIGTERM and
# SIGINT itself and drains before exiting, and it starts no child processes
# that would need reaping.
CMD ["node", "dist/src/main.js"]
