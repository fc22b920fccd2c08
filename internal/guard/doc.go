// Package guard is DAP's statement guard: every SQL text passes the real
// parser of its dialect before a database sees it, must hold exactly one
// statement, and is classified as read, write, ddl, admin, tx or unknown.
// Permit then matches the kind against a target's access mode. The guard
// is layer one; the adapters' read-only transactions, query_only
// connections and least-privilege roles are layer two.
//
// Files:
//   - guard.go: Kind, Verdict, Refusal/ErrRefused, Check and Permit.
//   - checker.go: Checker, a bounded LRU of verdicts for the hot path.
//   - postgres.go: libpg_query (pg_query_go) parse, a protoreflect walk of
//     the whole tree, PostgreSQL's dangerous functions.
//   - mysql.go: TiDB's parser (executable comments /*! */ parse as code),
//     an ast.Visitor walk, sql_mode variants, MySQL's dangerous functions.
//   - sqlite.go: a tokenizer faithful to SQLite's tokenize.c, keyword
//     classification, the pragma allow-lists.
//   - sqlserver.go: teesql parse and a reflection walk of the T-SQL AST.
//   - corpus.go: LoadCorpus and Fixture over the embedded
//     testdata/corpus, shared with the integration tests.
//
// Choices worth knowing:
//   - Function names are matched case-insensitively on their last name
//     part whatever the schema, so pg_catalog.set_config and a user's
//     s.set_config both count. Unknown user functions in a SELECT stay
//     read: the read-only transaction stops what they might write.
//   - pg_sleep is read (statement_timeout bounds it); MySQL's SLEEP and
//     BENCHMARK are admin (max_execution_time does not bound DO SLEEP).
//   - Plain EXPLAIN runs nothing and is read, except on MySQL where
//     MariaDB refuses EXPLAIN of a write in a read-only transaction, so it
//     takes the write's kind; EXPLAIN ANALYZE takes the kind of what it
//     explains. Dangerous functions raise even under plain EXPLAIN.
//   - SELECT ... INTO a table is ddl (it creates one); SELECT ... FOR
//     UPDATE/SHARE and locking hints are write (read-only transactions
//     refuse them); MySQL user-variable assignment (@a := ..., INTO @v) and
//     all SET statements are admin, because session state outlives the
//     call on a pooled connection. SET TRANSACTION and SET autocommit are
//     transaction control, which is always refused: DAP owns the
//     transaction.
//   - MySQL: what TiDB's parser cannot parse (some MariaDB-only syntax,
//     XA, HANDLER, CHECK TABLE, INTO @var, INTO DUMPFILE) is refused, as
//     are MariaDB's /*M! */ comments and versioned /*!NNNNN */ comments
//     holding quotes or comments, whose extent the server may read
//     differently. Text with a backslash or a double quote is parsed again
//     under NO_BACKSLASH_ESCAPES / ANSI_QUOTES and the strongest verdict
//     wins, since the guard does not know the session's sql_mode.
//   - SQLite: a CREATE TRIGGER body holds semicolons and so counts as
//     several statements: it is refused. PRAGMA is read only for the
//     allow-listed reporting pragmas; any "=" or unknown pragma is admin.
//   - SQL Server: every statement of a batch runs, so the one-statement
//     check is the only barrier; EXEC, control flow and SET are admin; a
//     leading unknown word is an implicit EXEC (admin); OPENROWSET,
//     OPENQUERY, OPENDATASOURCE and four-part names are admin.
package guard
