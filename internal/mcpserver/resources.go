package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/correlation"
)

// Resource addresses: dap://<target>/schema for a target's overview and
// dap://<target>/tables/<table> for one table's definition.
const (
	uriScheme     = "dap://"
	tableTemplate = "dap://{target}/tables/{table}"
)

func (h *handlers) addResources(s *mcp.Server) {
	for _, name := range h.gw.Names() {
		s.AddResource(&mcp.Resource{
			URI:         uriScheme + name + "/schema",
			Name:        name + "-schema",
			Title:       "Schema overview of " + name,
			Description: "Every user schema, table and view of target " + name + " with kinds, estimated row counts and comments.",
			MIMEType:    "text/markdown",
		}, h.readSchema)
	}
	s.AddResourceTemplate(&mcp.ResourceTemplate{
		URITemplate: tableTemplate,
		Name:        "table-definition",
		Title:       "Table definition",
		Description: "One table's or view's definition (columns, keys, indexes, foreign keys) as JSON; table may be schema-qualified, URL-encoded.",
		MIMEType:    "application/json",
	}, h.readTable)
}

// parseURI splits dap://target/rest.
func parseURI(uri string) (target, rest string, err error) {
	if !strings.HasPrefix(uri, uriScheme) {
		return "", "", fmt.Errorf("resource %q is not a dap:// address", uri)
	}
	target, rest, _ = strings.Cut(strings.TrimPrefix(uri, uriScheme), "/")
	if target == "" {
		return "", "", fmt.Errorf("resource %q names no target", uri)
	}
	return target, rest, nil
}

// beginRead gives a resource read the same correlation id and caller as a
// tool call (begin reads only the session and the transport's extras).
func (h *handlers) beginRead(ctx context.Context, req *mcp.ReadResourceRequest) context.Context {
	ctx, _ = h.begin(ctx, &mcp.CallToolRequest{Session: req.Session, Extra: req.Extra})
	return ctx
}

func (h *handlers) readSchema(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	ctx = h.beginRead(ctx, req)
	uri := req.Params.URI
	target, rest, err := parseURI(uri)
	if err != nil || rest != "schema" {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	tables, err := h.gw.ListTables(ctx, target, "", "")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (correlation id %s)", uri, err, correlation.From(ctx))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", target)
	last := "\x00"
	for _, t := range tables {
		if t.Schema != last {
			fmt.Fprintf(&b, "\n## schema %s\n\n| table | kind | rows (est.) | comment |\n|---|---|---|---|\n", t.Schema)
			last = t.Schema
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Kind, estimate(t.RowEstimate), strings.ReplaceAll(t.Comment, "|", "\\|"))
	}
	if len(tables) == 0 {
		b.WriteString("No tables or views.\n")
	}
	b.WriteString("\nUse describe_table or dap://" + target + "/tables/<table> for columns, keys and indexes.\n")
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/markdown", Text: b.String()}}}, nil
}

func (h *handlers) readTable(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	ctx = h.beginRead(ctx, req)
	uri := req.Params.URI
	target, rest, err := parseURI(uri)
	table, ok := strings.CutPrefix(rest, "tables/")
	if err != nil || !ok || table == "" {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	if t, err := url.PathUnescape(table); err == nil {
		table = t
	}
	d, err := h.gw.DescribeTable(ctx, target, table)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (correlation id %s)", uri, err, correlation.From(ctx))
	}
	j, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", uri, err)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(j)}}}, nil
}
