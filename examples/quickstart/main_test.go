package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The quick start's invariants are the point of the program; run each
// scenario several times so that different interleavings are exercised.
func TestScenariosHoldTheirInvariants(t *testing.T) {
	for range 5 {
		require.NoError(t, trackFlowJob(context.Background()))
		require.NoError(t, coordinateUpload(context.Background()))
		require.NoError(t, comparePartitionings(context.Background()))
	}
}
