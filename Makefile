# DAP's developer commands. `make test` is the one test command: unit and
# integration tests with the race detector against real PostgreSQL
# (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) and SQLite files.
GO ?= go
PKGS := ./...

.PHONY: test lint build fuzz bench

test: lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

build:
	$(GO) build -o dap ./cmd/dap

# Short coverage-guided fuzzing of every parser-facing entry point.
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzCheckPostgres$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/guard/
	$(GO) test -run='^$$' -fuzz='^FuzzCheckMySQL$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/guard/
	$(GO) test -run='^$$' -fuzz='^FuzzCheckSQLite$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/guard/
	$(GO) test -run='^$$' -fuzz='^FuzzCheckSQLServer$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/guard/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/config/

# The gateway benchmark (see docs/benchmarks.md).
bench:
	$(GO) test -run='^$$' -bench=ExecuteSQLvsRawPgx -benchtime=20000x ./internal/bench/
