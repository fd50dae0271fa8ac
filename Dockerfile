# opencode-otel-bridge: `ocbridge run` in a container (used by deploy/docker-compose.yml).
# The bundle is built in a build stage, as `npm pack` builds it for the package (src/cli/bundle.mjs,
# buildDist); the image has the runtime dependencies only, and bin/ocbridge.js runs dist/main.js.
FROM node:20.19.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
RUN node -e "import('./src/cli/bundle.mjs').then((m) => m.buildDist())"

FROM node:20.19.0-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY --from=build /app/dist ./dist
RUN node bin/ocbridge.js --version

# the store lives in a volume; the OpenCode data dir is mounted read-only at /opencode
RUN mkdir -p /var/lib/ocbridge && chown node:node /var/lib/ocbridge
USER node
VOLUME ["/var/lib/ocbridge"]
EXPOSE 9464

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD node -e "fetch('http://127.0.0.1:9464/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# the bin's shebang line carries the Node options and MALLOC_ARENA_MAX (the one place they are written)
ENTRYPOINT ["./bin/ocbridge.js"]
CMD ["run", "--host", "0.0.0.0", "--port", "9464", "--source", "/opencode", "--db", "/var/lib/ocbridge/ocbridge.duckdb"]
