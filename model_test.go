package dokv_test

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/modelcheck"
)

// TestStore_MatchesModel compares a store on the memory namespace with a
// plain map over random operations (internal/modelcheck).
func TestStore_MatchesModel(t *testing.T) {
	modelcheck.Run(t, func(*testing.T) dokv.Namespace { return dokv.NewMemoryNamespace() })
}
