// Command dap is the Database Automation Platform: a guarded MCP gateway
// to SQL databases. See the README for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dap:", err)
		os.Exit(1)
	}
}

// newRoot builds the command tree; out and errOut are injectable so tests
// can drive the real commands.
func newRoot(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "dap",
		Short:         "DAP - a guarded MCP gateway that lets AI assistants work with SQL databases safely",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().String("log-level", "", "log level: debug, info, warn or error (default: the config's log_level, else info)")
	root.AddCommand(
		newDemoCmd(),
		newServeCmd(),
		newMCPCmd(),
		newCheckCmd(),
		newAuditCmd(),
		newSecretCmd(),
		newUserCmd(),
		newKeyCmd(),
		newRoleCmd(),
		newCanCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "Print DAP's version",
			Args:  cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) {
				bi, _ := debug.ReadBuildInfo()
				goVersion := ""
				if bi != nil {
					goVersion = bi.GoVersion
				}
				fmt.Fprintf(cmd.OutOrStdout(), "dap %s (%s)\n", versionString(), goVersion)
			},
		},
	)
	return root
}

// newLogger makes the JSON logger on stderr. Stdout is never used for
// logs: in stdio mode it carries the protocol.
func newLogger(cmd *cobra.Command, configLevel string) (*slog.Logger, error) {
	lvl, _ := cmd.Flags().GetString("log-level")
	if lvl == "" {
		lvl = configLevel
	}
	var level slog.Level
	switch strings.ToLower(lvl) {
	case "", "info":
		level = slog.LevelInfo
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", lvl)
	}
	return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})), nil
}
