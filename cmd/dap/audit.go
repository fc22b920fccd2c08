package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
)

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with DAP's tamper-evident audit trail",
	}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit hash chain and check every signed checkpoint",
		Long: "verify reads every audit record in order, recomputes the SHA-256 chain and checks each Ed25519-signed " +
			"checkpoint, and reports the first record that was altered, inserted, removed or reordered. Exit status 1 when it finds one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// --data-dir alone (the demo's ./dap-demo) needs no config file.
			cfg := &config.Config{}
			d, _ := cmd.Flags().GetString("data-dir")
			if path, _ := cmd.Flags().GetString("config"); d == "" || cmd.Flags().Changed("config") || fileExists(path) {
				var err error
				if cfg, _, err = loadConfig(cmd); err != nil {
					return err
				}
			}
			if d != "" {
				cfg.DataDir = d
			}
			r, key, err := app.OpenRepository(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer r.Close()
			pub := key.Public().(ed25519.PublicKey)
			rep, err := audit.Verify(cmd.Context(), r, pub)
			if err != nil {
				return fmt.Errorf("audit verify: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "repository: %s\nsigning key: %s (%s)\n", r, audit.KeyID(pub), filepath.Join(cfg.DataDir, app.AuditKeyFile))
			fmt.Fprintf(out, "records: %d (ids %d-%d), checkpoints verified: %d, records after the last checkpoint: %d, in %s\n",
				rep.Records, rep.FirstID, rep.LastID, rep.Checkpoints, rep.Unsigned, rep.Elapsed.Round(1e6))
			if !rep.OK {
				return fmt.Errorf("audit trail is NOT intact: %v", rep.Problem)
			}
			fmt.Fprintf(out, "audit trail intact; head %s\n", hex.EncodeToString(rep.HeadHash))
			return nil
		},
	}
	verify.Flags().StringP("config", "c", "dap.yaml", "configuration file (for data_dir and repository)")
	verify.Flags().String("data-dir", "", "data directory to verify (overrides the config's data_dir; e.g. ./dap-demo for the demo)")
	cmd.AddCommand(verify)
	return cmd
}
