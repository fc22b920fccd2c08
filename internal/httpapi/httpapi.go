package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/gateway"
)

// DefaultMaxBodyBytes bounds one HTTP request body (an MCP message).
const DefaultMaxBodyBytes = 4 << 20

// Options configure the handler.
type Options struct {
	Logger       *slog.Logger
	MaxBodyBytes int64

	// Keys verifies API keys (Authorization: Bearer dap_...); nil refuses
	// every key presented.
	Keys Authenticator
	// AuthRequired refuses requests without a key. When false, a request
	// without an Authorization header from this machine runs as LocalUser;
	// a request with one must still carry a valid key.
	AuthRequired bool
	// LocalUser is the identity of unauthenticated loopback requests, for
	// rate limiting (default "local"; tool handlers use mcpserver's).
	LocalUser string
	// Auditor records every authentication failure; nil: log only.
	Auditor Auditor
	// BaseURL is DAP's public URL (https://dap.example.com) for the
	// protected resource metadata; empty: taken from each request's Host.
	BaseURL string
	// OIDC, when its Issuer is set, accepts bearer tokens from that OpenID
	// provider besides API keys (any token not starting with dap_).
	OIDC OIDC
	// RequestsPerSecond and Burst bound each identity's /mcp requests (a
	// token bucket per user); either 0 disables the limit.
	RequestsPerSecond float64
	Burst             int
}

// New returns DAP's HTTP handler.
func New(srv *mcp.Server, gw *gateway.Gateway, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		// DAP's tools answer in one response and send no progress, so
		// plain JSON responses save the SSE framing on every call.
		JSONResponse:        true,
		MaxRequestBodyBytes: o.MaxBodyBytes,
		Logger:              o.Logger,
		SessionTimeout:      30 * time.Minute,
	})
	if o.LocalUser == "" {
		o.LocalUser = "local"
	}
	authn := &authenticator{store: o.Keys, required: o.AuthRequired, baseURL: o.BaseURL, auditor: o.Auditor, log: o.Logger, localUser: o.LocalUser}
	if o.OIDC.Issuer != "" {
		authn.oidc = newOIDCVerifier(o.OIDC)
	}
	mux := http.NewServeMux()
	// Authentication, then the per-identity rate limit, then MCP; the
	// correlation id and size limits (chain) come first of all.
	mux.Handle("/mcp", authn.wrap(newLimiter(o.RequestsPerSecond, o.Burst).wrap(mcpHandler, o.LocalUser)))
	mux.Handle(MetadataPath, authn.metadata())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ts := gw.Status(r.Context())
		reachable := 0
		for _, t := range ts {
			if t.Reachable {
				reachable++
			}
		}
		status, code := "ready", http.StatusOK
		// One down target does not take DAP out of service for the
		// others; no reachable target at all does.
		if len(ts) > 0 && reachable == 0 {
			status, code = "no target reachable", http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"status": status, "targets": ts})
	})
	return chain(mux, o.Logger, o.MaxBodyBytes)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve listens on addr and serves h until ctx ends, then shuts down
// gracefully. ready, if not nil, receives the bound address (useful with
// port 0).
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
