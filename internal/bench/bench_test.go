package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/engine/postgres"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/httpapi"
	"github.com/dap-platform/dap/internal/mcpserver"
	"github.com/dap-platform/dap/internal/testdb"
)

const (
	clients   = 16      // concurrent MCP sessions / goroutines
	tableRows = 100_000 // rows in the benchmark table
	rangeRows = 100     // rows per query
	distinct  = 1000    // distinct SQL texts cycled through
)

func setupTable(b *testing.B) string {
	b.Helper()
	dsn := testdb.Postgres(b, "bench")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, fmt.Sprintf(`
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO items SELECT g, 'item ' || g, (g %% 1000) / 10.0, timestamptz '2024-01-01' + g * interval '1 minute' FROM generate_series(1, %d) g;
ANALYZE items;`, tableRows))
	if err != nil {
		b.Fatal(err)
	}
	return dsn
}

// queries are the SQL texts both sides run: 100-row indexed ranges.
func queries() []string {
	qs := make([]string, distinct)
	for i := range qs {
		lo := 1 + (i*977)%(tableRows-rangeRows)
		qs[i] = fmt.Sprintf("SELECT id, name, price, created_at FROM items WHERE id BETWEEN %d AND %d ORDER BY id", lo, lo+rangeRows-1)
	}
	return qs
}

// run spreads n calls over clients goroutines and returns each call's latency.
func run(n int, call func(worker, i int) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := call(w, i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}(w)
	}
	wg.Wait()
	wall := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, 0, err
	}
	return lat, wall, nil
}

func dapRateOf(n int, wall time.Duration) float64 { return float64(n) / wall.Seconds() }

func pct(sorted []time.Duration, p float64) float64 {
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}

// BenchmarkExecuteSQLvsRawPgx runs the same 100-row indexed range SELECTs
// from 16 concurrent clients, first through raw pgx (a pool of 16, no
// transaction), then through DAP: execute_sql over streamable HTTP from 16
// MCP sessions of the official SDK client, with the guard, the read-only
// transaction, the caps, JSON conversion and info-level logging; last, a
// do-nothing tool on the same SDK and transport (the floor MCP itself
// sets). Each b.N is one call on each side; metrics are latency
// percentiles, calls/s and the ratios. Clients and server share the
// machine's two cores, as they do in the figures of docs/benchmarks.md.
func BenchmarkExecuteSQLvsRawPgx(b *testing.B) {
	dsn := setupTable(b)
	ctx := context.Background()
	qs := queries()

	pool, err := pgxpool.New(ctx, dsn+"&pool_max_conns=16")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()

	eng, err := postgres.Open(ctx, engine.Options{Name: "bench", DSN: dsn, Access: engine.ReadOnly, MaxConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	gw := gateway.New([]*gateway.Target{{Name: "bench", Engine: eng, Dialect: engine.Postgres, Access: engine.ReadOnly}}, log)
	defer gw.Close()
	sessions := serveDAP(b, gw, log)

	// The transport floor: a do-nothing tool on the same SDK, transport
	// options and HTTP stack, so the cost of MCP itself is measured too.
	floorSrv := mcp.NewServer(&mcp.Implementation{Name: "floor", Version: "1"}, nil)
	mcp.AddTool(floorSrv, &mcp.Tool{Name: "noop", Description: "does nothing"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
		})
	floorHTTP := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return floorSrv },
		&mcp.StreamableHTTPOptions{JSONResponse: true}))
	defer floorHTTP.Close()
	floorSessions := make([]*mcp.ClientSession, clients)
	for i := range floorSessions {
		c := mcp.NewClient(&mcp.Implementation{Name: "bench-floor", Version: "1"}, nil)
		s, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: floorHTTP.URL}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		floorSessions[i] = s
	}
	floor := func(w, _ int) error {
		res, err := floorSessions[w].CallTool(ctx, &mcp.CallToolParams{Name: "noop", Arguments: map[string]any{}})
		if err == nil && res.IsError {
			err = fmt.Errorf("noop: %v", res.Content)
		}
		return err
	}

	raw := func(_, i int) error {
		rows, err := pool.Query(ctx, qs[i%distinct])
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				return err
			}
			n++
		}
		rows.Close()
		if n != rangeRows {
			return fmt.Errorf("raw: %d rows, want %d", n, rangeRows)
		}
		return rows.Err()
	}
	viaDAP := executeSQL(sessions, qs)
	// Warm both sides (connections, statement caches, guard cache).
	if _, _, err := run(2*distinct, raw); err != nil {
		b.Fatal(err)
	}
	if _, _, err := run(2*distinct, viaDAP); err != nil {
		b.Fatal(err)
	}
	if _, _, err := run(2*distinct, floor); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	rawLat, rawWall, err := run(b.N, raw)
	if err != nil {
		b.Fatal(err)
	}
	dapLat, dapWall, err := run(b.N, viaDAP)
	if err != nil {
		b.Fatal(err)
	}
	floorLat, floorWall, err := run(b.N, floor)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	slices.Sort(floorLat)
	floorRate := float64(b.N) / floorWall.Seconds()
	b.ReportMetric(pct(floorLat, 0.95), "floor_p95_ms")
	b.ReportMetric(floorRate, "floor_calls/s")
	b.ReportMetric(floorRate/dapRateOf(b.N, dapWall), "floor_throughput_ratio")
	slices.Sort(rawLat)
	slices.Sort(dapLat)
	rawRate := float64(b.N) / rawWall.Seconds()
	dapRate := float64(b.N) / dapWall.Seconds()
	b.ReportMetric(pct(rawLat, 0.50), "raw_p50_ms")
	b.ReportMetric(pct(rawLat, 0.95), "raw_p95_ms")
	b.ReportMetric(pct(rawLat, 0.99), "raw_p99_ms")
	b.ReportMetric(rawRate, "raw_calls/s")
	b.ReportMetric(pct(dapLat, 0.50), "dap_p50_ms")
	b.ReportMetric(pct(dapLat, 0.95), "dap_p95_ms")
	b.ReportMetric(pct(dapLat, 0.99), "dap_p99_ms")
	b.ReportMetric(dapRate, "dap_calls/s")
	b.ReportMetric(pct(dapLat, 0.95)/pct(rawLat, 0.95), "p95_ratio")
	b.ReportMetric(rawRate/dapRate, "throughput_ratio")
}

// serveDAP serves gw over DAP's HTTP handler and connects 16 MCP sessions
// of the official SDK client to it.
func serveDAP(b *testing.B, gw *gateway.Gateway, log *slog.Logger) []*mcp.ClientSession {
	b.Helper()
	srv := httptest.NewServer(httpapi.New(mcpserver.New(gw, mcpserver.Options{Logger: log}), gw, httpapi.Options{Logger: log}))
	b.Cleanup(srv.Close)
	sessions := make([]*mcp.ClientSession, clients)
	for i := range sessions {
		c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		s, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		sessions[i] = s
	}
	return sessions
}

// executeSQL makes the call function that runs query i%distinct through
// execute_sql on worker w's session.
func executeSQL(sessions []*mcp.ClientSession, qs []string) func(w, i int) error {
	return func(w, i int) error {
		res, err := sessions[w].CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql",
			Arguments: map[string]any{"target": "bench", "sql": qs[i%len(qs)]}})
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("dap: %v", res.Content)
		}
		return nil
	}
}

// BenchmarkSecurityOverhead measures what DAP's security core adds to an
// execute_sql call over streamable HTTP (16 sessions, the same 100-row
// SELECTs), in one run: a bare gateway, against the gateway as `dap serve`
// builds it - API key authentication on every HTTP request, role-based
// authorization of every call, and a durable hash-chained audit record
// per call in a SQLite repository.
func BenchmarkSecurityOverhead(b *testing.B) {
	dsn := setupTable(b)
	ctx := context.Background()
	qs := queries()
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))

	eng, err := postgres.Open(ctx, engine.Options{Name: "bench", DSN: dsn, Access: engine.ReadOnly, MaxConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	plain := gateway.New([]*gateway.Target{{Name: "bench", Engine: eng, Dialect: engine.Postgres, Access: engine.ReadOnly}}, log)
	b.Cleanup(func() { _ = plain.Close() })

	cfg := &config.Config{DataDir: b.TempDir(), LocalUser: "local", Targets: []config.Target{
		{Name: "bench", Engine: engine.Postgres, DSN: dsn, Access: engine.ReadOnly, MaxConnections: 16}}}
	srv, err := app.BuildServer(ctx, cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Gateway.Close() })
	if _, err := srv.Accounts.CreateUser(ctx, "bench", "bench@example.com", ""); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Accounts.Assign(ctx, "bench", "bench@example.com", "Developer", nil, time.Time{}); err != nil {
		b.Fatal(err)
	}
	key, _, err := srv.Accounts.CreateKey(ctx, "bench", "bench@example.com", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	secured := httptest.NewServer(httpapi.New(mcpserver.New(srv.Gateway, mcpserver.Options{Logger: log}), srv.Gateway,
		httpapi.Options{Logger: log, Keys: srv.Accounts, Auditor: srv.Auditor, AuthRequired: true}))
	b.Cleanup(secured.Close)
	sessions := make([]*mcp.ClientSession, clients)
	for i := range sessions {
		c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		s, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: secured.URL + "/mcp",
			HTTPClient: &http.Client{Transport: bearer{key: key, next: http.DefaultTransport}}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		sessions[i] = s
	}

	off := executeSQL(serveDAP(b, plain, log), qs)
	on := executeSQL(sessions, qs)
	for _, f := range []func(int, int) error{off, on} {
		if _, _, err := run(2*distinct, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	offLat, offWall, err := run(b.N, off)
	if err != nil {
		b.Fatal(err)
	}
	onLat, onWall, err := run(b.N, on)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	slices.Sort(offLat)
	slices.Sort(onLat)
	b.ReportMetric(pct(offLat, 0.95), "off_p95_ms")
	b.ReportMetric(pct(onLat, 0.95), "secured_p95_ms")
	b.ReportMetric(pct(onLat, 0.95)/pct(offLat, 0.95), "p95_ratio")
	b.ReportMetric(float64(b.N)/offWall.Seconds(), "off_calls/s")
	b.ReportMetric(float64(b.N)/onWall.Seconds(), "secured_calls/s")
}

// bearer adds an API key to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}
