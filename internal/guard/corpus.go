package guard

import (
	"embed"
	"fmt"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// corpusFS holds the statement corpus: one file per dialect, one case
// per block. A block starts with a line "-- expect: <outcome>" and its
// statement is every following line up to the next such line; lines
// starting with "--- " are notes, and trailing blank lines are dropped.
// Outcomes: read, write, ddl, admin (Check succeeds with that kind), tx
// (refused as transaction control) and refuse (any refusal).
//
//go:embed testdata/corpus/*.txt testdata/corpus/*.sql
var corpusFS embed.FS

// CorpusCase is one statement of the corpus with its expected outcome.
type CorpusCase struct {
	Line   int    // line of the statement's first line in its file
	SQL    string // the statement text
	Expect string // read, write, ddl, admin, tx or refuse
}

// Expectations a corpus case may state.
var corpusOutcomes = map[string]bool{"read": true, "write": true, "ddl": true, "admin": true, "tx": true, "refuse": true}

// LoadCorpus returns the corpus cases for dialect d.
func LoadCorpus(d engine.Dialect) ([]CorpusCase, error) {
	name := "testdata/corpus/" + string(d) + ".txt"
	b, err := corpusFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("guard: load corpus %s: %w", name, err)
	}
	var cases []CorpusCase
	var cur *CorpusCase
	var body []string
	flush := func() {
		if cur == nil {
			return
		}
		for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
			body = body[:len(body)-1]
		}
		cur.SQL = strings.Join(body, "\n")
		cases = append(cases, *cur)
		cur, body = nil, nil
	}
	for i, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "-- expect:"); ok {
			flush()
			exp := strings.TrimSpace(rest)
			if !corpusOutcomes[exp] {
				return nil, fmt.Errorf("guard: corpus %s line %d: unknown outcome %q", name, i+1, exp)
			}
			cur = &CorpusCase{Line: i + 2, Expect: exp}
			continue
		}
		if strings.HasPrefix(line, "--- ") || cur == nil {
			continue
		}
		body = append(body, line)
	}
	flush()
	for _, c := range cases {
		if strings.TrimSpace(c.SQL) == "" && c.Expect != "refuse" {
			return nil, fmt.Errorf("guard: corpus %s line %d: empty statement", name, c.Line)
		}
	}
	return cases, nil
}

// Fixture returns the DDL that creates the tables the corpus of dialect
// d runs against: customers, orders and t.
func Fixture(d engine.Dialect) (string, error) {
	name := "testdata/corpus/fixture_" + string(d) + ".sql"
	b, err := corpusFS.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("guard: load fixture %s: %w", name, err)
	}
	return string(b), nil
}
