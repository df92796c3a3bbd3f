package dokv

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dokv/dokv/internal/workers"
)

func TestCallError_MapsRuntimeFlags(t *testing.T) {
	cases := []struct {
		name  string
		ce    workers.CallError
		is    []error
		isNot []error
	}{
		{"overloaded", workers.CallError{Message: "too busy", Overloaded: true, Retryable: true},
			[]error{ErrOverloaded}, []error{ErrUnavailable, ErrUnknownOutcome}},
		{"retryable", workers.CallError{Message: "network blip", Retryable: true},
			[]error{ErrUnavailable, ErrUnknownOutcome}, []error{ErrOverloaded}},
		{"remote", workers.CallError{Message: "thrown by the object", Remote: true},
			[]error{ErrUnknownOutcome}, []error{ErrUnavailable, ErrOverloaded}},
		{"reset", workers.CallError{Message: "object reset", Reset: true},
			[]error{ErrUnknownOutcome}, []error{ErrUnavailable, ErrOverloaded}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := callError(&c.ce)
			assert.Contains(t, err.Error(), c.ce.Message)
			for _, target := range c.is {
				assert.True(t, errors.Is(err, target), "%v should match %v", err, target)
			}
			for _, target := range c.isNot {
				assert.False(t, errors.Is(err, target), "%v should not match %v", err, target)
			}
		})
	}
}
