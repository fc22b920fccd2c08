package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/demo"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/httpapi"
	"github.com/dap-platform/dap/internal/rbac"
)

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Zero-configuration demo: create ./dap-demo/shop.db (SQLite sample shop) and serve it over MCP",
		Long: "demo creates, if absent, a deterministic SQLite sample database (customers, products, orders, order_items) " +
			"in --dir, then serves it read-only as target \"shop\" over MCP: streamable HTTP on --listen, or stdio with --stdio. " +
			"It prints how to connect Claude Desktop, Claude Code, VS Code and the MCP Inspector.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString("dir")
			listen, _ := cmd.Flags().GetString("listen")
			stdio, _ := cmd.Flags().GetBool("stdio")
			log, err := newLogger(cmd, "")
			if err != nil {
				return err
			}
			start := time.Now()
			path, created, err := demo.Ensure(cmd.Context(), dir)
			if err != nil {
				return fmt.Errorf("demo database: %w", err)
			}
			if created {
				log.Info("demo database created", "path", path, "elapsed_ms", time.Since(start).Milliseconds())
			}
			cfg := &config.Config{Listen: listen, DataDir: dir, LocalUser: config.DefaultLocalUser,
				// The demo's local identity is a Developer: it reads.
				LocalRole: rbac.Developer, Targets: []config.Target{{
					Name: "shop", Engine: engine.SQLite, DSN: path, Access: engine.ReadOnly,
					MaxRows: engine.DefaultMaxRows, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: engine.DefaultTimeout,
					MaxConnections: 4,
					Description:    "DAP demo: a sample shop with customers, products, orders and order_items (SQLite, read-only)",
				}}}
			if !stdio {
				// The demo has no authentication: loopback only.
				if err := httpapi.CheckExposure(listen, false); err != nil {
					return err
				}
			}
			srv, err := app.BuildServer(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer srv.Gateway.Close()
			if stdio {
				// Instructions go to stderr: stdout carries the protocol.
				return serveStdio(cmd.Context(), srv.Gateway, cfg, log)
			}
			return serveHTTP(cmd.Context(), srv, cfg, log, func(a net.Addr) {
				abs, err := filepath.Abs(dir)
				if err != nil {
					abs = dir
				}
				printConnectHelp(cmd.OutOrStdout(), baseURL(a)+"/mcp", abs)
			})
		},
	}
	cmd.Flags().String("dir", "dap-demo", "directory for the demo database")
	cmd.Flags().String("listen", "127.0.0.1:8787", "address for MCP over streamable HTTP")
	cmd.Flags().Bool("stdio", false, "serve MCP over stdio instead of HTTP")
	return cmd
}

func printConnectHelp(w io.Writer, url, dir string) {
	// The snippets are JSON: quote the values (a Windows path has
	// backslashes, any path may have quotes).
	jsonURL, _ := json.Marshal(url)
	jsonDir, _ := json.Marshal(dir)
	fmt.Fprintf(w, `DAP demo is serving target "shop" (SQLite, read-only) at %[1]s

Connect a client (paste one of these):

  Claude Code:
    claude mcp add --transport http dap %[1]s

  VS Code (.vscode/mcp.json):
    {"servers": {"dap": {"type": "http", "url": %[2]s}}}

  Claude Desktop (claude_desktop_config.json; Desktop starts DAP itself over stdio):
    build the binary once (go build -o dap ./cmd/dap), then:
    {"mcpServers": {"dap": {"command": "/absolute/path/to/dap", "args": ["demo", "--stdio", "--dir", %[3]s]}}}

  MCP Inspector:
    npx @modelcontextprotocol/inspector
    then choose transport "Streamable HTTP" and URL %[1]s

Try: "list the targets", "which customers ordered the most last year?", "explain that query".
Stop with Ctrl-C.
`, url, jsonURL, jsonDir)
}
