# Leadpush image: `docker build -t leadpush .`
# Runs the API and the delivery worker in one process by default (APP_ROLE=all).

# ---- build: install everything, compile, then drop dev dependencies ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist's postinstall would otherwise try to send install analytics.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled app + production dependencies only ----
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000
# Files stay owned by root (read-only for the app); the process runs as `node`.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# slim has no curl: probe /health with Node's built-in fetch. Answers 200 only
# when PostgreSQL and Redis are reachable. Every role serves it on PORT: an
# APP_ROLE=worker container answers only /health and /metrics there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The node flags of `npm run start:prod` (see README, Memory): keep the two the same.
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=75", "dist/src/main.js"]
