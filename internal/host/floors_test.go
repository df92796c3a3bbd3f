package host

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dokv/dokv/driver"
)

func TestDroppedVersions_BoundedAndMonotonic(t *testing.T) {
	var d droppedVersions
	id := func(i int) driver.ObjectID { return driver.ObjectID{byte(i), byte(i >> 8), byte(i >> 16)} }
	for i := range 3 * maxRememberedDrops {
		d.add(id(i), uint64(1000+i))
		if i%7 == 0 {
			d.add(id(i), uint64(1000+i)) // dropped again: one entry per ID
		}
	}
	assert.LessOrEqual(t, len(d.last), maxRememberedDrops)
	assert.LessOrEqual(t, len(d.order), 2*maxRememberedDrops+1)
	assert.Equal(t, uint64(1000+3*maxRememberedDrops-1), d.take(id(3*maxRememberedDrops-1)), "a recent drop counts on from its own version")
	assert.GreaterOrEqual(t, d.take(id(0)), uint64(1000), "a forgotten drop is covered by the floor")
	assert.Equal(t, uint64(1000+2*maxRememberedDrops-1), d.take(id(123456789)), "a new ID starts above every forgotten drop")
}
