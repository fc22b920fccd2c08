package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/guard"
	"github.com/dap-platform/dap/internal/rbac"
)

// This file holds `dap user`, `dap key`, `dap role` and `dap can`: the
// administration of DAP's accounts (internal/accounts) from the shell.
// Every command opens the repository named by --config / --data-dir,
// records its changes through an audit Appender signed with data_dir's
// key, and closes the Appender before returning so that the new records
// are covered by a signed checkpoint.

// accountsEnv is what one accounts command works with.
type accountsEnv struct {
	cfg   *config.Config
	store *accounts.Store
	actor string
}

// addAccountsFlags adds the flags every accounts command shares.
func addAccountsFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringP("config", "c", "dap.yaml", "configuration file (for data_dir, repository and targets)")
	cmd.PersistentFlags().String("data-dir", "", "data directory (overrides the config's data_dir)")
	cmd.PersistentFlags().String("actor", "", `who makes the change, as recorded in the audit trail (default "os:" and the OS user name)`)
}

// accountsConfig loads the configuration like `dap audit verify`: with
// --data-dir alone and no config file, an empty configuration will do.
func accountsConfig(cmd *cobra.Command) (*config.Config, error) {
	cfg := &config.Config{}
	d, _ := cmd.Flags().GetString("data-dir")
	if path, _ := cmd.Flags().GetString("config"); d == "" || cmd.Flags().Changed("config") || fileExists(path) {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	if d != "" {
		cfg.DataDir = d
	}
	return cfg, nil
}

// actorOf is --actor, else "os:" and the OS user running the command.
func actorOf(cmd *cobra.Command) (string, error) {
	if a, _ := cmd.Flags().GetString("actor"); a != "" {
		return a, nil
	}
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "", fmt.Errorf("cannot tell who is making the change (OS user unknown: %v); pass --actor NAME", err)
	}
	return "os:" + u.Username, nil
}

// withAccounts opens the repository, an audit Appender and the store,
// runs fn, then closes the Appender (signing a checkpoint over fn's
// records) and the repository.
func withAccounts(cmd *cobra.Command, fn func(ctx context.Context, env *accountsEnv) error) (err error) {
	ctx := cmd.Context()
	actor, err := actorOf(cmd)
	if err != nil {
		return err
	}
	cfg, err := accountsConfig(cmd)
	if err != nil {
		return err
	}
	r, key, err := app.OpenRepository(ctx, cfg)
	if err != nil {
		return err
	}
	a, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		_ = r.Close()
		return fmt.Errorf("audit trail: %w", err)
	}
	defer func() {
		// Sign even when ctx was canceled: records already written must
		// end up under a checkpoint.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := a.Close(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the audit trail: %w", cerr))
		}
		if cerr := r.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the repository: %w", cerr))
		}
	}()
	s, err := accounts.New(r, a)
	if err != nil {
		return err
	}
	return fn(ctx, &accountsEnv{cfg: cfg, store: s, actor: actor})
}

// parseLifetime reads a positive duration: Nd for N days, or a Go
// duration such as 12h or 90m.
func parseLifetime(flag, s string) (time.Duration, error) {
	const maxDays = 100 * 366
	bad := fmt.Errorf("--%s %q: want a positive duration such as 90d (days), 12h or 30m", flag, s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, bad
		}
		if n > maxDays {
			return 0, fmt.Errorf("--%s %q: at most %dd", flag, s, maxDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// expiryFlag turns --expires into an instant; zero when not given.
func expiryFlag(cmd *cobra.Command) (time.Time, error) {
	s, _ := cmd.Flags().GetString("expires")
	if s == "" {
		return time.Time{}, nil
	}
	d, err := parseLifetime("expires", s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(d), nil
}

// parseID reads a key or grant id, accepting "7" and "#7".
func parseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s id %q: want a positive number as listed by the list command", what, s)
	}
	return id, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// expiry shows an expiry, marking one that has passed.
func expiry(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "never"
	case !now.Before(t):
		return stamp(t) + " (expired)"
	}
	return stamp(t)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage DAP's users (API keys belong to users; roles are granted with `dap role assign`)"}
	addAccountsFlags(cmd)
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an enabled user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			display, _ := cmd.Flags().GetString("display")
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				u, err := env.store.CreateUser(ctx, env.actor, args[0], display)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added user %s\n", u.Name)
				return nil
			})
		},
	}
	add.Flags().String("display", "", "display name")
	setter := func(use, short string, fn func(*accounts.Store, context.Context, string, string) error, done string) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
					if err := fn(env.store, ctx, env.actor, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s user %s\n", done, args[0])
					return nil
				})
			},
		}
	}
	cmd.AddCommand(add,
		&cobra.Command{
			Use:   "list",
			Short: "List users",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
					us, err := env.store.ListUsers(ctx)
					if err != nil {
						return err
					}
					w := newTable(cmd.OutOrStdout())
					fmt.Fprintln(w, "NAME\tDISPLAY NAME\tCREATED\tSTATUS")
					for _, u := range us {
						status := "enabled"
						if u.Disabled {
							status = "disabled"
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Name, u.DisplayName, stamp(u.Created), status)
					}
					return w.Flush()
				})
			},
		},
		setter("disable", "Disable a user: their API keys stop working and their grants stop counting", (*accounts.Store).DisableUser, "disabled"),
		setter("enable", "Re-enable a disabled user", (*accounts.Store).EnableUser, "enabled"),
	)
	return cmd
}

func newKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage API keys (Authorization: Bearer dap_...)"}
	addAccountsFlags(cmd)
	create := &cobra.Command{
		Use:   "create --user NAME [--expires 90d]",
		Short: "Create an API key for a user and print it once",
		Long: "create prints the new key alone on standard output, once: only its hash is stored, so it cannot be shown again. " +
			"--expires takes days (90d) or a Go duration (12h); without it the key never expires.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			owner, _ := cmd.Flags().GetString("user")
			if owner == "" {
				return errors.New("key create: --user is required (the user the key authenticates as; add one with `dap user add`)")
			}
			expires, err := expiryFlag(cmd)
			if err != nil {
				return err
			}
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				plain, info, err := env.store.CreateKey(ctx, env.actor, owner, expires)
				if err != nil {
					if errors.Is(err, accounts.ErrNotFound) {
						return fmt.Errorf("%w (add the user first with `dap user add %s`)", err, owner)
					}
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), plain)
				fmt.Fprintf(cmd.ErrOrStderr(), "created key #%d (%s...) for %s, expires %s.\nwarning: this is the only time the key is shown; store it now, it cannot be shown again.\n",
					info.ID, info.Prefix, info.User, expiry(info.Expires, time.Now()))
				return nil
			})
		},
	}
	create.Flags().String("user", "", "the user the key belongs to (required)")
	create.Flags().String("expires", "", "lifetime, e.g. 90d or 12h (default: never expires)")
	list := &cobra.Command{
		Use:   "list [--user NAME]",
		Short: "List API keys (prefixes only, never keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			owner, _ := cmd.Flags().GetString("user")
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				keys, err := env.store.ListKeys(ctx, owner)
				if err != nil {
					return err
				}
				now := time.Now()
				w := newTable(cmd.OutOrStdout())
				fmt.Fprintln(w, "ID\tPREFIX\tUSER\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
				for _, k := range keys {
					fmt.Fprintf(w, "%d\t%s...\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.User, stamp(k.Created), stamp(k.LastUsed), expiry(k.Expires, now), stamp(k.Revoked))
				}
				return w.Flush()
			})
		},
	}
	list.Flags().String("user", "", "only this user's keys")
	cmd.AddCommand(create, list, &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key by the id `dap key list` shows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("key", args[0])
			if err != nil {
				return err
			}
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				if err := env.store.RevokeKey(ctx, env.actor, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked key #%d\n", id)
				return nil
			})
		},
	})
	return cmd
}

func newRoleCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "role", Short: "Manage roles and grant them to users or groups (group:NAME)"}
	addAccountsFlags(cmd)
	create := &cobra.Command{
		Use:   "create NAME --permissions P1,P2 [--mfa]",
		Short: "Create a custom role",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			perms, _ := cmd.Flags().GetStringSlice("permissions")
			if len(perms) == 0 {
				return fmt.Errorf("role create %s: --permissions is required (known: %s)", args[0], permissionNames())
			}
			desc, _ := cmd.Flags().GetString("description")
			mfa, _ := cmd.Flags().GetBool("mfa")
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				r, err := env.store.CreateRole(ctx, env.actor, args[0], desc, perms, mfa)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created role %s: %s\n", r.Name, joinPermissions(r.Permissions))
				return nil
			})
		},
	}
	create.Flags().StringSlice("permissions", nil, "comma-separated permissions, e.g. QueryRead,ViewMetrics (required)")
	create.Flags().String("description", "", "what the role is for")
	create.Flags().Bool("mfa", false, "grants of this role count only for identities that used a second factor")

	del := &cobra.Command{
		Use:   "delete NAME [--force]",
		Short: "Delete a custom role (--force also deletes the grants that give it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, _ := cmd.Flags().GetBool("force")
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				if err := env.store.DeleteRole(ctx, env.actor, args[0], force); err != nil {
					if errors.Is(err, accounts.ErrRoleInUse) {
						return fmt.Errorf("%w (see `dap role grants`)", err)
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted role %s\n", args[0])
				return nil
			})
		},
	}
	del.Flags().Bool("force", false, "delete the role's grants with it")

	assign := &cobra.Command{
		Use:   "assign USER ROLE [--targets a,b] [--expires 30d]",
		Short: "Grant a role to a user or to group:NAME, on all targets or some",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, _ := cmd.Flags().GetStringSlice("targets")
			expires, err := expiryFlag(cmd)
			if err != nil {
				return err
			}
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				warnUnknownTargets(cmd.ErrOrStderr(), env.cfg, targets)
				g, err := env.store.Assign(ctx, env.actor, args[0], args[1], targets, expires)
				if err != nil {
					if errors.Is(err, accounts.ErrNotFound) {
						return fmt.Errorf("%w (see `dap role list`)", err)
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "granted %s to %s on %s, expires %s: grant #%d\n",
					g.Role, g.User, scopeOf(g.Targets), expiry(g.ExpiresAt, time.Now()), g.ID)
				return nil
			})
		},
	}
	assign.Flags().StringSlice("targets", nil, "comma-separated target names (default: all targets)")
	assign.Flags().String("expires", "", "lifetime, e.g. 30d or 8h (default: never expires)")

	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List built-in and custom roles with their permissions",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
					roles, err := env.store.ListRoles(ctx)
					if err != nil {
						return err
					}
					w := newTable(cmd.OutOrStdout())
					fmt.Fprintln(w, "NAME\tTYPE\tMFA\tPERMISSIONS\tDESCRIPTION")
					for _, r := range roles {
						kind, mfa := "custom", "no"
						if rbac.IsBuiltin(r.Name) {
							kind = "built-in"
						}
						if r.RequireMFA {
							mfa = "required"
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Name, kind, mfa, joinPermissions(r.Permissions), r.Description)
					}
					return w.Flush()
				})
			},
		},
		create, del, assign,
		&cobra.Command{
			Use:   "revoke GRANT_ID",
			Short: "Revoke a grant by the id `dap role grants` shows",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := parseID("grant", args[0])
				if err != nil {
					return err
				}
				return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
					if err := env.store.Revoke(ctx, env.actor, id); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "revoked grant #%d\n", id)
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "grants [USER]",
			Short: "List grants, of one user or group:NAME or all",
			Args:  cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				subject := ""
				if len(args) == 1 {
					subject = args[0]
				}
				return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
					gs, err := env.store.ListGrants(ctx, subject)
					if err != nil {
						return err
					}
					now := time.Now()
					w := newTable(cmd.OutOrStdout())
					fmt.Fprintln(w, "ID\tSUBJECT\tROLE\tTARGETS\tEXPIRES\tGRANTED BY\tGRANTED AT")
					for _, g := range gs {
						targets := "all"
						if len(g.Targets) > 0 {
							targets = strings.Join(g.Targets, ",")
						}
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.User, g.Role, targets, expiry(g.ExpiresAt, now), g.GrantedBy, stamp(g.GrantedAt))
					}
					return w.Flush()
				})
			},
		},
	)
	return cmd
}

// warnUnknownTargets says when a grant names targets the configuration
// does not have: such a grant confers nothing until they exist, and a
// typo is the likely cause.
func warnUnknownTargets(w io.Writer, cfg *config.Config, targets []string) {
	if len(cfg.Targets) == 0 {
		return
	}
	for _, t := range targets {
		if !slices.ContainsFunc(cfg.Targets, func(ct config.Target) bool { return ct.Name == t }) {
			fmt.Fprintf(w, "warning: target %q is not in the configuration (known: %s); the grant confers nothing there until it is\n", t, targetNames(cfg))
		}
	}
}

func targetNames(cfg *config.Config) string {
	names := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

func scopeOf(targets []string) string {
	if len(targets) == 0 {
		return "all targets"
	}
	return "targets " + strings.Join(targets, ", ")
}

func joinPermissions(ps []rbac.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func permissionNames() string { return joinPermissions(rbac.AllPermissions()) }

// errDenied is returned by `dap can` when the answer is no, so that the
// exit status is 1.
var errDenied = errors.New("denied")

func newCanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "can USER TOOL TARGET [KIND]",
		Short: "Say whether USER may call an MCP tool on a target, and why (exit status 1 when denied)",
		Long: "can decides as the gateway would, from the roles and grants in DAP's repository and the target's access mode " +
			"in the configuration, and lists every grant of the user with what it did. KIND is the statement kind " +
			"execute_sql needs: read, write, ddl or admin. Example: dap can alice@example.com execute_sql shop write",
		Args: cobra.RangeArgs(3, 4),
		RunE: func(cmd *cobra.Command, args []string) error {
			who := rbac.Identity{User: args[0]}
			who.MFA, _ = cmd.Flags().GetBool("mfa")
			who.Groups, _ = cmd.Flags().GetStringSlice("groups")
			tool, target := args[1], args[2]
			var kind guard.Kind
			if len(args) == 4 {
				kind = guard.Kind(strings.ToLower(args[3]))
				if !slices.Contains([]guard.Kind{guard.Read, guard.Write, guard.DDL, guard.Admin}, kind) {
					return fmt.Errorf("statement kind %q: want read, write, ddl or admin", args[3])
				}
			}
			if _, ok := rbac.ToolPermission(tool); !ok {
				return fmt.Errorf("unknown tool %q (known: list_targets, list_schemas, list_tables, describe_table, list_procedures, explain_query, execute_sql, execute_procedure)", tool)
			}
			at := time.Now()
			if s, _ := cmd.Flags().GetString("at"); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-12-31T09:00:00Z", s)
				}
				at = t
			}
			return withAccounts(cmd, func(ctx context.Context, env *accountsEnv) error {
				i := slices.IndexFunc(env.cfg.Targets, func(t config.Target) bool { return t.Name == target })
				if i < 0 {
					if len(env.cfg.Targets) == 0 {
						return fmt.Errorf("target %q: the configuration has no targets; pass the dap.yaml that defines it with --config", target)
					}
					return fmt.Errorf("target %q is not in the configuration (known: %s)", target, targetNames(env.cfg))
				}
				access := env.cfg.Targets[i].Access
				p, err := env.store.LoadPolicy(ctx)
				if err != nil {
					return err
				}
				d := p.Can(at, who, tool, target, access, kind)
				verdict := "ALLOWED"
				if !d.Allowed {
					verdict = "DENIED"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s on %s (%s)\n%s\n", verdict, who.User, toolAndKind(tool, kind), target, access, d.Explain())
				if !d.Allowed {
					return fmt.Errorf("%w: %s may not %s on %s", errDenied, who.User, toolAndKind(tool, kind), target)
				}
				return nil
			})
		},
	}
	addAccountsFlags(cmd)
	cmd.Flags().Bool("mfa", false, "decide as if the user authenticated with a second factor")
	cmd.Flags().StringSlice("groups", nil, "identity-provider groups the user belongs to (without the group: prefix)")
	cmd.Flags().String("at", "", "decide at this RFC 3339 time instead of now (e.g. after a grant expires)")
	return cmd
}

func toolAndKind(tool string, kind guard.Kind) string {
	if kind == "" {
		return tool
	}
	return tool + " (" + string(kind) + ")"
}
