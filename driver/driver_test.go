package driver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/driver"
)

func TestParseObjectID_RejectsBadInput(t *testing.T) {
	for _, s := range []string{"", "abc", "zz" + string(make([]byte, 62)), "A" + string(make([]byte, 63))} {
		_, err := driver.ParseObjectID(s)
		require.ErrorIs(t, err, driver.ErrBadObjectID, "%q", s)
	}
}

func TestParseObjectID_ReadsWhatStringWrites(t *testing.T) {
	var id driver.ObjectID
	for i := range id {
		id[i] = byte(i * 7)
	}
	got, err := driver.ParseObjectID(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, got)
}
