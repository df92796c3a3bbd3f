package dokv_test

import (
	"testing"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/internal/conformance"
)

func TestConformance_MemoryNamespace(t *testing.T) {
	conformance.Run(t, func(t *testing.T) dokv.Namespace {
		return dokv.NewMemoryNamespace()
	})
}
