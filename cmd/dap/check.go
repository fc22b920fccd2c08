package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/secrets"
)

func newCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and connect to every target, one line per target",
		Long: "check validates dap.yaml, connects to every target and prints one line per target: " +
			"name, engine, server version, access mode, and ok or the reason. Read-only targets also run " +
			"the read-only self-test. Exit status 1 when any target is not ok.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TARGET\tENGINE\tVERSION\tACCESS\tSTATUS")
			failed := 0
			res := app.NewResolver(cfg)
			for _, t := range cfg.Targets {
				ver, status := checkTarget(cmd.Context(), t.Name, func(ctx context.Context) (engine.Engine, error) {
					rt, err := app.ResolveTarget(ctx, res, t)
					if err != nil {
						return nil, err
					}
					return app.OpenEngine(ctx, rt)
				}, t.Access)
				// One line per target: drivers' messages (and SQL Server's
				// version) span lines, which would break the table.
				ver, status = oneLine(ver), oneLine(status)
				if !strings.HasPrefix(status, "ok") {
					failed++
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Engine, ver, t.Access, status)
			}
			_ = w.Flush()
			// Report the providers the targets' DSNs use.
			used := map[secrets.Scheme]bool{}
			for _, t := range cfg.Targets {
				if ref, err := secrets.ParseRef(t.DSN); err == nil && !ref.IsPlain() && !(ref.Scheme == secrets.SchemeFile && t.Engine == engine.SQLite) {
					used[ref.Scheme] = true
				}
			}
			for _, h := range res.Health(cmd.Context()) {
				if !used[h.Provider] {
					continue
				}
				state := "ok"
				if !h.OK {
					state = "error: " + h.LastError
				}
				fmt.Fprintf(cmd.OutOrStdout(), "secret provider %s: %s", h.Provider, state)
				if h.Detail != "" {
					fmt.Fprintf(cmd.OutOrStdout(), " (%s)", oneLine(h.Detail))
				}
				for _, wn := range h.Warnings {
					fmt.Fprintf(cmd.OutOrStdout(), "; warning: %s", oneLine(wn))
				}
				fmt.Fprintln(cmd.OutOrStdout())
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d target(s) not ok", failed, len(cfg.Targets))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "configuration %s is valid; %d target(s) ok\n", cfg.Path, len(cfg.Targets))
			return nil
		},
	}
	cmd.Flags().StringP("config", "c", "dap.yaml", "configuration file")
	return cmd
}

func checkTarget(ctx context.Context, name string, open func(context.Context) (engine.Engine, error), access engine.Access) (version, status string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	e, err := open(ctx)
	if err != nil {
		return "-", "error: " + err.Error()
	}
	defer e.Close()
	version, err = e.ServerVersion(ctx)
	if err != nil {
		if errors.Is(err, engine.ErrUnavailable) {
			return "-", "unreachable: " + err.Error()
		}
		return "-", "error: " + err.Error()
	}
	if access == engine.ReadOnly {
		if err := app.SelfTest(ctx, e); err != nil {
			return version, "error: " + err.Error()
		}
		return version, "ok (read-only enforced by the database: self-test passed)"
	}
	return version, "ok"
}

// oneLine folds a possibly multi-line message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
