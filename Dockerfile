# One image for every Brook service; docker-compose.yml picks the process with `command`.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /brook
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages ./packages
RUN npx -y pnpm@9.15.9 install --frozen-lockfile && npx -y pnpm@9.15.9 build
ENV BROOK_DATA_DIR=/data
VOLUME /data
