package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/httpapi"
	"github.com/dap-platform/dap/internal/mcpserver"
)

func loadConfig(cmd *cobra.Command) (*config.Config, *slog.Logger, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	log, err := newLogger(cmd, cfg.LogLevel)
	if err != nil {
		return nil, nil, err
	}
	return cfg, log, nil
}

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve MCP over streamable HTTP at /mcp, with /healthz and /readyz",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if l, _ := cmd.Flags().GetString("listen"); l != "" {
				cfg.Listen = l
			}
			// Before anything is opened: an exposed listener without
			// authentication would serve everyone as the local user.
			if err := httpapi.CheckExposure(cfg.Listen, cfg.Auth.Required); err != nil {
				return err
			}
			srv, err := app.BuildServer(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer srv.Gateway.Close()
			return serveHTTP(cmd.Context(), srv, cfg, log, func(a net.Addr) {
				base := baseURL(a)
				log.Info("dap serving", "mcp", base+"/mcp", "targets", len(cfg.Targets), "version", versionString())
				fmt.Fprintf(cmd.OutOrStdout(), "dap %s serving %d target(s): MCP at %s/mcp, health at %s/healthz and %s/readyz\n",
					versionString(), len(cfg.Targets), base, base, base)
			})
		},
	}
	cmd.Flags().StringP("config", "c", "dap.yaml", "configuration file")
	cmd.Flags().String("listen", "", "address to listen on (overrides the config's listen)")
	return cmd
}

func newMCPCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve MCP over stdio (stdout carries only the protocol; logs go to stderr)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			gw, err := app.Build(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer gw.Close()
			return serveStdio(cmd.Context(), gw, cfg, log)
		},
	}
	cmd.Flags().StringP("config", "c", "dap.yaml", "configuration file")
	return cmd
}

// baseURL is the address a client on this machine dials for a bound
// address. A wildcard host (listen ":8787" or "0.0.0.0:8787") becomes
// 127.0.0.1: "http://[::]:8787" is not dialable everywhere, and the MCP
// handler's DNS-rebinding protection refuses it as a Host with 403.
func baseURL(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	return "http://" + a.String()
}

// serveHTTP serves /mcp with API key authentication and per-identity rate
// limits as cfg.Auth says, through the server's one accounts store and
// audit appender. `dap serve` and `dap demo` check the listen address
// first (CheckExposure).
func serveHTTP(ctx context.Context, srv *app.Server, cfg *config.Config, log *slog.Logger, ready func(net.Addr)) error {
	o := httpapi.Options{
		Logger: log, AuthRequired: cfg.Auth.Required, LocalUser: cfg.LocalUser,
		RequestsPerSecond: float64(cfg.Auth.RateLimit.RequestsPerSecond), Burst: cfg.Auth.RateLimit.Burst,
	}
	o.OIDC = httpapi.OIDC(cfg.Auth.OIDC)
	// Typed nils must not become non-nil interfaces.
	if srv.Accounts != nil {
		o.Keys = srv.Accounts
	}
	if srv.Auditor != nil {
		o.Auditor = srv.Auditor
	}
	if o.AuthRequired && o.Keys == nil {
		return fmt.Errorf("auth.required is true but there is no data_dir or repository to hold API keys")
	}
	m := mcpserver.New(srv.Gateway, mcpserver.Options{Version: versionString(), Logger: log, LocalUser: cfg.LocalUser})
	return httpapi.Serve(ctx, cfg.Listen, httpapi.New(m, srv.Gateway, o), log, ready)
}

func serveStdio(ctx context.Context, gw *gateway.Gateway, cfg *config.Config, log *slog.Logger) error {
	srv := mcpserver.New(gw, mcpserver.Options{Version: versionString(), Logger: log, LocalUser: cfg.LocalUser})
	log.Info("dap serving MCP on stdio", "version", versionString())
	if err := srv.Run(ctx, &mcp.StdioTransport{}); err != nil && ctx.Err() == nil {
		return fmt.Errorf("stdio: %w", err)
	}
	return nil
}
