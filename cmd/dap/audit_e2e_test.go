package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditTrailRecordsEveryCall: over HTTP, allowed, refused and failed
// tool calls each leave a record with the caller, the session, the client,
// the statement kind, the SQL text and the correlation id; a write leaves
// an intent record before it runs; `dap audit verify` finds the chain
// intact, and names the record after one is edited in the database.
func TestAuditTrailRecordsEveryCall(t *testing.T) {
	est := setupEstate(t)
	url := startServe(t, "serve", "--config", est.configPath, "--log-level", "warn")
	s := connectHTTP(t, url)

	okRes, _, _ := call(t, s, "execute_sql", map[string]any{"target": "pg", "sql": "SELECT count(*) FROM orders"})
	refRes, _, _ := call(t, s, "execute_sql", map[string]any{"target": "pg", "sql": "DELETE FROM orders WHERE id = 1"})
	call(t, s, "execute_sql", map[string]any{"target": "pgrw", "sql": "UPDATE customers SET name = 'audited' WHERE id = 2"})
	call(t, s, "execute_sql", map[string]any{"target": "pg", "sql": "SELECT no_such_column FROM orders"})
	call(t, s, "execute_procedure", map[string]any{"target": "pg", "procedure": "order_count", "args": map[string]any{"cust": 424242}})

	// The server's records are durable before each call returned.
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(est.configPath), "dap-data", "dap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type rec struct {
		user, session, client, app, action, target, kind, sqlText, corr, errText string
		success                                                                  bool
		rows                                                                     int64
	}
	byCorr := map[string][]rec{}
	var all []rec
	rows, err := db.Query(`SELECT user_name, session_id, client_addr, application, action, target, statement_kind, sql_text, correlation_id, error, success, rows_returned FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r rec
		if err := rows.Scan(&r.user, &r.session, &r.client, &r.app, &r.action, &r.target, &r.kind, &r.sqlText, &r.corr, &r.errText, &r.success, &r.rows); err != nil {
			t.Fatal(err)
		}
		byCorr[r.corr] = append(byCorr[r.corr], r)
		all = append(all, r)
	}
	rows.Close()
	if len(all) < 6 {
		t.Fatalf("%d audit records, want at least 6", len(all))
	}
	okID, _ := okRes.Meta["correlation_id"].(string)
	if rs := byCorr[okID]; len(rs) != 1 || !rs[0].success || rs[0].kind != "read" || rs[0].rows != 1 || rs[0].user != "local" ||
		rs[0].session == "" || !strings.HasPrefix(rs[0].client, "127.0.0.1:") || rs[0].app != "dap-e2e 1" || rs[0].sqlText != "SELECT count(*) FROM orders" {
		t.Errorf("allowed read recorded as %+v", rs)
	}
	refID, _ := refRes.Meta["correlation_id"].(string)
	if rs := byCorr[refID]; len(rs) != 1 || rs[0].success || rs[0].kind != "write" || !strings.Contains(rs[0].errText, "refused") {
		t.Errorf("refused write recorded as %+v", rs)
	}
	var sawIntent, sawUpdate, sawFailure, sawProc bool
	for _, r := range all {
		switch {
		case r.action == "execute_sql:start" && r.target == "pgrw":
			sawIntent = true
			if sawUpdate {
				t.Error("the intent record came after the write's outcome")
			}
		case r.action == "execute_sql" && r.target == "pgrw":
			sawUpdate = r.success && r.rows == 1
		case strings.Contains(r.sqlText, "no_such_column"):
			sawFailure = !r.success && strings.HasPrefix(r.errText, "database error")
		case r.action == "execute_procedure":
			sawProc = r.success
		}
		if strings.Contains(r.sqlText, "424242") || strings.Contains(r.errText, "424242") {
			t.Errorf("a procedure argument value reached the audit trail: %+v", r)
		}
	}
	if !sawIntent || !sawUpdate || !sawFailure || !sawProc {
		t.Errorf("intent %v, update %v, failed statement %v, procedure %v", sawIntent, sawUpdate, sawFailure, sawProc)
	}

	// verify: intact, then tampered.
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd := newRoot(out, errOut)
	cmd.SetArgs([]string{"audit", "verify", "--config", est.configPath})
	if err := cmd.ExecuteContext(context.Background()); err != nil || !strings.Contains(out.String(), "audit trail intact") {
		t.Fatalf("verify: %v\n%s%s", err, out, errOut)
	}
	if _, err := db.Exec(`UPDATE audit_events SET sql_text = 'SELECT 1' WHERE correlation_id = ?`, okID); err != nil {
		t.Fatal(err)
	}
	out = &syncBuffer{}
	cmd = newRoot(out, errOut)
	cmd.SetArgs([]string{"audit", "verify", "--config", est.configPath})
	err = cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "NOT intact") || !strings.Contains(err.Error(), "record") {
		t.Fatalf("verify after tampering: %v\n%s", err, out)
	}
}
