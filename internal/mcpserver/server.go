package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/correlation"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/guard"
)

// HeaderRequestID carries the correlation id from the HTTP layer to tool
// handlers (the SDK hands handlers the HTTP request's headers).
const HeaderRequestID = "X-Request-Id"

// Options name the server.
type Options struct {
	Version string
	Logger  *slog.Logger
	// LocalUser is the identity recorded for calls (default "local");
	// authentication will supply real identities.
	LocalUser string
}

const instructions = `DAP is a guarded gateway to SQL databases ("targets").
How to work well:
1. Call list_targets first: it shows each target's engine (postgres, mysql, sqlite, sqlserver), its access mode and whether it is reachable. Write SQL in that engine's dialect.
2. Explore before querying: list_schemas, list_tables (with a pattern such as "order*"), then describe_table for the columns, keys and indexes of the tables you need. The resource dap://<target>/schema gives a whole-target overview.
3. execute_sql runs exactly ONE statement per call. Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) is always refused: DAP owns the transaction. On a read-only target only reads run; side-effecting functions (for example pg_sleep is fine, but pg_terminate_backend, set_config, nextval, LOAD_FILE, load_extension) count as writes or admin.
4. Results are capped (max_rows, max_result_bytes) and statements time out. When a result says truncated, aggregate or filter instead of raising the cap; select only the columns you need; prefer LIMIT/ORDER BY.
5. explain_query shows the plan (with analyze for reads, which executes the query) and calls out full scans of large tables: use it before running a heavy query and when tuning.
6. execute_procedure runs only allow-listed procedures (see list_procedures) with arguments checked against the catalog signature.
7. A refusal or error comes back with isError and says what was refused and why; fix the statement rather than retrying it unchanged. Quote the correlation id when reporting a problem.`

// New builds the MCP server over gw.
func New(gw *gateway.Gateway, o Options) *mcp.Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "dap", Title: "DAP - Database Automation Platform", Version: o.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Capabilities: &mcp.ServerCapabilities{},
		SchemaCache:  mcp.NewSchemaCache(),
	})
	if o.LocalUser == "" {
		o.LocalUser = "local"
	}
	h := &handlers{gw: gw, log: o.Logger, localUser: o.LocalUser}
	h.addTools(s)
	h.addResources(s)
	return s
}

type handlers struct {
	gw        *gateway.Gateway
	log       *slog.Logger
	localUser string
}

// HeaderClientAddr carries the HTTP client's address to tool handlers; the
// HTTP layer always overwrites it, so a client cannot choose it.
const HeaderClientAddr = "X-Dap-Client-Addr"

// Keys of TokenInfo.Extra by which the HTTP layer passes what an OIDC
// token says beyond the user: its groups ([]string) and whether the user
// signed in with a second factor (bool).
const (
	TokenExtraGroups = "groups"
	TokenExtraMFA    = "mfa"
)

// begin gives a tool call its correlation id (the one the HTTP layer set,
// or a new one on stdio) and its caller: the user the HTTP layer
// authenticated (req.Extra.TokenInfo, set by the SDK from the verified API
// key or OIDC token, with an OIDC token's groups and MFA), else the local
// user, the MCP session, the client's address
// and the client's name and version from the initialize handshake.
func (h *handlers) begin(ctx context.Context, req *mcp.CallToolRequest) (context.Context, string) {
	var id string
	c := gateway.Caller{User: h.localUser, ClientAddr: "stdio"}
	if req != nil && req.Extra != nil && req.Extra.TokenInfo != nil && req.Extra.TokenInfo.UserID != "" {
		ti := req.Extra.TokenInfo
		c.User = ti.UserID
		c.Groups, _ = ti.Extra[TokenExtraGroups].([]string)
		c.MFA, _ = ti.Extra[TokenExtraMFA].(bool)
	}
	if req != nil && req.Extra != nil && req.Extra.Header != nil {
		if hid := req.Extra.Header.Get(HeaderRequestID); correlation.Valid(hid) {
			id = hid
		}
		if addr := req.Extra.Header.Get(HeaderClientAddr); addr != "" {
			c.ClientAddr = addr
		}
	}
	if req != nil && req.Session != nil {
		c.SessionID = req.Session.ID()
		if p := req.Session.InitializeParams(); p != nil && p.ClientInfo != nil {
			c.Application = strings.TrimSpace(p.ClientInfo.Name + " " + p.ClientInfo.Version)
		}
	}
	if id == "" {
		id = correlation.New()
	}
	return gateway.WithCaller(correlation.With(ctx, id), c), id
}

func meta(id string) mcp.Meta { return mcp.Meta{"correlation_id": id} }

// errorResult turns an error into a tool result with isError, an
// actionable message, its kind and the correlation id.
func errorResult(id string, err error) *mcp.CallToolResult {
	kind, msg := describeError(err)
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("%s (correlation id %s)", msg, id)}},
		Meta:    mcp.Meta{"correlation_id": id, "error_kind": kind},
	}
}

// describeError names the error's kind and gives the message to show. The
// messages come from the gateway, the guard and the adapters, which never
// put DSNs or parameter values in them.
func describeError(err error) (kind, msg string) {
	var dbErr *engine.DBError
	switch {
	case errors.Is(err, guard.ErrRefused):
		return "refused", err.Error()
	case errors.Is(err, gateway.ErrForbidden):
		return "forbidden", err.Error()
	case errors.Is(err, gateway.ErrUnknownTarget):
		return "not_found", err.Error() + "; call list_targets"
	case errors.Is(err, engine.ErrNotFound):
		return "not_found", err.Error()
	case errors.Is(err, engine.ErrTimeout):
		return "timeout", err.Error() + "; narrow the query (filters, LIMIT, an index) or use explain_query"
	case errors.Is(err, engine.ErrReadOnly):
		return "refused", err.Error() + "; the database refused a write on a read-only target"
	case errors.Is(err, engine.ErrUnavailable):
		return "unavailable", err.Error()
	case errors.Is(err, engine.ErrInvalid):
		return "invalid", err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, engine.ErrCanceled):
		return "canceled", err.Error()
	case errors.As(err, &dbErr):
		return "database_error", "database error: " + err.Error()
	}
	return "error", err.Error()
}
