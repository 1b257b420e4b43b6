# The project's commands. Settings (ports, replicas, rate limits) live in deployments/settings.env.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

setup: node_modules/.installed ## install the npm dependencies (npm ci)

model: setup ## train the emotion model from ../shared/data (DATA_PATH overrides)
	npm run model:train

build: setup ## bundle the three workers into dist/ (what workerd serves and Cloudflare would receive)
	npm run build

test: build ## typecheck, then every test suite
	npm run typecheck
	npx vitest run

.PHONY: help setup model build test
