package correlation

import (
	"context"
	"testing"
)

func TestEnsureKeepsExistingID(t *testing.T) {
	ctx, id := Ensure(context.Background())
	if len(id) != 16 || From(ctx) != id {
		t.Fatalf("Ensure made %q, context holds %q", id, From(ctx))
	}
	ctx2, id2 := Ensure(ctx)
	if id2 != id || From(ctx2) != id {
		t.Fatalf("Ensure replaced %q with %q", id, id2)
	}
	if New() == New() {
		t.Fatal("two new ids are equal")
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc-123_X.y", true},
		{"", false},
		{"a\nb", false},
		{"a b", false},
		{"{\"x\":1}", false},
		{string(make([]byte, 65)), false},
	} {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
