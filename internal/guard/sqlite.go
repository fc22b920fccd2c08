package guard

import (
	"fmt"
	"strings"
)

// SQLite has no parser the guard may link (no cgo), so this file holds
// a small tokenizer faithful to SQLite's tokenize.c: it finds statement
// boundaries and function calls, and statements are classified by their
// leading keywords. A CREATE TRIGGER body holds semicolons and so splits
// into several statements: triggers are refused (create them with a
// migration tool). The SQLite adapter is the second layer: a mode=ro,
// query_only connection with an authorizer.

type sqlTokKind uint8

const (
	tkWord   sqlTokKind = iota // bare identifier or keyword
	tkQuoted                   // "ident", [ident], `ident`
	tkString                   // 'text' or X'hex'
	tkNumber
	tkVar // ?1 :name @name $name
	tkSemi
	tkLParen
	tkRParen
	tkComma
	tkDot
	tkEq
	tkOther
)

type sqlTok struct {
	kind sqlTokKind
	text string // raw text (quotes included)
	pos  int    // byte offset, for messages
}

// upper returns a bare word in upper case, "" for other tokens.
func (t sqlTok) upper() string {
	if t.kind != tkWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

// name returns an identifier's name in lower case with quotes removed.
func (t sqlTok) name() string {
	switch t.kind {
	case tkWord:
		return strings.ToLower(t.text)
	case tkQuoted:
		s := t.text[1 : len(t.text)-1]
		switch t.text[0] {
		case '"':
			s = strings.ReplaceAll(s, `""`, `"`)
		case '`':
			s = strings.ReplaceAll(s, "``", "`")
		}
		return strings.ToLower(s)
	}
	return ""
}

func isIDStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIDChar(c byte) bool {
	return isIDStart(c) || c >= '0' && c <= '9' || c == '$'
}

// sqliteTokenize splits sql into statements of tokens, dropping
// whitespace and comments; statements without tokens are dropped.
func sqliteTokenize(sql string) ([][]sqlTok, error) {
	var stmts [][]sqlTok
	var cur []sqlTok
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		start := i
		emit := func(k sqlTokKind, end int) {
			cur = append(cur, sqlTok{kind: k, text: sql[start:end], pos: start})
			i = end
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r':
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			// SQLite ends an unterminated block comment at end of input.
			if e := strings.Index(sql[i+2:], "*/"); e >= 0 {
				i += 2 + e + 2
			} else {
				i = n
			}
		case c == ';':
			if len(cur) > 0 {
				stmts = append(stmts, cur)
				cur = nil
			}
			i++
		case c == '\'' || c == '"' || c == '`':
			end, ok := scanQuoted(sql, i, c)
			if !ok {
				return nil, fmt.Errorf("unterminated %c quote starting at position %d", c, i+1)
			}
			k := tkQuoted
			if c == '\'' {
				k = tkString
			}
			emit(k, end)
		case c == '[':
			e := strings.IndexByte(sql[i:], ']')
			if e < 0 {
				return nil, fmt.Errorf("unterminated [ quote starting at position %d", i+1)
			}
			emit(tkQuoted, i+e+1)
		case (c == 'x' || c == 'X') && i+1 < n && sql[i+1] == '\'':
			end, ok := scanQuoted(sql, i+1, '\'')
			if !ok {
				return nil, fmt.Errorf("unterminated blob literal starting at position %d", i+1)
			}
			emit(tkString, end)
		case isIDStart(c):
			j := i + 1
			for j < n && isIDChar(sql[j]) {
				j++
			}
			emit(tkWord, j)
		case c >= '0' && c <= '9' || c == '.' && i+1 < n && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i + 1
			for j < n && (isIDChar(sql[j]) || sql[j] == '.' ||
				(sql[j] == '+' || sql[j] == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E')) {
				j++
			}
			emit(tkNumber, j)
		case c == '?' || c == ':' || c == '@' || c == '$' || c == '#':
			j := i + 1
			for j < n && isIDChar(sql[j]) {
				j++
			}
			emit(tkVar, j)
		case c == '(':
			emit(tkLParen, i+1)
		case c == ')':
			emit(tkRParen, i+1)
		case c == ',':
			emit(tkComma, i+1)
		case c == '.':
			emit(tkDot, i+1)
		case c == '=':
			if i+1 < n && sql[i+1] == '=' {
				emit(tkOther, i+2)
			} else {
				emit(tkEq, i+1)
			}
		default:
			emit(tkOther, i+1)
		}
	}
	if len(cur) > 0 {
		stmts = append(stmts, cur)
	}
	return stmts, nil
}

// scanQuoted returns the end of a quoted token starting at i, where a
// doubled quote is an escaped quote.
func scanQuoted(sql string, i int, q byte) (int, bool) {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

func checkSQLite(sql string) (Verdict, error) {
	stmts, err := sqliteTokenize(sql)
	if err != nil {
		return Verdict{Kind: Unknown}, parseRefusal("SQLite", err.Error())
	}
	if len(stmts) != 1 {
		r := countRefusal(len(stmts))
		if len(stmts) > 1 && stmts[0][0].upper() == "CREATE" {
			r.Reason += " (a CREATE TRIGGER body with semicolons counts as several; triggers are refused)"
		}
		return Verdict{Kind: Unknown}, r
	}
	toks := stmts[0]
	v, err := sqliteFaceValue(toks)
	if err != nil {
		return v, err
	}
	// Any identifier followed by "(" is a function call for this purpose.
	for i := 0; i+1 < len(toks); i++ {
		if toks[i+1].kind != tkLParen {
			continue
		}
		name := toks[i].name()
		if r, ok := sqliteFuncs[name]; ok {
			v.raise(r.kind, "function "+name, name+" "+r.why)
		}
	}
	return v, nil
}

// sqliteFuncs lists functions that reach outside the database file.
var sqliteFuncs = map[string]risk{
	"load_extension": {Admin, "loads native code into the server process"},
	"readfile":       {Admin, "reads a file on the host"},
	"writefile":      {Admin, "writes a file on the host"},
	"edit":           {Admin, "starts an editor on the host"},
	"fts3_tokenizer": {Admin, "can install a native tokenizer pointer"},
	"fsdir":          {Admin, "lists directories on the host"},
	"zipfile":        {Admin, "reads archives on the host"},
}

// sqliteReadPragmas may run without an argument: they only report.
var sqliteReadPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "foreign_key_check": true, "integrity_check": true,
	"quick_check": true, "collation_list": true, "database_list": true, "function_list": true,
	"module_list": true, "pragma_list": true, "compile_options": true, "data_version": true,
	"freelist_count": true, "page_count": true, "page_size": true, "schema_version": true,
	"user_version": true, "application_id": true, "encoding": true, "journal_mode": true,
	"auto_vacuum": true, "cache_size": true, "foreign_keys": true, "busy_timeout": true,
	"synchronous": true, "temp_store": true, "wal_autocheckpoint": true, "mmap_size": true,
	"max_page_count": true, "locking_mode": true, "secure_delete": true, "recursive_triggers": true,
	"query_only": true, "cell_size_check": true, "automatic_index": true, "defer_foreign_keys": true,
	"legacy_alter_table": true, "reverse_unordered_selects": true, "trusted_schema": true,
	"analysis_limit": true, "cache_spill": true, "hard_heap_limit": true, "soft_heap_limit": true,
	"threads": true, "ignore_check_constraints": true,
}

// sqliteArgPragmas take an argument (a table, an index, a limit) and
// still only report.
var sqliteArgPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "foreign_key_check": true, "integrity_check": true,
	"quick_check": true,
}

func sqliteFaceValue(toks []sqlTok) (Verdict, error) {
	first := toks[0].upper()
	v := Verdict{Kind: Unknown, Statement: first}
	set := func(k Kind) (Verdict, error) { v.Kind = k; return v, nil }
	switch first {
	case "SELECT", "VALUES":
		return set(Read)
	case "EXPLAIN":
		// SQLite's EXPLAIN compiles the statement and never runs it, but
		// compiling a write on a read-only connection is refused by the
		// authorizer, so EXPLAIN takes the kind of what it explains (as on
		// MySQL): the guard never calls read what the database refuses.
		inner := toks[1:]
		if len(toks) > 2 && toks[1].upper() == "QUERY" && toks[2].upper() == "PLAN" {
			v.Statement = "EXPLAIN QUERY PLAN"
			inner = toks[3:]
		}
		if len(inner) == 0 {
			return Verdict{Kind: Unknown}, parseRefusal("SQLite", "EXPLAIN without a statement")
		}
		iv, err := sqliteFaceValue(inner)
		if err != nil {
			return iv, err
		}
		if iv.Kind != Read {
			v.Construct = "EXPLAIN of " + iv.Statement
			v.Reason = "explaining a statement compiles it, which a read-only connection refuses for anything but a read"
			return set(iv.Kind)
		}
		return set(Read)
	case "WITH":
		main, err := sqliteAfterWith(toks)
		if err != nil {
			return Verdict{Kind: Unknown}, parseRefusal("SQLite", err.Error())
		}
		v.Statement = main
		switch main {
		case "SELECT", "VALUES":
			return set(Read)
		case "INSERT", "REPLACE", "UPDATE", "DELETE":
			return set(Write)
		}
		return Verdict{Kind: Unknown}, parseRefusal("SQLite", "WITH must lead to SELECT, VALUES, INSERT, REPLACE, UPDATE or DELETE, not "+main)
	case "INSERT", "REPLACE", "UPDATE", "DELETE":
		return set(Write)
	case "CREATE", "DROP", "ALTER":
		v.Statement = sqliteObjectName(toks)
		return set(DDL)
	case "ATTACH":
		v.Statement, v.Construct, v.Reason = "ATTACH", "ATTACH", "ATTACH opens or creates another database file"
		return set(Admin)
	case "DETACH", "REINDEX", "ANALYZE":
		return set(Admin)
	case "VACUUM":
		for _, t := range toks[1:] {
			if t.upper() == "INTO" {
				v.Construct, v.Reason = "VACUUM INTO", "VACUUM INTO writes a copy of the database to a file"
			}
		}
		return set(Admin)
	case "PRAGMA":
		return sqlitePragma(toks), nil
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return set(Tx)
	}
	if first == "" {
		first = toks[0].text
	}
	return Verdict{Kind: Unknown}, parseRefusal("SQLite", fmt.Sprintf("a statement cannot start with %q", first))
}

// sqliteAfterWith skips the common table expressions of a WITH clause
// and returns the main statement's keyword.
func sqliteAfterWith(toks []sqlTok) (string, error) {
	i := 1
	if i < len(toks) && toks[i].upper() == "RECURSIVE" {
		i++
	}
	for {
		if i >= len(toks) || (toks[i].kind != tkWord && toks[i].kind != tkQuoted && toks[i].kind != tkString) {
			return "", fmt.Errorf("WITH needs a table name")
		}
		i++
		if i < len(toks) && toks[i].kind == tkLParen {
			if i = skipParens(toks, i); i < 0 {
				return "", fmt.Errorf("unbalanced parentheses in WITH")
			}
		}
		if i >= len(toks) || toks[i].upper() != "AS" {
			return "", fmt.Errorf("WITH table needs AS")
		}
		i++
		if i < len(toks) && toks[i].upper() == "NOT" {
			i++
		}
		if i < len(toks) && toks[i].upper() == "MATERIALIZED" {
			i++
		}
		if i >= len(toks) || toks[i].kind != tkLParen {
			return "", fmt.Errorf("WITH table needs a parenthesized query")
		}
		if i = skipParens(toks, i); i < 0 {
			return "", fmt.Errorf("unbalanced parentheses in WITH")
		}
		if i < len(toks) && toks[i].kind == tkComma {
			i++
			continue
		}
		break
	}
	if i >= len(toks) || toks[i].kind != tkWord {
		return "", fmt.Errorf("WITH is not followed by a statement")
	}
	return toks[i].upper(), nil
}

// skipParens returns the index after the parenthesis opened at i, or -1.
func skipParens(toks []sqlTok, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i].kind {
		case tkLParen:
			depth++
		case tkRParen:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// sqliteObjectName names CREATE/DROP/ALTER statements: "CREATE TABLE",
// "CREATE UNIQUE INDEX", "DROP VIEW" ...
func sqliteObjectName(toks []sqlTok) string {
	words := []string{toks[0].upper()}
	for _, t := range toks[1:] {
		w := t.upper()
		switch w {
		case "TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL":
			words = append(words, w)
			continue
		case "TABLE", "INDEX", "VIEW", "TRIGGER":
			words = append(words, w)
		}
		break
	}
	return strings.Join(words, " ")
}

// sqlitePragma classifies PRAGMA [schema.]name [= value | (value)].
func sqlitePragma(toks []sqlTok) Verdict {
	v := Verdict{Kind: Admin, Statement: "PRAGMA"}
	rest := toks[1:]
	if len(rest) >= 2 && rest[1].kind == tkDot {
		rest = rest[2:]
	}
	if len(rest) == 0 || (rest[0].kind != tkWord && rest[0].kind != tkQuoted) {
		v.Reason = "the PRAGMA could not be understood"
		return v
	}
	name := rest[0].name()
	v.Construct = "PRAGMA " + name
	switch {
	case len(rest) == 1 && sqliteReadPragmas[name]:
		return Verdict{Kind: Read, Statement: "PRAGMA"}
	case len(rest) >= 3 && rest[1].kind == tkLParen && rest[len(rest)-1].kind == tkRParen && sqliteArgPragmas[name]:
		return Verdict{Kind: Read, Statement: "PRAGMA"}
	case len(rest) >= 2 && rest[1].kind == tkEq:
		v.Construct = "PRAGMA " + name + "="
		v.Reason = "setting a pragma changes how the database behaves"
	case sqliteReadPragmas[name]:
		v.Reason = "PRAGMA " + name + " with an argument changes a setting"
	default:
		v.Reason = "PRAGMA " + name + " is not on the guard's list of reporting pragmas"
	}
	return v
}
