# One image for the API, the worker and the trigger service (choose with the command), on Node 24 LTS:
# production dependencies only, the compiled code and the prebuilt workflow bundle, run as `node`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc to dist/ plus the workflow bundle, so workers start without bundling; then drop dev dependencies.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js API_HOST=0.0.0.0
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Root owns the files; the process runs as the unprivileged `node` user (uid 1000) and writes nothing.
USER node
EXPOSE 3000 9464
CMD ["node", "dist/src/main/api.js"]
