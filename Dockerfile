# actionurl receiver image. Build: docker build -t actionurl .   Run: docker run -p 8080:8080 -v actionurl-data:/var/lib/actionurl actionurl
# deploy/docker/compose.yaml runs it with PostgreSQL and Mosquitto. docs/operations.md says what of this was
# built and run before release and what was not.

# Build stage: the full image has the compilers better-sqlite3 falls back to when no prebuilt binary fits.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own build (prepare) needs the sources, copied below; dependencies'
# install scripts (better-sqlite3's native module) run in the rebuild.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY src/ src/
COPY bin/ bin/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run stage: Node and the runtime dependencies only, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ACTIONURL_DB=/var/lib/actionurl/actionurl.sqlite \
    ACTIONURL_HOST=0.0.0.0 \
    ACTIONURL_PORT=8080
RUN groupadd --system --gid 10001 actionurl \
 && useradd --system --uid 10001 --gid actionurl --home-dir /var/lib/actionurl --shell /usr/sbin/nologin actionurl \
 && install -d -o actionurl -g actionurl -m 0750 /var/lib/actionurl
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/bin/ bin/
COPY deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs
# `docker exec <container> actionurl backup /var/lib/actionurl/backup.sqlite` and the like.
RUN ln -s /app/bin/actionurl.js /usr/local/bin/actionurl
USER actionurl
VOLUME ["/var/lib/actionurl"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["actionurl"]
CMD ["serve"]
