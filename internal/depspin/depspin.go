// Package depspin pins dependencies while the packages that use them are
// being written; delete it once they are imported for real.
package depspin

import (
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/microsoft/go-mssqldb"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/pganalyze/pg_query_go/v6"
	_ "github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
	_ "github.com/spf13/cobra"
	_ "github.com/sqlc-dev/teesql/parser"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)
