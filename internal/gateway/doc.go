// Package gateway holds DAP's use cases - list targets, explore schemas,
// execute SQL, explain, execute procedures - and is the one choke point
// where the statement guard, the target's access mode, limits and logging
// are applied, so that no transport can skip them.
//
// Files: gateway.go (the Gateway, targets, errors), catalog.go (schema
// exploration), execute.go (execute_sql and explain_query),
// procedure.go (execute_procedure: allow-list and argument validation),
// pattern.go (table name patterns).
package gateway
