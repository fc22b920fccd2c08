package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/secrets"
)

// newSecretCmd manages DAP's encrypted keystore (data_dir/keystore.json,
// AES-256-GCM under the master key in DAP_MASTER_KEY or
// DAP_MASTER_KEY_FILE). Values are read from standard input, never from
// arguments, so they stay out of shell history and process listings.
func newSecretCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Manage DAP's encrypted keystore (use keystore:NAME as a DSN in dap.yaml)",
	}
	cmd.PersistentFlags().StringP("config", "c", "dap.yaml", "configuration file (for data_dir)")
	cmd.PersistentFlags().String("data-dir", "", "data directory holding keystore.json (overrides the config's data_dir)")

	open := func(cmd *cobra.Command) (*secrets.Keystore, error) {
		dir, err := dataDir(cmd)
		if err != nil {
			return nil, err
		}
		key, warning, err := secrets.LoadMasterKey(os.LookupEnv)
		if err != nil {
			return nil, fmt.Errorf("master key: %w (set %s to a base64 key from `dap secret generate-key`, or %s to a file holding one)", err, secrets.EnvMasterKey, secrets.EnvMasterKeyFile)
		}
		if warning != "" {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", warning)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		return secrets.OpenKeystore(filepath.Join(dir, app.KeystoreFile), key)
	}

	setCmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret read from standard input (one line, or all of it with --multiline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := open(cmd)
			if err != nil {
				return err
			}
			multi, _ := cmd.Flags().GetBool("multiline")
			value, err := readSecret(cmd.InOrStdin(), multi)
			if err != nil {
				return err
			}
			if err := ks.Set(args[0], value); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stored %s in %s; use dsn: keystore:%s\n", args[0], ks.Path(), args[0])
			return nil
		},
	}
	setCmd.Flags().Bool("multiline", false, "read the whole of standard input (keep inner newlines)")

	cmd.AddCommand(
		&cobra.Command{
			Use:   "generate-key",
			Short: "Print a new random 256-bit master key (base64)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				k, err := secrets.GenerateMasterKey()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(k))
				return nil
			},
		},
		setCmd,
		&cobra.Command{
			Use:   "list",
			Short: "List the keystore's entries (names and dates, never values)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ks, err := open(cmd)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tCREATED\tROTATED")
				for _, e := range ks.List() {
					fmt.Fprintf(w, "%s\t%s\t%s\n", e.Name, e.Created.Format(time.RFC3339), e.Rotated.Format(time.RFC3339))
				}
				return w.Flush()
			},
		},
		&cobra.Command{
			Use:   "delete NAME",
			Short: "Remove an entry",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ks, err := open(cmd)
				if err != nil {
					return err
				}
				return ks.Delete(args[0])
			},
		},
		&cobra.Command{
			Use:   "rotate",
			Short: "Re-encrypt every entry under a new master key read from standard input (base64)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ks, err := open(cmd)
				if err != nil {
					return err
				}
				line, err := readSecret(cmd.InOrStdin(), false)
				if err != nil {
					return err
				}
				nk, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
				if err != nil || len(nk) != secrets.MasterKeySize {
					return fmt.Errorf("the new master key must be %d bytes in base64 (see `dap secret generate-key`)", secrets.MasterKeySize)
				}
				if err := ks.RotateMasterKey(nk); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "keystore %s re-encrypted; set %s to the new key before the next start\n", ks.Path(), secrets.EnvMasterKey)
				return nil
			},
		},
	)
	return cmd
}

// dataDir is --data-dir, else the config's data_dir.
func dataDir(cmd *cobra.Command) (string, error) {
	if d, _ := cmd.Flags().GetString("data-dir"); d != "" {
		return d, nil
	}
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path)
	if err != nil {
		return "", err
	}
	return cfg.DataDir, nil
}

func readSecret(r io.Reader, multiline bool) (string, error) {
	const limit = secrets.MaxSecretSize
	if multiline {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return "", fmt.Errorf("read the secret from standard input: %w", err)
		}
		if len(b) > limit {
			return "", fmt.Errorf("secret over %d bytes", limit)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), limit)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("read the secret from standard input: %w", err)
		}
		return "", fmt.Errorf("no secret on standard input")
	}
	v := strings.TrimRight(sc.Text(), "\r")
	if v == "" {
		return "", fmt.Errorf("empty secret on standard input")
	}
	return v, nil
}
