# Worker / API / setup-job image: the app compiled to dist/ with the prebuilt workflow bundle, on Node.js 24 LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci applies patches/ (patch-package) to node_modules: a fix of postgres.js's write scheduler.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# The repository export runs `git bundle create` on the instance's repositories, and the seed writes them with git.
RUN apt-get update -q && apt-get install -y -q --no-install-recommends git && rm -rf /var/lib/apt/lists/*
# The source instance's file storage (STORAGE_PATH): a volume the setup job seeds and the worker exports from, owned
# by the user the containers run as (a new named volume takes this folder's owner).
RUN mkdir -p /var/lib/gitlab-storage && chown node:node /var/lib/gitlab-storage
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY docker/create-bucket.cjs ./docker/
COPY package.json ./
USER node
CMD ["node", "dist/worker/main.js"]
