package guard

import (
	"errors"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

var allDialects = []engine.Dialect{engine.Postgres, engine.MySQL, engine.SQLite, engine.SQLServer}

// minCorpus is the least number of cases each corpus must hold.
var minCorpus = map[engine.Dialect]int{engine.Postgres: 150, engine.MySQL: 150, engine.SQLite: 150, engine.SQLServer: 60}

// outcome names what Check did, in the corpus's words.
func outcome(v Verdict, err error) string {
	if err == nil {
		return string(v.Kind)
	}
	var r *Refusal
	if errors.As(err, &r) && r.Kind == Tx {
		return "tx"
	}
	return "refuse"
}

func TestCorpus(t *testing.T) {
	for _, d := range allDialects {
		t.Run(string(d), func(t *testing.T) {
			cases, err := LoadCorpus(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) < minCorpus[d] {
				t.Errorf("corpus has %d cases, want at least %d", len(cases), minCorpus[d])
			}
			counts := map[string]int{}
			for _, c := range cases {
				v, err := Check(d, c.SQL)
				got := outcome(v, err)
				counts[c.Expect]++
				if got != c.Expect {
					t.Errorf("%s.txt:%d: %q: got %s (verdict %+v, err %v), want %s", d, c.Line, c.SQL, got, v, err, c.Expect)
				}
				if err != nil && !errors.Is(err, ErrRefused) {
					t.Errorf("%s.txt:%d: error %v does not wrap ErrRefused", d, c.Line, err)
				}
				if err == nil && v.Statement == "" {
					t.Errorf("%s.txt:%d: verdict %+v names no statement", d, c.Line, v)
				}
			}
			t.Logf("%s: %d cases %v", d, len(cases), counts)
		})
	}
}
