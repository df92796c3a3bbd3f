package dokv_test

import (
	"context"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/dokv/dokv"
)

// FuzzStore_Key checks key validation and routing end to end: any string is
// either refused with ErrInvalidKey, storing nothing, or round-trips through
// Set, Get, List and Delete in every partitioning; nothing panics.
func FuzzStore_Key(f *testing.F) {
	for _, k := range []string{"k", "", "{tag}/x", "{}", "a{b", "\xff", "日本", "0:k", string(make([]byte, 2049))} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		ctx := context.Background()
		ns := dokv.NewMemoryNamespace()
		for _, p := range []dokv.Partitioning{dokv.PerKey(), dokv.SingleObject("o"), dokv.HashShards(3)} {
			s, err := dokv.New[string](ns, dokv.WithPartitioning(p), dokv.WithPrefix("fuzz"))
			if err != nil {
				t.Fatal(err)
			}
			valid := key != "" && len(key) <= dokv.MaxKeyBytes && utf8.ValidString(key)
			err = s.Set(ctx, key, "v")
			if !valid {
				if !errors.Is(err, dokv.ErrInvalidKey) {
					t.Fatalf("%v: Set(%q) = %v, want ErrInvalidKey", p, key, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%v: Set(%q): %v", p, key, err)
			}
			if got, err := s.Get(ctx, key); err != nil || got != "v" {
				t.Fatalf("%v: Get(%q) = %q, %v", p, key, got, err)
			}
			if p.String() != dokv.PerKey().String() {
				n := 0
				for e, err := range s.List(ctx, dokv.ListOptions{}) {
					if err != nil || e.Key != key {
						t.Fatalf("%v: List yields %q, %v; want only %q", p, e.Key, err, key)
					}
					n++
				}
				if n != 1 {
					t.Fatalf("%v: List yields %d keys, want 1", p, n)
				}
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("%v: Delete(%q): %v", p, key, err)
			}
		}
	})
}
